import { DOCUMENTED_MODELS, type DocumentedModel } from './documented-models.js';
import type { EmulatorOptions } from './types.js';

/** The models one emulator serves: Together's documented ones plus those its options add. */
export type ServedModels = {
  /** Added by `extraModels`, with defaults filled in; they win over documented ones of the same id. */
  extra: readonly DocumentedModel[];
  /** What `GET /v1/models` lists: extra models, then the documented ones not retired. */
  listed: readonly DocumentedModel[];
  /** Unix seconds, shown as every model's `created`. */
  createdAt: number;
};

export function servedModels(extraModels: EmulatorOptions['extraModels'] = []): ServedModels {
  const extra: DocumentedModel[] = extraModels.map((model) => ({
    displayName: model.id,
    organization: organizationOf(model.id),
    partner: false,
    rejects: [],
    safetyCheckerCanBeDisabled: true,
    ...model,
  }));
  const documented = DOCUMENTED_MODELS.filter((model) => !model.retired && !extra.some((each) => each.id === model.id));
  return { extra, listed: [...extra, ...documented], createdAt: Math.floor(Date.now() / 1000) };
}

/** `ModelInfo` of the official schema; prices are not part of the emulator's account (0). */
export function describeModel(model: DocumentedModel, createdAt: number) {
  return {
    id: model.id,
    object: 'model',
    created: createdAt,
    type: 'image',
    display_name: model.displayName,
    organization: model.organization,
    link: `https://api.together.ai/models/${model.id}`,
    license: '',
    context_length: 0,
    pricing: { base: 0, input: 0, output: 0, hourly: 0, finetune: 0 },
  };
}

/** `black-forest-labs/FLUX.1-dev` → `Black Forest Labs`. */
function organizationOf(modelId: string): string {
  const owner = modelId.split('/')[0] ?? modelId;
  return owner
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
