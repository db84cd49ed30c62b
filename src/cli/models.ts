import { Command } from 'commander';
import { listModels, type ModelCapabilities } from '../catalog.js';
// Every built-in provider adds its models to the catalog when imported.
import '../providers/index.js';
import type { CliIO } from './output.js';
import { UsageError } from './output.js';

/** `imagegen models`: the catalog, with what each model accepts and its price estimate. */
export function modelsCommand(io: CliIO): Command {
  return new Command('models')
    .description('list the models in the catalog, what each accepts, and its price estimate')
    .option('-p, --provider <name>', 'only this provider')
    .option('--json', 'print JSON')
    .action((flags: { provider?: string; json?: boolean }) => {
      const models = listModels(flags.provider === undefined ? {} : { provider: flags.provider });
      if (models.length === 0) {
        const providers = [...new Set(listModels().map((model) => model.provider))];
        throw new UsageError(`no models for provider "${flags.provider}"; providers in the catalog: ${providers.join(', ')}`);
      }
      if (flags.json) {
        // Prices are public observations, not quotes: the field name says so.
        const entries = models.map(({ price, ...model }) => ({ id: `${model.provider}:${model.modelId}`, ...model, estimatedPrice: price ?? null }));
        io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      const rows = models.map(describe);
      const headers = ['model', 'size', 'steps', 'per call', 'inputs', 'price (estimate)'];
      const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
      const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
      io.stdout(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
      io.stdout('Prices are estimates from public observations; override them with setPriceOverrides().\n');
    });
}

function describe(model: ModelCapabilities): string[] {
  const size =
    model.sizing === 'aspect-ratio'
      ? `ratio ${model.aspectRatios.join(' ')}`
      : `${model.dimensions.min}-${model.dimensions.max} /${model.dimensions.multipleOf}`;
  const steps = model.steps ? `${model.steps.min}-${model.steps.max} (${model.steps.default})` : '-';
  const inputs = [
    model.imageInput.kind === 'none' ? undefined : `${model.imageInput.kind} (${model.imageInput.max})`,
    model.negativePrompt ? 'negative' : undefined,
    model.guidance ? 'guidance' : undefined,
    model.maxLoras > 0 ? `LoRAs (${model.maxLoras})` : undefined,
    model.safetyCheckerCanBeDisabled ? undefined : 'safety always on',
  ]
    .filter(Boolean)
    .join(', ');
  const price = !model.price ? '-' : model.price.unit === 'image' ? `$${model.price.usd}/image` : `$${model.price.usd}/MP`;
  return [`${model.provider}:${model.modelId}`, size, steps, String(model.maxImagesPerCall), inputs || '-', price];
}
