import { Command } from 'commander';
import { formatPrice, isLiveModel, listModels, pricePerImage, resolveModel, type ModelCapabilities } from '../models/catalog.js';
import { closestName, suggestAnyModel, unknownProviderMessage } from '../models/did-you-mean.js';
import type { CatalogComparison } from '../models/live-models.js';
import { findAdapter } from '../providers/index.js';
import { DEFAULT_MODEL_LIST_MAX_AGE_MS, refreshModelListCached } from '../files/model-list-cache.js';
import { DEFAULT_MODEL } from '../pipeline/parse.js';
import { parseDuration } from '../util/units.js';
import type { CommandContext } from './output.js';
import { parseFlag, UsageError } from './output.js';

type ModelsFlags = { provider?: string; json?: boolean; refresh?: boolean; maxAge?: string; wide?: boolean };
type Refreshed = CatalogComparison & { fromCache: boolean; ageMs: number; total: number };

/** The table fits this many columns (a small terminal); `--wide` and `models <id>` have the rest. */
const COLUMNS = 80;
const DEFAULT_PROVIDER = DEFAULT_MODEL.slice(0, DEFAULT_MODEL.indexOf(':'));

/** `imagegen models`: the catalog, with what each model accepts and its price estimate. */
export function modelsCommand({ io, stop }: CommandContext): Command {
  return new Command('models')
    .description('list the models in the catalog, what each accepts, and its price estimate; with <model>, every detail of one')
    .argument('[model]', 'one model, as provider:model (or a model id of the default provider); any other text lists the models whose name contains it, e.g. kontext')
    .option('-p, --provider <name>', 'only this provider')
    .option('--wide', 'every column, one model a line (wider than 80 columns)')
    .option('--refresh', "read the provider's live model list (Together: GET /v1/models), cached on disk, and show what changed")
    .option('--max-age <duration>', 'with --refresh: use a cached list younger than this (0 always fetches)', '24h')
    .option('--json', 'print JSON')
    .action(async (reference: string | undefined, flags: ModelsFlags) => {
      let models = listModels(flags.provider === undefined ? {} : { provider: flags.provider });
      if (models.length === 0) {
        const providers = [...new Set(listModels().map((model) => model.provider))];
        throw new UsageError(`no models for provider "${flags.provider}"; providers in the catalog: ${providers.join(', ')}`);
      }
      let refreshed: Refreshed | undefined;
      if (flags.refresh) {
        const provider = flags.provider ?? (reference?.includes(':') ? reference.slice(0, reference.indexOf(':')) : DEFAULT_PROVIDER);
        if (findAdapter(provider)?.listModels === undefined) {
          throw new UsageError(`--refresh: ${provider} has no live model list the toolkit can read (togetherai has)`);
        }
        const maxAgeMs = flags.maxAge === undefined ? DEFAULT_MODEL_LIST_MAX_AGE_MS : parseFlag('--max-age', flags.maxAge, parseDuration);
        // The stop signal (Ctrl-C, SIGTERM, SIGHUP) cancels the fetch; the list's own deadline bounds it otherwise.
        const result = await refreshModelListCached({ provider, maxAgeMs, abortSignal: stop });
        refreshed = { ...result, total: result.list.models.length };
        // Models the release does not know run with the provider's generic capabilities: shown so.
        models = [...models, ...result.newModels.map((model) => resolveModel(provider, model.id))];
      }

      const matching = reference === undefined || isOneModel(reference, models) ? undefined : containing(reference, models);
      if (matching !== undefined) models = matching;
      if (reference !== undefined && matching === undefined) {
        const model = findOne(reference, models);
        if (flags.json) io.stdout(`${JSON.stringify(jsonEntry(model, refreshed), null, 2)}\n`);
        else io.stdout(details(model, refreshed));
        return;
      }
      if (flags.json) {
        const entries = models.map((model) => jsonEntry(model, refreshed));
        const output = refreshed
          ? { refreshed: { provider: refreshed.provider, fetchedAt: refreshed.fetchedAt, fromCache: refreshed.fromCache, models: refreshed.total }, models: entries }
          : entries;
        io.stdout(`${JSON.stringify(output, null, 2)}\n`);
        return;
      }
      io.stdout(flags.wide ? wideTable(models, refreshed) : compactTable(models, refreshed));
      if (refreshed) {
        const age = refreshed.fromCache ? `cached ${Math.round(refreshed.ageMs / 60_000)} min ago` : 'fetched now';
        io.stdout(
          paragraph(
            `${refreshed.provider} live list (${age}, ${refreshed.fetchedAt}): ${refreshed.total} image models; ` +
              `${refreshed.newModels.length} not in this release (generic capabilities, unchecked), ` +
              `${refreshed.unlistedModels.length} catalog models no longer listed.`,
            flags.wide ? Infinity : COLUMNS,
          ),
        );
      }
      io.stdout(
        paragraph(
          'Prices are estimates from public observations, in USD for one image at the default size and steps ' +
            '(`imagegen models <model>` shows the billing basis); override them with --price <model>=0.03/image ' +
            '(or /MP) or the "prices" of imagegen.config.json.',
          flags.wide ? Infinity : COLUMNS,
        ),
      );
    });
}

/** Prices are public observations, not quotes: the field name says so. */
function jsonEntry({ price, ...model }: ModelCapabilities, refreshed: Refreshed | undefined) {
  return {
    id: `${model.provider}:${model.modelId}`,
    ...model,
    estimatedPrice: price ?? null,
    estimatedUsdPerImage: pricePerImage({ ...model, price }) ?? null,
    ...(refreshed && model.provider === refreshed.provider ? { listed: !isUnlisted(model, refreshed) } : {}),
  };
}

/** Whether `reference` names one model exactly (as `provider:model` or a bare id), or has a provider prefix. */
function isOneModel(reference: string, models: readonly ModelCapabilities[]): boolean {
  return reference.includes(':') || models.some((model) => model.modelId === reference);
}

/** The models whose id or display name contains `text` (any case), or `undefined` when none does. */
function containing(text: string, models: readonly ModelCapabilities[]): ModelCapabilities[] | undefined {
  const needle = text.toLowerCase();
  const found = models.filter((model) => `${model.provider}:${model.modelId}\n${model.displayName}`.toLowerCase().includes(needle));
  return found.length === 0 ? undefined : found;
}

/**
 * `provider:model`, or a bare id looked up in the default provider first and then every other one.
 * An unknown one is a usage error with the nearest known id.
 */
function findOne(reference: string, models: readonly ModelCapabilities[]): ModelCapabilities {
  const colon = reference.indexOf(':');
  const provider = colon > 0 ? reference.slice(0, colon) : undefined;
  const providers = [...new Set(listModels().map((model) => model.provider))];
  if (provider !== undefined && !providers.includes(provider) && findAdapter(provider) === undefined) {
    throw new UsageError(unknownProviderMessage(provider, providers));
  }
  const byId = (model: ModelCapabilities) => `${model.provider}:${model.modelId}`;
  const exact =
    models.find((model) => byId(model) === reference) ??
    (provider === undefined ? [...models].sort(defaultProviderFirst).find((model) => model.modelId === reference) : undefined);
  if (exact !== undefined) return exact;
  if (provider !== undefined && isLiveModel(provider, reference.slice(colon + 1))) return resolveModel(provider, reference.slice(colon + 1));
  // Without a provider, the model of the same name first, never another provider's look-alike.
  const suggested = provider === undefined ? suggestAnyModel(reference) : closestName(reference, models.map(byId));
  throw new UsageError(
    `unknown model "${reference}"` +
      (suggested === undefined ? '.' : `; did you mean "${suggested}"?`) +
      ' Run `imagegen models` for the list' +
      (provider === undefined || findAdapter(provider)?.listModels === undefined ? '.' : ` (\`imagegen models --refresh\` reads ${provider}'s live list).`),
  );
}

const rank = (model: ModelCapabilities) => (model.provider === DEFAULT_PROVIDER ? 0 : model.provider === 'local' ? 1 : 2);
/** Together first, then local, then the other providers by name; models keep catalog order within each. */
const defaultProviderFirst = (first: ModelCapabilities, second: ModelCapabilities) =>
  rank(first) - rank(second) || (rank(first) === 2 ? first.provider.localeCompare(second.provider) : 0);

/** One mark a row: default, deprecated, new (not in this release), no longer listed. */
const MARKS = [
  { mark: '*', meaning: 'default model', applies: (model: ModelCapabilities) => `${model.provider}:${model.modelId}` === DEFAULT_MODEL },
  { mark: '!', meaning: 'deprecated', applies: (model: ModelCapabilities) => model.deprecated !== undefined },
  { mark: '?', meaning: 'new: generic capabilities, unchecked', applies: (model: ModelCapabilities) => !model.known },
  { mark: '~', meaning: 'no longer in the live list', applies: (model: ModelCapabilities, refreshed?: Refreshed) => refreshed !== undefined && isUnlisted(model, refreshed) },
] as const;

const unlistedIds = new WeakMap<CatalogComparison, Set<string>>();

function isUnlisted(model: { provider: string; modelId: string }, refreshed: CatalogComparison): boolean {
  let ids = unlistedIds.get(refreshed);
  if (ids === undefined) unlistedIds.set(refreshed, (ids = new Set(refreshed.unlistedModels.map((each) => each.modelId))));
  return refreshed.provider === model.provider && ids.has(model.modelId);
}

/**
 * The 80-column table: providers in sections (the default first, deprecated models last in theirs),
 * one short cell per column and prices in one unit; an id too long for its column gets a line of its own.
 */
function compactTable(models: readonly ModelCapabilities[], refreshed: Refreshed | undefined): string {
  const headers = ['model', 'size', 'n', 'steps', 'img in', '$/image'];
  const sections = new Map<string, ModelCapabilities[]>();
  const ordered = [...models].sort((first, second) => defaultProviderFirst(first, second) || Number(first.deprecated !== undefined) - Number(second.deprecated !== undefined));
  for (const model of ordered) {
    const members = sections.get(model.provider);
    if (members === undefined) sections.set(model.provider, [model]);
    else members.push(model);
  }
  const rows = [...sections.values()].flat().map((model) => ({
    model,
    mark: MARKS.find(({ applies }) => applies(model, refreshed))?.mark ?? ' ',
    cells: [model.modelId, sizeCell(model), String(model.maxImagesPerCall), model.steps ? `${model.steps.min}-${model.steps.max}` : '-', inputCell(model), priceCell(model)],
  }));
  // n is at least two wide, so a one-space gap still parts it from the size.
  const widths = headers.map((header, column) => Math.max(column === 2 ? 2 : header.length, ...rows.map((row) => (column === 0 ? 0 : row.cells[column]!.length))));
  // Two spaces between columns, one before the right-aligned n.
  const gap = (column: number) => (column === 2 ? 1 : 2);
  const rest = widths.slice(1).reduce((sum, width, index) => sum + width + gap(index + 1), 0);
  widths[0] = Math.min(COLUMNS - 2 - rest, Math.max(headers[0]!.length, ...rows.map((row) => row.cells[0]!.length)));
  const rightAligned = new Set([2, 5]);
  const line = (mark: string, cells: string[]) =>
    `${mark} ${cells.map((cell, column) => `${column === 0 ? '' : ' '.repeat(gap(column))}${rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)}`).join('')}`.trimEnd();

  const out = [line(' ', headers)];
  // Rows are in section order already: a section's rows are those of its provider (a scan, not a search per row).
  for (const provider of sections.keys()) {
    out.push(`${provider}${provider === DEFAULT_PROVIDER ? ' (default provider)' : provider === 'local' ? ' (offline placeholder, no key)' : ''}`);
    for (const row of rows.filter((each) => each.model.provider === provider)) {
      const [id, ...others] = row.cells;
      if (id!.length <= widths[0]!) {
        out.push(line(row.mark, row.cells));
      } else {
        out.push(`${row.mark} ${id}`);
        out.push(line(' ', ['', ...others]));
      }
    }
  }
  const used = MARKS.filter(({ mark }) => rows.some((row) => row.mark === mark));
  const legend = [
    ...used.map(({ mark, meaning }) => `${mark} ${meaning}`),
    'size: pixels per side min-max/multiple, or the ratios or sizes it takes',
    'n: images per call',
    `img in: input images it takes (url: one, by URL${rows.some((row) => row.model.acceptsMask) ? '; +m: and a mask' : ''})`,
  ].join('; ');
  const deprecations = rows
    .filter((row) => row.model.deprecated !== undefined)
    .map(({ model }) => `${model.provider}:${model.modelId}: ${deprecationText(model)}`);
  return [
    ...out,
    ...paragraph(`${legend}. Every detail: imagegen models <model> (or --wide).`, COLUMNS).trimEnd().split('\n'),
    ...(deprecations.length === 0 ? [] : ['Deprecated:', ...deprecations.flatMap((text) => paragraph(text, COLUMNS, '    ', '  ').trimEnd().split('\n'))]),
    '',
  ].join('\n');
}

function sizeCell(model: ModelCapabilities): string {
  if (model.allowedSizes !== undefined) return `${model.allowedSizes.length} sizes`;
  if (model.sizing === 'aspect-ratio') return `${model.aspectRatios.length} ratios`;
  return `${model.dimensions.min}-${model.dimensions.max}/${model.dimensions.multipleOf}`;
}

function inputCell({ imageInput, acceptsMask }: ModelCapabilities): string {
  if (imageInput.kind === 'none') return '-';
  const mask = acceptsMask ? '+m' : '';
  if (imageInput.kind === 'image_url') return `url${mask}`;
  return `${imageInput.max}${mask}`;
}

function priceCell(model: ModelCapabilities): string {
  const perImage = pricePerImage(model);
  // Fixed decimals line the column up; `models <model>` has the unrounded figure.
  return perImage === undefined ? '-' : perImage === 0 ? '0' : perImage < 0.0001 ? '<0.0001' : perImage.toFixed(4);
}

function deprecationText({ deprecated }: ModelCapabilities): string {
  if (deprecated === undefined) return '';
  return `${deprecated.status}${deprecated.date === undefined ? '' : ` ${deprecated.date}`}; use ${deprecated.replacement}`;
}

/** The table before it had to fit 80 columns: one model a line, every column. */
function wideTable(models: readonly ModelCapabilities[], refreshed: Refreshed | undefined): string {
  const rows = [...models].sort(defaultProviderFirst).map((model) => [...describe(model), statusOf(model, refreshed)]);
  const headers = ['model', 'size', 'steps', 'per call', 'img in', 'USD/image (estimate)', 'status'];
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const deprecations = models
    .filter((model) => model.deprecated !== undefined)
    .map((model) => `deprecated: ${model.provider}:${model.modelId} (${deprecationText(model).replace('; use', '); use')}`);
  return `${[line(headers), ...rows.map(line), ...deprecations].join('\n')}\n`;
}

function statusOf(model: ModelCapabilities, refreshed: Refreshed | undefined): string {
  const marks: string[] = [];
  if (`${model.provider}:${model.modelId}` === DEFAULT_MODEL) marks.push('default');
  if (!model.known) marks.push('new: generic, unchecked');
  if (model.deprecated !== undefined) marks.push('deprecated');
  if (refreshed !== undefined && isUnlisted(model, refreshed)) marks.push('not listed');
  return marks.join(', ');
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
    model.acceptsMask ? 'mask' : undefined,
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

/** `imagegen models <model>`: everything the catalog knows about one model, wrapped to 80 columns. */
function details(model: ModelCapabilities, refreshed: Refreshed | undefined): string {
  const id = `${model.provider}:${model.modelId}`;
  const { dimensions, steps, guidance, imageInput } = model;
  const perImage = pricePerImage(model);
  const fields: [string, string | undefined][] = [
    ['name', model.displayName],
    ['status', [statusOf(model, refreshed).replace(/^deprecated$|deprecated, /, ''), deprecationText(model)].filter(Boolean).join('; ') || undefined],
    [
      'size',
      model.allowedSizes !== undefined
        ? `one of ${model.allowedSizes.join(', ')}`
        : model.sizing === 'aspect-ratio'
          ? `an aspect ratio: ${model.aspectRatios.join(', ')}`
          : `${dimensions.min}-${dimensions.max} px per side, a multiple of ${dimensions.multipleOf}`,
    ],
    ['default size', `${dimensions.default.width}x${dimensions.default.height}`],
    ['ratios', model.sizing === 'dimensions' && model.allowedSizes === undefined ? `${model.aspectRatios.join(', ')} (turned into a size)` : undefined],
    ['steps', steps ? `${steps.min}-${steps.max}, default ${steps.default}` : 'not taken'],
    ['images per call', `${model.maxImagesPerCall}${model.acceptsN ? '' : ' (n is not sent: one request per image)'}`],
    ['seed', model.acceptsSeed ? 'yes' : 'no'],
    ['negative', model.negativePrompt ? 'yes' : 'no'],
    ['guidance', guidance ? `${guidance.min}-${guidance.max}, default ${guidance.default}${model.guidanceParameter ? ` (sent as ${model.guidanceParameter})` : ''}` : 'not taken'],
    [
      'image input',
      imageInput.kind === 'none'
        ? 'none'
        : imageInput.kind === 'image_url'
          ? 'one image, by URL (image_url)'
          : `up to ${imageInput.max} reference images${imageInput.alsoImageUrl ? ' (or one as image_url)' : ''}`,
    ],
    ['mask', model.acceptsMask ? 'yes: repaints where it is white, or transparent' : undefined],
    ['LoRAs', model.maxLoras > 0 ? `up to ${model.maxLoras}` : 'none'],
    ['safety checker', model.safetyCheckerCanBeDisabled ? 'on; can be turned off' : 'always on'],
    ['prompt upsampling', model.promptUpsampling ? 'yes (on by default)' : undefined],
    ['formats', model.outputFormats.join(', ')],
    [
      'price',
      model.price === undefined
        ? 'unknown (set one with --price)'
        : `${formatPrice(model.price)} (estimate)` +
          (perImage === undefined ? '' : ` = $${formatUsd(perImage)} for one ${dimensions.default.width}x${dimensions.default.height} image${steps ? ` at ${steps.default} steps` : ''}`),
    ],
    ['notes', model.notes],
  ];
  const label = Math.max(...fields.map(([name]) => name.length)) + 2;
  const lines = fields
    .filter((field): field is [string, string] => field[1] !== undefined)
    .map(([name, value]) => paragraph(`${name.padEnd(label)}${value}`, COLUMNS, ' '.repeat(label)));
  return `${id}${id === DEFAULT_MODEL ? '  (default model)' : ''}\n${lines.join('')}`;
}

/** Word-wrapped to `width` columns, continuation lines indented; a word longer than a line stays whole. */
function paragraph(text: string, width: number, indent = '', firstIndent = ''): string {
  const lines: string[] = [];
  let current = firstIndent;
  for (const word of text.split(' ')) {
    const candidate = current.trim() === '' ? `${current}${word}` : `${current} ${word}`;
    if (candidate.length <= width || current.trim() === '') current = candidate;
    else {
      lines.push(current);
      current = `${indent}${word}`;
    }
  }
  lines.push(current);
  return `${lines.join('\n')}\n`;
}

/** Four significant digits, no exponent: 0.002831, 0.04194, 0.134. */
function formatUsd(value: number): string {
  if (value === 0) return '0';
  return Number(value.toPrecision(4)).toString();
}
