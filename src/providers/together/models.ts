import type { Capabilities, ModelCapabilities } from '../../shared/capabilities.js';

/**
 * Together's image models: what each takes, every fact with its source in brackets.
 *
 * Sources (read 2026-11):
 * - [models.md]  togethercomputer/skills@644d382 skills/together-images/references/models.md
 *                (synced from Together's docs): the current model table, default steps, which
 *                models take `image_url`, `reference_images`, `image_loras`, standard and
 *                Gemini 3 Pro sizes, the FLUX pricing formula.
 * - [api-ref]    same repository, references/api-reference.md: the parameter table (width/height
 *                256-1920, n 1-4, steps 1-50, `guidance` for FLUX.2 dev/flex, `prompt_upsampling`
 *                for FLUX.2, default on), the feature matrix, the official examples.
 * - [openapi]    togethercomputer/openapi@090263a openapi.yaml, POST /images/generations: the
 *                request fields (`guidance_scale`, no `guidance`, no `aspect_ratio`, no
 *                `prompt_upsampling`), `ErrorData`, `GET /models`.
 * - [prices]     docs.together.ai/docs/serverless-models, image table ("Price per MP", default
 *                steps), "How FLUX pricing works" and "How Pricing works for Gemini 3 Pro Image".
 * - [overview]   shared/reference/together-docs (images-overview): n 1-4, the safety checker
 *                ("every model except Flux Schnell Free and Flux Pro"), Kontext examples.
 * - [ref-images] docs.together.ai/docs/inference/images/reference-images: FLUX.2 pro/flex also
 *                take `image_url`; FLUX.2 dev, Gemini 3 Pro Image, Flash Image 2.5 only
 *                `reference_images`.
 * - [FACTS]      shared/reference/FACTS.md (deprecation dates, third-party price observations,
 *                seeds above 2^31-1 reported rejected).
 *
 * Decisions where the sources disagree or are silent (kept here, in one place):
 * - Kontext sizing: only prose says Kontext sizes by `aspect_ratio`; the schema has no such field
 *   and every official Kontext example sends `width`/`height` (1024x768 [overview], 1536x1024
 *   [api-ref]). The examples are what is known to work: Kontext is sized by width/height.
 * - Guidance: see `guidanceParameter` below (FLUX.2 dev/flex `guidance`, the rest `guidance_scale`).
 * - Unknown facts: a parameter no source shows for a model is not sent to it (Together answers
 *   400 "Unsupported use of ..." for parameters a model does not take [FACTS]); the entry's notes
 *   list what could not be found. `n` likewise: a model not shown taking `n` gets one image per call.
 * - Sizes: partner models whose sizes no source gives (Google, ByteDance, Ideogram) take only the
 *   docs' standard sizes [models.md]; models Together hosts take the documented 256-1920 range,
 *   multiples of 8 [api-ref].
 * - Prices are estimates, overridable (`setPriceOverrides`, `--price`, the config file).
 */
const PROVIDER = 'togetherai';
const FLUX = 'black-forest-labs';

/** Width and height 256-1920 [api-ref], multiples of 8 [api-ref troubleshooting]. */
const documentedRange = { min: 256, max: 1920, multipleOf: 8, default: { width: 1024, height: 1024 } };
/** FLUX.2 sides snap to 16 (Black Forest Labs' own API; Together does not say): a multiple of 16 is also one of 8. */
const flux2Range = { ...documentedRange, multipleOf: 16 };
const ratios = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'] as const;
/** "Standard (most models)" [models.md]. */
const STANDARD_SIZES = ['1024x1024', '1344x768', '768x1344', '1248x832', '832x1248', '1184x864', '864x1184'] as const;
/** Gemini 3 Pro Image 1K, 2K and 4K sizes [models.md, prices]. */
const GEMINI_3_PRO_SIZES = [
  '1024x1024', '1248x832', '832x1248', '1184x864', '864x1184', '896x1152', '1152x896', '768x1344', '1344x768', '1536x672',
  '2048x2048', '2496x1664', '1664x2496', '2368x1728', '1728x2368', '1792x2304', '2304x1792', '1536x2688', '2688x1536', '3072x1344',
  '4096x4096', '4992x3328', '3328x4992', '4736x3456', '3456x4736', '3584x4608', '4608x3584', '3072x5376', '5376x3072', '6144x2688',
] as const;

/**
 * The one place that decides which body field carries guidance, per model. The schema names only
 * `guidance_scale` [openapi]; the docs' FLUX.2 dev/flex examples and parameter table send `guidance`
 * ("Guidance scale for FLUX.2 dev/flex") [api-ref]. FLUX.2 follows its own examples, the newer and
 * model-specific source; every other model the schema.
 */
const GUIDANCE_FIELD_FLUX2 = 'guidance' as const;

/** What every Together model shares unless its entry says otherwise: the conservative choices. */
const base: Capabilities = {
  sizing: 'dimensions',
  dimensions: documentedRange,
  aspectRatios: ratios,
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: false,
  acceptsSeed: false,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  // The schema documents `output_format` for the endpoint [openapi]; the feature matrix marks it
  // FLUX.2-only [api-ref]; png is sent only when asked for.
  outputFormats: ['jpeg', 'png'],
  safetyCheckerCanBeDisabled: false,
  price: undefined,
};

const entry = (modelId: string, displayName: string, capabilities: Partial<Capabilities>): ModelCapabilities => ({
  provider: PROVIDER,
  modelId,
  displayName,
  known: true,
  ...base,
  ...capabilities,
});

/** Standard sizes only, for partner models whose own limits no source gives. */
const standardSizes = { allowedSizes: STANDARD_SIZES } as const;

export const TOGETHER_MODELS: readonly ModelCapabilities[] = [
  // --- Black Forest Labs, hosted by Together -------------------------------------------------
  entry(`${FLUX}/FLUX.1-schnell`, 'FLUX.1 [schnell] (Turbo)', {
    steps: { min: 1, max: 12, default: 4 }, // default 4 [models.md, prices]; the cap of 12 is reported [FACTS]
    maxImagesPerCall: 4, // n 1-4, shown with schnell [overview]
    acceptsN: true,
    acceptsSeed: true, // seed=42 example [overview]
    negativePrompt: true, // feature matrix [api-ref]
    safetyCheckerCanBeDisabled: true, // [overview]
    price: { unit: 'megapixel', usd: 0.0027, defaultSteps: 4 }, // [prices]
  }),
  entry(`${FLUX}/FLUX.2-dev`, 'FLUX.2 [dev]', {
    dimensions: flux2Range,
    steps: { min: 1, max: 50, default: 20 }, // steps 1-50 [api-ref]; default not published: the schema's 20, as the examples send [openapi, api-ref]
    maxImagesPerCall: 4, // n=4 example with FLUX.2-dev [api-ref]
    acceptsN: true,
    acceptsSeed: true, // the schema's seed; the docs' seeded examples [api-ref]
    guidance: { min: 1, max: 20, default: 4 }, // takes guidance [api-ref]; range and default not published by Together (BFL's)
    guidanceParameter: GUIDANCE_FIELD_FLUX2,
    promptUpsampling: true, // [api-ref]
    imageInput: { kind: 'reference_images', max: 4 }, // reference_images only [ref-images]; 4 is BFL's figure, Together gives none
    maxLoras: 2, // up to 2, scale 0.3-1.2 [models.md]
    safetyCheckerCanBeDisabled: true, // [overview]
    price: { unit: 'image', usd: 0.0154 }, // not in Together's table; third-party observation [FACTS]
  }),
  // --- Black Forest Labs, partner models (one image per call, safety checker on [overview]) ---
  entry(`${FLUX}/FLUX.1.1-pro`, 'FLUX1.1 [pro]', {
    acceptsSeed: true, // long-standing catalog entry; the schema's seed
    price: { unit: 'megapixel', usd: 0.04 }, // [prices]; "except for pro": no steps factor
    notes: 'Steps, n and negative prompt not documented for this model: not sent.',
  }),
  entry(`${FLUX}/FLUX.1-kontext-pro`, 'FLUX.1 Kontext [pro]', {
    steps: { min: 1, max: 50, default: 28 }, // default 28 [models.md]; steps=28 in the edit example [api-ref]
    acceptsSeed: true,
    imageInput: { kind: 'image_url', max: 1 }, // [models.md, ref-images]
    price: { unit: 'megapixel', usd: 0.04, defaultSteps: 28 }, // [prices]; the steps factor applied, so the estimate errs high
    notes: 'Sized by width/height, as every official example sends it (the schema has no aspect_ratio).',
  }),
  entry(`${FLUX}/FLUX.1-kontext-max`, 'FLUX.1 Kontext [max]', {
    steps: { min: 1, max: 50, default: 28 }, // [models.md]
    acceptsSeed: true,
    imageInput: { kind: 'image_url', max: 1 }, // [models.md, ref-images]
    safetyCheckerCanBeDisabled: true, // not "Flux Pro" [overview]
    price: { unit: 'megapixel', usd: 0.08, defaultSteps: 28 }, // [prices]
    notes: 'Sized by width/height, as every official example sends it (the schema has no aspect_ratio).',
  }),
  entry(`${FLUX}/FLUX.2-pro`, 'FLUX.2 [pro]', {
    dimensions: flux2Range, // up to 9 MP on BFL [models.md]; Together documents width/height up to 1920 [api-ref]
    acceptsSeed: true,
    promptUpsampling: true, // [api-ref]
    // reference_images recommended; image_url for single-image edits [ref-images]. 8 is BFL's figure.
    imageInput: { kind: 'reference_images', max: 8, alsoImageUrl: true },
    price: { unit: 'image', usd: 0.03 }, // not in Together's table; the previous catalog's estimate, source not recorded
    notes: 'Steps and guidance are dev/flex features [models.md]: not sent. One image may go as image_url via providerOptions.',
  }),
  entry(`${FLUX}/FLUX.2-flex`, 'FLUX.2 [flex]', {
    dimensions: flux2Range,
    steps: { min: 1, max: 50, default: 28 }, // adjustable steps [models.md]; default not published
    acceptsSeed: true,
    guidance: { min: 1.5, max: 10, default: 4.5 }, // takes guidance [api-ref]; range is BFL's, Together gives none
    guidanceParameter: GUIDANCE_FIELD_FLUX2,
    promptUpsampling: true, // [api-ref]
    imageInput: { kind: 'reference_images', max: 8, alsoImageUrl: true }, // [ref-images]; 8 is BFL's figure
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'image', usd: 0.06 }, // not in Together's table; the previous catalog's estimate, source not recorded
  }),
  entry(`${FLUX}/FLUX.2-max`, 'FLUX.2 [max]', {
    dimensions: flux2Range,
    acceptsSeed: true,
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'image', usd: 0.07 }, // the previous catalog's estimate, source not recorded
    notes: 'Only in the FLUX.2 quickstart, not in the serverless tables [models.md]; input images and prompt upsampling not documented for it: not sent.',
  }),
  // --- Google (partner) ------------------------------------------------------------------------
  // The feature matrix [api-ref] gives Google no negative prompt, guidance or image_url; steps, n
  // and seed are documented for none of them.
  entry('google/imagen-4.0-preview', 'Imagen 4.0 Preview', { ...standardSizes, price: { unit: 'megapixel', usd: 0.04 } }), // [prices]
  entry('google/imagen-4.0-fast', 'Imagen 4.0 Fast', { ...standardSizes, price: { unit: 'megapixel', usd: 0.02 } }), // [prices]
  entry('google/imagen-4.0-ultra', 'Imagen 4.0 Ultra', { ...standardSizes, price: { unit: 'megapixel', usd: 0.06 } }), // [prices]
  entry('google/flash-image-2.5', 'Flash Image 2.5 (Nano Banana)', {
    ...standardSizes,
    // reference_images [models.md, ref-images]; how many: not published by Together, 3 is Google's recommendation
    imageInput: { kind: 'reference_images', max: 3 },
    price: { unit: 'megapixel', usd: 0.039 }, // [prices]
  }),
  entry('google/flash-image-3.1-lite', 'Gemini 3.1 Flash-Lite Image (Nano Banana 2 Lite)', {
    ...standardSizes,
    notes: 'Listed [models.md] with no price, sizes or input images documented: standard sizes, text only, unpriced.',
  }),
  entry('google/gemini-3-pro-image', 'Gemini 3 Pro Image (Nano Banana 2)', {
    allowedSizes: GEMINI_3_PRO_SIZES,
    dimensions: { min: 672, max: 6144, multipleOf: 8, default: { width: 1024, height: 1024 } },
    // reference_images [models.md, ref-images]; how many: not published by Together, 14 is Google's figure
    imageInput: { kind: 'reference_images', max: 14 },
    price: { unit: 'image', usd: 0.134 }, // 1K and 2K; 4K is $0.24 an image, which the estimate does not model [prices]
    notes: '1K, 2K and 4K sizes only; 4K costs $0.24 an image, more than the estimate shows.',
  }),
  // --- ByteDance, Ideogram (partner): standard sizes, nothing else documented --------------------
  entry('ByteDance-Seed/Seedream-4.0', 'Seedream 4.0', { ...standardSizes, price: { unit: 'megapixel', usd: 0.03 } }), // [prices]
  entry('ByteDance-Seed/Seedream-3.0', 'Seedream 3.0', { ...standardSizes, price: { unit: 'megapixel', usd: 0.018 } }), // [prices]
  entry('ideogram/ideogram-3.0', 'Ideogram 3.0', { ...standardSizes, price: { unit: 'megapixel', usd: 0.06 } }), // [prices]
  entry('ideogram/ideogram-4.0', 'Ideogram 4.0', {
    ...standardSizes,
    notes: 'Listed [models.md] with no price or parameters documented: standard sizes, unpriced.',
  }),
  // --- Open models Together hosts: the documented size range; the safety checker can be turned off
  // ("every model except...") [overview]; steps, n, seed and negative prompt not documented for them.
  ...(
    [
      ['Qwen/Qwen-Image', 'Qwen Image', 0.0058],
      ['HiDream-ai/HiDream-I1-Full', 'HiDream-I1-Full', 0.009],
      ['HiDream-ai/HiDream-I1-Dev', 'HiDream-I1-Dev', 0.0045],
      ['HiDream-ai/HiDream-I1-Fast', 'HiDream-I1-Fast', 0.0032],
      ['RunDiffusion/Juggernaut-pro-flux', 'Juggernaut Pro Flux', 0.0049],
      ['Rundiffusion/Juggernaut-Lightning-Flux', 'Juggernaut Lightning Flux', 0.0017],
      ['Lykon/DreamShaper', 'DreamShaper', 0.0006],
      ['stabilityai/stable-diffusion-3-medium', 'Stable Diffusion 3 Medium', 0.0019],
    ] as const
  ).map(([modelId, displayName, usd]) =>
    entry(modelId, displayName, {
      safetyCheckerCanBeDisabled: true,
      price: { unit: 'megapixel', usd }, // [prices]
      notes: 'Steps, n, seed and negative prompt not documented for this model: not sent (pass them in providerOptions to try).',
    }),
  ),
  // --- Deprecated: still callable, with a warning ----------------------------------------------
  entry(`${FLUX}/FLUX.1-dev`, 'FLUX.1 [dev]', {
    steps: { min: 1, max: 50, default: 28 },
    maxImagesPerCall: 4,
    acceptsN: true,
    acceptsSeed: true,
    negativePrompt: true,
    guidance: { min: 1, max: 20, default: 3.5 },
    maxLoras: 2, // "FLUX.2 Dev and FLUX.1 Dev" [api-ref]
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 },
    deprecated: { status: 'removed', date: '2026-02-27', replacement: `${PROVIDER}:${FLUX}/FLUX.2-dev` }, // removed from serverless [FACTS]
  }),
  entry(`${FLUX}/FLUX.1-kontext-dev`, 'FLUX.1 Kontext [dev]', {
    steps: { min: 1, max: 50, default: 28 },
    maxImagesPerCall: 4,
    acceptsN: true,
    acceptsSeed: true,
    guidance: { min: 1, max: 20, default: 2.5 },
    imageInput: { kind: 'image_url', max: 1 },
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 },
    deprecated: { status: 'removed', date: '2026-02-27', replacement: `${PROVIDER}:${FLUX}/FLUX.1-kontext-pro` }, // [FACTS]
  }),
  entry(`${FLUX}/FLUX.1-krea-dev`, 'FLUX.1 Krea [dev]', {
    steps: { min: 1, max: 50, default: 28 }, // [prices, older table]
    maxImagesPerCall: 4,
    acceptsN: true,
    acceptsSeed: true,
    negativePrompt: true,
    guidance: { min: 1, max: 20, default: 4.5 },
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 }, // [prices, older table]
    deprecated: { status: 'deprecated', date: '2026-05-27', replacement: `${PROVIDER}:${FLUX}/FLUX.2-dev` }, // [FACTS]; removed from [models.md]
  }),
  entry(`${FLUX}/FLUX.1-schnell-Free`, 'FLUX.1 [schnell] Free', {
    steps: { min: 1, max: 4, default: 4 },
    maxImagesPerCall: 4,
    acceptsN: true,
    acceptsSeed: true,
    negativePrompt: true,
    price: { unit: 'megapixel', usd: 0 },
    notes: 'Free tier; tight rate limits; the safety checker cannot be disabled [overview].',
    // Absent from the current tables [models.md, FACTS]; no date was published.
    deprecated: { status: 'unlisted', date: undefined, replacement: `${PROVIDER}:${FLUX}/FLUX.1-schnell` },
  }),
];

/**
 * What an id of this provider not listed above is assumed to take: the schema's common fields,
 * checked loosely, with a warning that the catalog does not know the model.
 */
export const TOGETHER_GENERIC: Capabilities = {
  ...base,
  steps: { min: 1, max: 50, default: 20 },
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  guidance: { min: 0, max: 20, default: 3.5 },
  imageInput: { kind: 'image_url', max: 1 },
  safetyCheckerCanBeDisabled: true,
};
