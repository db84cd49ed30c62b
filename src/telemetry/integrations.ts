import type { Plan } from '../shared/plan.js';
import type { RequestTotals } from './attributes.js';
import type { ResolvedTelemetry, TelemetryAttributeValue } from './settings.js';

/**
 * The AI SDK's telemetry integrations (`telemetry.integrations`): `onStart` when a request is
 * planned and `onEnd` (ai 7; ai 6's `onFinish`) when it is done, with `operationId: 'ai.generateImage'` events shaped like ai 7's
 * `GenerateSpeechStartEvent` / `GenerateSpeechEndEvent`. As in the AI SDK, an integration that
 * throws does not break the request.
 */

export type ImageGenerationStartEvent = {
  readonly callId: string;
  readonly operationId: 'ai.generateImage';
  readonly provider: string;
  readonly modelId: string;
  /** Left out when `recordInputs` is false. */
  readonly prompt: string | undefined;
  readonly n: number;
  readonly size: string | undefined;
  readonly aspectRatio: string | undefined;
  readonly seed: number | undefined;
  readonly estimatedCostUsd: number | undefined;
  readonly functionId: string | undefined;
  readonly metadata: Record<string, TelemetryAttributeValue>;
};

export type ImageGenerationEndEvent = Omit<ImageGenerationStartEvent, 'n' | 'size' | 'aspectRatio' | 'seed' | 'estimatedCostUsd'> & {
  /** Each image's media type, size and seed (never its bytes); empty when `recordOutputs` is false. */
  readonly images: readonly { mediaType: string | undefined; width: number | undefined; height: number | undefined; seed: number | undefined }[];
  /** HTTP calls made, retries included. */
  readonly requests: number;
  readonly failedCalls: number;
  readonly durationMs: number;
  readonly estimatedCostUsd: number | undefined;
  readonly actualCostUsd: number | undefined;
};

type Hook = (event: unknown) => unknown;

export async function notifyStart(telemetry: ResolvedTelemetry, { callId, plan }: { callId: string; plan: Plan }): Promise<void> {
  const event: ImageGenerationStartEvent = {
    ...common(telemetry, callId, plan),
    n: plan.resolved.count,
    size: 'size' in plan.sizing ? plan.sizing.size : undefined,
    aspectRatio: 'aspectRatio' in plan.sizing ? plan.sizing.aspectRatio : undefined,
    seed: plan.resolved.seed,
    estimatedCostUsd: plan.estimatedCostUsd,
  };
  await notify(telemetry, ['onStart'], event);
}

export async function notifyEnd(
  telemetry: ResolvedTelemetry,
  { callId, plan, totals, durationMs }: { callId: string; plan: Plan; totals: RequestTotals; durationMs: number },
): Promise<void> {
  const event: ImageGenerationEndEvent = {
    ...common(telemetry, callId, plan),
    images: telemetry.recordOutputs ? totals.images.map(({ mediaType, width, height, seed }) => ({ mediaType, width, height, seed })) : [],
    requests: totals.attempts,
    failedCalls: totals.failedCalls,
    durationMs,
    estimatedCostUsd: plan.estimatedCostUsd,
    actualCostUsd: totals.actualCostUsd,
  };
  await notify(telemetry, ['onEnd', 'onFinish'], event);
}

function common(telemetry: ResolvedTelemetry, callId: string, plan: Plan) {
  return {
    callId,
    operationId: 'ai.generateImage' as const,
    provider: plan.provider,
    modelId: plan.modelId,
    prompt: telemetry.recordInputs ? plan.prompt : undefined,
    functionId: telemetry.functionId,
    metadata: telemetry.metadata,
  };
}

/** Calls each integration's first hook of `names` it has (ai 7 ends with `onEnd`, ai 6 with `onFinish`). */
async function notify(telemetry: ResolvedTelemetry, names: readonly string[], event: unknown): Promise<void> {
  await Promise.all(
    telemetry.integrations.map(async (integration) => {
      const hooks = integration as Record<string, unknown>;
      const hook = hooks[names.find((name) => typeof hooks[name] === 'function') ?? ''];
      if (typeof hook !== 'function') return;
      try {
        await (hook as Hook).call(integration, event);
      } catch {
        // An integration's failure is its own: the request goes on (the AI SDK's `notify` does the same).
      }
    }),
  );
}
