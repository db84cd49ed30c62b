/**
 * The MCP server behind `imagegen mcp`: `generate_image` and `list_models` over the official MCP SDK.
 * Node only, and loaded only by that command, so no library entry pulls the SDK in.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod/v4';
import { listModels as catalogModels, type ModelCapabilities } from '../models/catalog.js';
import type { CatalogComparison } from '../models/live-models.js';
import { refreshModelListCached } from '../files/model-list-cache.js';
import { inDoorWords } from '../errors/doors.js';
import { isRetired } from '../models/retired.js';
import { redactSecrets } from '../errors/errors.js';
import { confinedImageReader, saveImages } from '../files/files.js';
import { checkCanKeep } from '../files/folder-checks.js';
import { generateImages } from '../node/index.js';
import { MAX_SEED, type GenerateRequest } from '../pipeline/parse.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import { Budget, costOfDelivery } from '../pipeline/budget.js';
import { resolveTelemetry, telemetryOptionsOf, type TelemetryOptions } from '../telemetry/settings.js';

export type ImagegenMcpServerOptions = TelemetryOptions & {
  /** Where images and their sidecars are saved. */
  outDir: string;
  /** The model used when a call names none. */
  model: string;
  /** Models a call may name; `undefined` allows any `"provider:modelId"` the toolkit can resolve. */
  allowModels?: readonly string[] | undefined;
  /** Most images in one call. */
  maxCount: number;
  /** The server's version, reported to clients. */
  version: string;
  providers?: ProvidersOption | undefined;
  /**
   * Asks the provider for its current list, for `list_models` with `refresh: true`.
   * @default Together's `GET /v1/models`, cached on disk for a day (`refreshModelListCached`)
   */
  refreshModels?: (() => Promise<CatalogComparison>) | undefined;
  /** Log lines (never stdout, which carries the protocol). */
  log: (line: string) => void;
  /**
   * The most every `generate_image` call of this server together may cost, in USD (`--max-cost`),
   * as an agent may loop: a call past it is an error result, nothing sent.
   */
  maxCostUsd?: number | undefined;
  /**
   * Folders `referenceImages` may name files in; any other path gets one error, whether or not it
   * exists. @default [outDir, the working directory]
   */
  allowDirs?: readonly string[] | undefined;
};

/** The longest prompt a call may give: far past any model's, short enough to render and log at once. */
const MAX_PROMPT_CHARACTERS = 32_000;

const DESCRIPTIONS = {
  prompt: 'What the image shows: subject, setting, style, lighting, composition. A detailed visual description in English.',
  size: 'Width x height in pixels, e.g. "1344x768", or square, landscape, portrait, photo, classic. Give size or aspectRatio, not both.',
  aspectRatio: 'Shape as width:height, e.g. "16:9"; list_models shows the ratios each model takes. Give size or aspectRatio, not both.',
  seed: 'Seed for reproducible results; reuse one from an earlier image to vary it. Random when omitted.',
  negativePrompt: 'What the image must not show, for models that take it.',
  steps: "Diffusion steps, within the model's range (see list_models); leave out for the model's default.",
  referenceImages: 'Images to edit or use as reference, for models that take them: file paths or http(s) URLs.',
  mask: 'Where to repaint the first reference image, for models that take a mask (list_models: mask): white (or transparent) where to repaint, black where to keep. A PNG or JPEG file path or an http(s) URL.',
};

/** Builds the server with its two tools (not yet connected to a transport). */
export function createImagegenMcpServer(options: ImagegenMcpServerOptions): McpServer {
  resolveTelemetry(options);
  const server = new McpServer({ name: 'ai-imagegen', version: options.version });
  const allowed = options.allowModels && [...new Set([options.model, ...options.allowModels])];
  const modelSchema = allowed ? z.enum(allowed as [string, ...string[]]) : z.string().min(1);
  // One budget for the server's life: every call a client makes is charged to it.
  const budget = options.maxCostUsd === undefined ? undefined : new Budget({ maxUsd: options.maxCostUsd, field: 'maxCostUsd' });

  server.registerTool(
    'generate_image',
    {
      title: 'Generate images',
      description:
        `Generate images from a text prompt and save them (with a .json sidecar each) under ${options.outDir}. ` +
        'Returns each image, and its saved path, size, seed and model.' +
        (budget === undefined ? '' : ` Every call together may cost at most $${budget.maxUsd}; each result says what is left.`),
      inputSchema: {
        prompt: z.string().trim().min(1).max(MAX_PROMPT_CHARACTERS).describe(DESCRIPTIONS.prompt),
        model: modelSchema.optional().describe(`"provider:modelId"; default ${options.model}.${allowed ? '' : ' list_models shows the catalog.'}`),
        size: z.string().optional().describe(DESCRIPTIONS.size),
        aspectRatio: z.string().optional().describe(DESCRIPTIONS.aspectRatio),
        count: z.number().int().min(1).max(options.maxCount).optional().describe(`How many images, 1 to ${options.maxCount}. Default 1.`),
        seed: z.number().int().min(0).max(MAX_SEED).optional().describe(DESCRIPTIONS.seed),
        negativePrompt: z.string().optional().describe(DESCRIPTIONS.negativePrompt),
        steps: z.number().int().positive().optional().describe(DESCRIPTIONS.steps),
        referenceImages: z.array(z.string().min(1)).min(1).optional().describe(DESCRIPTIONS.referenceImages),
        mask: z.string().min(1).optional().describe(DESCRIPTIONS.mask),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (input, extra) => generate(options, input, extra.signal, budget),
  );

  server.registerTool(
    'list_models',
    {
      title: 'List image models',
      description: 'The image models in the catalog and what each takes: sizes or aspect ratios, steps, images per call, negative prompt, reference images, mask, price estimate.',
      inputSchema: {
        provider: z.string().optional().describe('Only this provider, e.g. "togetherai".'),
        filter: z.string().optional().describe('Only models whose id or name contains this text (any case), e.g. "kontext".'),
        refresh: z
          .boolean()
          .optional()
          .describe("Ask the provider for its current list first (Together's GET /v1/models, cached for a day): adds models this release does not know yet, and says which catalog models are no longer listed."),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ provider, filter, refresh }) => {
      let live: CatalogComparison | undefined;
      if (refresh === true) {
        try {
          live = await (options.refreshModels ?? (() => refreshModelListCached()))();
        } catch (error) {
          const message = redactSecrets(inDoorWords(error instanceof Error ? error.message : String(error), 'mcp'));
          options.log(`list_models could not refresh: ${message}`);
          return { isError: true, content: [{ type: 'text', text: `Could not refresh the model list: ${message}` }] };
        }
      }
      const needle = filter?.toLowerCase();
      const isAllowed = (id: string, name = id) =>
        (allowed === undefined || allowed.includes(id)) && (needle === undefined || `${id}\n${name}`.toLowerCase().includes(needle));
      const listedByProvider = (model: ModelCapabilities) =>
        live === undefined || live.provider !== model.provider ? {} : { listedByProvider: live.listedModels.some((listed) => listed.modelId === model.modelId) };
      const models = catalogModels()
        .filter((model) => (provider === undefined || model.provider === provider) && isAllowed(`${model.provider}:${model.modelId}`, model.displayName))
        .map((model) => ({ ...describeModel(model, options.model), ...listedByProvider(model) }));
      // Models the provider lists that this release does not know: they run with generic capabilities, unchecked.
      const unknown = (live?.newModels ?? [])
        .map((model) => ({ id: `${live!.provider}:${model.id}`, displayName: model.displayName ?? model.id, known: false, listedByProvider: true }))
        .filter((model) => (provider === undefined || model.id.startsWith(`${provider}:`)) && isAllowed(model.id));
      // One model a line, no indentation: an agent's context is paid by the token.
      return { content: [{ type: 'text', text: `[\n${[...models, ...unknown].map((model) => JSON.stringify(model)).join(',\n')}\n]` }] };
    },
  );
  return server;
}

async function generate(
  options: ImagegenMcpServerOptions,
  input: Omit<GenerateRequest, 'model'> & { model?: string | undefined },
  abortSignal: AbortSignal,
  budget: Budget | undefined,
): Promise<CallToolResult> {
  const request: GenerateRequest = {
    ...(Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Omit<GenerateRequest, 'model'>),
    model: input.model ?? options.model,
  };
  const allowDirs = options.allowDirs ?? [options.outDir, process.cwd()];
  try {
    // Before anything is paid for: images that cannot be saved would be thrown away.
    await checkCanKeep({ folder: options.outDir, requests: [request], field: 'outDir', providers: options.providers });
    const result = await generateImages(request, {
      abortSignal,
      readFile: confinedImageReader(allowDirs),
      ...(options.providers === undefined ? {} : { providers: options.providers }),
      ...(budget === undefined ? {} : { budget }),
      ...telemetryOptionsOf(options),
    });
    const saved = await saveImages({
      images: result.images,
      outDir: options.outDir,
      warnings: result.warnings,
      durationMs: result.durationMs,
      estimatedCostUsd: result.estimatedCostUsd,
      actualCostUsd: result.actualCostUsd,
    });
    options.log(`generate_image: ${saved.length} image(s) from ${request.model} in ${result.durationMs}ms, ${result.requests} request(s)`);
    const notes = [
      ...result.warnings.map((warning) => `warning: ${warning.message}`),
      ...result.errors.map((error) => `error (fewer images than asked): ${error.message}`),
      ...(budget === undefined ? [] : [budgetNote(result, budget)]),
    ];
    return {
      content: [
        ...saved.flatMap(({ path, image }) => [
          { type: 'image' as const, data: image.base64, mimeType: image.mediaType },
          {
            type: 'text' as const,
            text: `Saved ${path} (${image.width}x${image.height}, seed ${image.seed ?? 'unknown'}, model ${image.provider}:${image.modelId})`,
          },
        ]),
        ...(notes.length > 0 ? [{ type: 'text' as const, text: redactSecrets(inDoorWords(notes.join('\n'), 'mcp')) }] : []),
      ],
    };
  } catch (error) {
    const message = redactSecrets(inDoorWords(error instanceof Error ? error.message : String(error), 'mcp'));
    options.log(`generate_image failed: ${message}`);
    return { isError: true, content: [{ type: 'text', text: message }] };
  }
}

/** `cost $0.0100; budget $0.0200 spent of $0.0500, $0.0300 left`: what the client's model needs to plan. */
function budgetNote(result: Awaited<ReturnType<typeof generateImages>>, budget: Budget): string {
  const cost = costOfDelivery({ actualCostUsd: result.actualCostUsd, estimatedCostUsd: result.estimatedCostUsd, delivered: result.images.length, requested: result.request.count });
  const usd = (value: number) => `$${value.toFixed(4)}`;
  return `cost ${cost === undefined ? 'unknown' : usd(cost)}; budget ${usd(budget.spentUsd)} spent of ${usd(budget.maxUsd)}, ${usd(budget.remainingUsd)} left`;
}

function describeModel(model: ModelCapabilities, defaultModel: string) {
  const id = `${model.provider}:${model.modelId}`;
  return {
    id,
    displayName: model.displayName,
    ...(id === defaultModel ? { default: true } : {}),
    sizing: model.sizing,
    dimensions: model.dimensions,
    aspectRatios: model.aspectRatios,
    // What a model does not take is left out rather than listed as null or 0.
    ...(model.steps === undefined ? {} : { steps: model.steps }),
    maxImagesPerCall: model.maxImagesPerCall,
    seed: model.acceptsSeed,
    negativePrompt: model.negativePrompt,
    ...(model.guidance === undefined ? {} : { guidance: model.guidance }),
    referenceImages: model.imageInput.kind === 'none' ? 0 : model.imageInput.max,
    mask: model.acceptsMask === true,
    ...(model.maxLoras === 0 ? {} : { maxLoras: model.maxLoras }),
    outputFormats: model.outputFormats,
    estimatedPrice: model.price ?? null,
    ...(model.deprecated === undefined
      ? {}
      : { status: isRetired(model) ? 'retired: refused, use the replacement' : 'deprecated: still runs', replacement: model.deprecated.replacement }),
    ...(model.notes === undefined ? {} : { notes: model.notes }),
  };
}

/**
 * Serves over stdin/stdout until the client disconnects (stdin ends) or `signal` aborts (the CLI's
 * main aborts it on Ctrl-C or SIGTERM).
 */
export async function serveOverStdio(options: ImagegenMcpServerOptions & { signal?: AbortSignal | undefined }): Promise<void> {
  const server = createImagegenMcpServer(options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  // The SDK closes the transport on a message over its 10 MB read buffer and reports it here only:
  // said on stderr and ended with an error, instead of a silent exit 0 ("Connection closed").
  let fatal: Error | undefined;
  server.server.onerror = (error) => {
    if (!/ReadBuffer exceeded maximum size/.test(error.message)) return options.log(`protocol error: ${error.message}`);
    fatal = error;
    options.log(`imagegen mcp: a message over the MCP SDK's 10 MB stdio limit arrived; closing (${error.message})`);
  };
  const stop = () => void server.close();
  process.stdin.once('end', stop);
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (options.signal?.aborted) return;
    await server.connect(transport);
    options.log(`imagegen mcp: serving on stdio; model ${options.model}; saving to ${options.outDir}`);
    await closed;
    if (fatal !== undefined) {
      throw new Error(`imagegen mcp stopped: a client message was over the MCP SDK's 10 MB stdio limit (${fatal.message})`, { cause: fatal });
    }
  } finally {
    process.stdin.off('end', stop);
    options.signal?.removeEventListener('abort', stop);
  }
}
