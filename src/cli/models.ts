import { Command } from 'commander';
import { listModels, pricePerImage, resolveModel, type ModelCapabilities } from '../catalog.js';
import type { CatalogComparison } from '../live-models.js';
import { findAdapter } from '../providers/index.js';
import { DEFAULT_MODEL_LIST_MAX_AGE_MS, refreshModelListCached } from '../node/model-list-cache.js';
import { parseDuration } from '../units.js';
import type { CliIO } from './output.js';
import { parseFlag, UsageError } from './output.js';

type ModelsFlags = { provider?: string; json?: boolean; refresh?: boolean; maxAge?: string };

/** `imagegen models`: the catalog, with what each model accepts and its price estimate. */
export function modelsCommand(io: CliIO): Command {
  return new Command('models')
    .description('list the models in the catalog, what each accepts, and its price estimate')
    .option('-p, --provider <name>', 'only this provider')
    .option('--refresh', "read the provider's live model list (Together: GET /v1/models), cached on disk, and show what changed")
    .option('--max-age <duration>', 'with --refresh: use a cached list younger than this (0 always fetches)', '24h')
    .option('--json', 'print JSON')
    .action(async (flags: ModelsFlags) => {
      let models = listModels(flags.provider === undefined ? {} : { provider: flags.provider });
      if (models.length === 0) {
        const providers = [...new Set(listModels().map((model) => model.provider))];
        throw new UsageError(`no models for provider "${flags.provider}"; providers in the catalog: ${providers.join(', ')}`);
      }
      let refreshed: (CatalogComparison & { fromCache: boolean; ageMs: number; total: number }) | undefined;
      if (flags.refresh) {
        const provider = flags.provider ?? 'togetherai';
        if (findAdapter(provider)?.listModels === undefined) {
          throw new UsageError(`--refresh: ${provider} has no live model list the toolkit can read (togetherai has)`);
        }
        const maxAgeMs = flags.maxAge === undefined ? DEFAULT_MODEL_LIST_MAX_AGE_MS : parseFlag('--max-age', flags.maxAge, parseDuration);
        const result = await refreshModelListCached({ provider, maxAgeMs });
        refreshed = { ...result, total: result.list.models.length };
        // Models the release does not know run with the provider's generic capabilities: shown so.
        models = [...models, ...result.newModels.map((model) => resolveModel(provider, model.id))];
      }
      const status = (model: ModelCapabilities) => statusOf(model, refreshed);

      if (flags.json) {
        // Prices are public observations, not quotes: the field name says so.
        const entries = models.map(({ price, ...model }) => ({
          id: `${model.provider}:${model.modelId}`,
          ...model,
          estimatedPrice: price ?? null,
          estimatedUsdPerImage: pricePerImage({ ...model, price }) ?? null,
          ...(refreshed && model.provider === refreshed.provider ? { listed: !refreshed.unlistedModels.some((each) => each.modelId === model.modelId) } : {}),
        }));
        const output = refreshed
          ? { refreshed: { provider: refreshed.provider, fetchedAt: refreshed.fetchedAt, fromCache: refreshed.fromCache, models: refreshed.total }, models: entries }
          : entries;
        io.stdout(`${JSON.stringify(output, null, 2)}\n`);
        return;
      }
      const rows = models.map((model) => [...describe(model), status(model)]);
      const headers = ['model', 'size', 'steps', 'per call', 'inputs', 'USD/image (estimate)', 'status'];
      const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
      const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
      io.stdout(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
      for (const model of models) {
        if (model.deprecated === undefined) continue;
        const { status: state, date, replacement } = model.deprecated;
        io.stdout(`deprecated: ${model.provider}:${model.modelId} (${state}${date === undefined ? '' : ` ${date}`}); use ${replacement}\n`);
      }
      if (refreshed) {
        const age = refreshed.fromCache ? `cached ${Math.round(refreshed.ageMs / 60_000)} min ago` : 'fetched now';
        io.stdout(
          `${refreshed.provider} live list (${age}, ${refreshed.fetchedAt}): ${refreshed.total} image models; ` +
            `${refreshed.newModels.length} not in this release (generic capabilities, unchecked), ` +
            `${refreshed.unlistedModels.length} catalog models no longer listed.\n`,
        );
      }
      io.stdout(
        'USD/image: one image at the default size and steps, whatever the billing basis (per MP or per image; see --json).\n' +
          'Prices are estimates from public observations; override them with --price, the config file (prices) or setPriceOverrides().\n',
      );
    });
}

function statusOf(model: ModelCapabilities, refreshed: CatalogComparison | undefined): string {
  const marks: string[] = [];
  if (!model.known) marks.push('new: generic, unchecked');
  if (model.deprecated !== undefined) marks.push('deprecated');
  if (refreshed?.provider === model.provider && refreshed.unlistedModels.some((each) => each.modelId === model.modelId)) marks.push('not listed');
  return marks.join(', ') || '';
}

function describe(model: ModelCapabilities): string[] {
  const size =
    model.allowedSizes !== undefined
      ? `${model.allowedSizes.length} sizes`
      : model.sizing === 'aspect-ratio'
        ? `ratio ${model.aspectRatios.join(' ')}`
        : `${model.dimensions.min}-${model.dimensions.max} /${model.dimensions.multipleOf}`;
  const steps = model.steps ? `${model.steps.min}-${model.steps.max} (${model.steps.default})` : '-';
  const inputs = [
    model.imageInput.kind === 'none'
      ? undefined
      : `${model.imageInput.kind} (${model.imageInput.max})${model.imageInput.kind === 'reference_images' && model.imageInput.alsoImageUrl ? ' or image_url' : ''}`,
    model.negativePrompt ? 'negative' : undefined,
    model.guidance ? 'guidance' : undefined,
    model.maxLoras > 0 ? `LoRAs (${model.maxLoras})` : undefined,
    model.safetyCheckerCanBeDisabled ? undefined : 'safety always on',
  ]
    .filter(Boolean)
    .join(', ');
  const perImage = pricePerImage(model);
  const price = perImage === undefined ? '-' : `$${formatUsd(perImage)}`;
  return [`${model.provider}:${model.modelId}`, size, steps, String(model.maxImagesPerCall), inputs || '-', price];
}

/** Four significant digits, no exponent: $0.002831, $0.04194, $0.134. */
function formatUsd(value: number): string {
  if (value === 0) return '0';
  return Number(value.toPrecision(4)).toString();
}
