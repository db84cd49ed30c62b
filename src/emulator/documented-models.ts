/**
 * What Together documents about each image model, written down for the emulator on its own, from
 * Together's sources, and deliberately not read from the toolkit's catalog: the emulator and the
 * catalog are two independent accounts, so a mistake in one is caught by the other in the tests.
 *
 * Sources: Together's OpenAPI schema (togethercomputer/openapi `openapi.yaml`, POST
 * /images/generations), its model tables and API reference (togethercomputer/skills
 * `skills/together-images/references/models.md`, `api-reference.md`, synced from Together's docs),
 * docs.together.ai (serverless models, reference images, images overview) and FACTS.md.
 *
 * The emulator accepts what these sources show and refuses, with Together's 400 "Unsupported use
 * of '<parameter>' parameter", only what they say a model does not take (the feature matrix's
 * "No" cells and the per-model lists); where they are silent it accepts what the schema allows.
 */

/** Parameters the docs name per model (the schema's common ones aside). */
export type DocumentedParameter =
  | 'steps'
  | 'negative_prompt'
  | 'guidance'
  | 'guidance_scale'
  | 'image_url'
  | 'reference_images'
  | 'image_loras'
  | 'prompt_upsampling';

export type DocumentedModel = {
  id: string;
  displayName: string;
  organization: string;
  /** Served through a third-party partner: needs data sharing turned on (403 otherwise). */
  partner: boolean;
  /** Exact sizes, when the docs list them; otherwise the documented range applies. */
  sizes?: readonly string[];
  /** Parameters the docs say this model does not take: a 400 when sent. */
  rejects: readonly DocumentedParameter[];
  /** Whether `disable_safety_checker` takes effect ("every model except Flux Schnell Free and Flux Pro"). */
  safetyCheckerCanBeDisabled: boolean;
  /** Gone from the serverless list: not listed, and a 404 like any unknown model. */
  retired?: { date: string | undefined; note: string };
};

/** Width and height: "256-1920" (api-reference.md), "multiples of 8" (images docs). */
export const DOCUMENTED_SIZE_RANGE = { min: 256, max: 1920, multipleOf: 8 } as const;
/** "Number of images to generate (1-4)" (images overview). */
export const DOCUMENTED_MAX_N = 4;
/** "Diffusion steps (1-50)" (api-reference.md). */
export const DOCUMENTED_STEPS = { min: 1, max: 50 } as const;
/** Seeds above 2,147,483,647 are reported rejected (FACTS.md): a signed 32-bit integer. */
export const DOCUMENTED_MAX_SEED = 2_147_483_647;

// The feature matrix (api-reference.md): per family, what it does not take.
const NOT_FLUX1 = ['guidance', 'reference_images', 'image_loras', 'prompt_upsampling'] as const;
const NOT_SCHNELL = [...NOT_FLUX1, 'image_url'] as const;
const NOT_KONTEXT = ['negative_prompt', 'guidance', 'reference_images', 'image_loras', 'prompt_upsampling'] as const;
const NOT_GOOGLE = ['negative_prompt', 'guidance', 'image_url', 'image_loras', 'prompt_upsampling'] as const;
/** Models outside the matrix: LoRAs, FLUX.2's own parameters and input images are listed for others only (models.md). */
const NOT_LISTED = ['guidance', 'image_url', 'reference_images', 'image_loras', 'prompt_upsampling'] as const;

const GEMINI_3_PRO_SIZES = [
  '1024x1024', '1248x832', '832x1248', '1184x864', '864x1184', '896x1152', '1152x896', '768x1344', '1344x768', '1536x672',
  '2048x2048', '2496x1664', '1664x2496', '2368x1728', '1728x2368', '1792x2304', '2304x1792', '1536x2688', '2688x1536', '3072x1344',
  '4096x4096', '4992x3328', '3328x4992', '4736x3456', '3456x4736', '3584x4608', '4608x3584', '3072x5376', '5376x3072', '6144x2688',
];

const model = (
  id: string,
  displayName: string,
  organization: string,
  details: Omit<DocumentedModel, 'id' | 'displayName' | 'organization'>,
): DocumentedModel => ({ id, displayName, organization, ...details });

const BFL = 'Black Forest Labs';

export const DOCUMENTED_MODELS: readonly DocumentedModel[] = [
  model('google/imagen-4.0-preview', 'Imagen 4.0 Preview', 'Google', { partner: true, rejects: [...NOT_GOOGLE, 'reference_images'], safetyCheckerCanBeDisabled: true }),
  model('google/imagen-4.0-fast', 'Imagen 4.0 Fast', 'Google', { partner: true, rejects: [...NOT_GOOGLE, 'reference_images'], safetyCheckerCanBeDisabled: true }),
  model('google/imagen-4.0-ultra', 'Imagen 4.0 Ultra', 'Google', { partner: true, rejects: [...NOT_GOOGLE, 'reference_images'], safetyCheckerCanBeDisabled: true }),
  // Reference images: "FLUX.2 (pro/dev/flex), Gemini 3 Pro Image, Flash Image 2.5" (reference-images docs).
  model('google/flash-image-2.5', 'Flash Image 2.5 (Nano Banana)', 'Google', { partner: true, rejects: NOT_GOOGLE, safetyCheckerCanBeDisabled: true }),
  model('google/flash-image-3.1-lite', 'Gemini 3.1 Flash-Lite Image', 'Google', { partner: true, rejects: [...NOT_GOOGLE, 'reference_images'], safetyCheckerCanBeDisabled: true }),
  model('google/gemini-3-pro-image', 'Gemini 3 Pro Image (Nano Banana 2)', 'Google', { partner: true, sizes: GEMINI_3_PRO_SIZES, rejects: NOT_GOOGLE, safetyCheckerCanBeDisabled: true }),
  // FLUX.2: guidance and steps for dev/flex; image_url for pro/flex; LoRAs for dev (models.md, api-reference.md).
  model('black-forest-labs/FLUX.2-pro', 'FLUX.2 [pro]', BFL, { partner: true, rejects: ['negative_prompt', 'guidance', 'guidance_scale', 'steps', 'image_loras'], safetyCheckerCanBeDisabled: false }),
  model('black-forest-labs/FLUX.2-dev', 'FLUX.2 [dev]', BFL, { partner: false, rejects: ['negative_prompt', 'image_url'], safetyCheckerCanBeDisabled: true }),
  model('black-forest-labs/FLUX.2-flex', 'FLUX.2 [flex]', BFL, { partner: true, rejects: ['negative_prompt', 'image_loras'], safetyCheckerCanBeDisabled: true }),
  model('black-forest-labs/FLUX.2-max', 'FLUX.2 [max]', BFL, { partner: true, rejects: ['negative_prompt', 'image_loras'], safetyCheckerCanBeDisabled: true }),
  model('black-forest-labs/FLUX.1-schnell', 'FLUX.1 [schnell] (Turbo)', BFL, { partner: false, rejects: NOT_SCHNELL, safetyCheckerCanBeDisabled: true }),
  model('black-forest-labs/FLUX.1.1-pro', 'FLUX1.1 [pro]', BFL, { partner: true, rejects: NOT_SCHNELL, safetyCheckerCanBeDisabled: false }),
  model('black-forest-labs/FLUX.1-kontext-pro', 'FLUX.1 Kontext [pro]', BFL, { partner: true, rejects: NOT_KONTEXT, safetyCheckerCanBeDisabled: false }),
  model('black-forest-labs/FLUX.1-kontext-max', 'FLUX.1 Kontext [max]', BFL, { partner: true, rejects: NOT_KONTEXT, safetyCheckerCanBeDisabled: true }),
  model('ByteDance-Seed/Seedream-4.0', 'Seedream 4.0', 'ByteDance', { partner: true, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('ByteDance-Seed/Seedream-3.0', 'Seedream 3.0', 'ByteDance', { partner: true, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('Qwen/Qwen-Image', 'Qwen Image', 'Qwen', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('ideogram/ideogram-3.0', 'Ideogram 3.0', 'Ideogram', { partner: true, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('ideogram/ideogram-4.0', 'Ideogram 4.0', 'Ideogram', { partner: true, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('HiDream-ai/HiDream-I1-Full', 'HiDream-I1-Full', 'HiDream', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('HiDream-ai/HiDream-I1-Dev', 'HiDream-I1-Dev', 'HiDream', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('HiDream-ai/HiDream-I1-Fast', 'HiDream-I1-Fast', 'HiDream', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('RunDiffusion/Juggernaut-pro-flux', 'Juggernaut Pro Flux', 'RunDiffusion', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('Rundiffusion/Juggernaut-Lightning-Flux', 'Juggernaut Lightning Flux', 'RunDiffusion', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('Lykon/DreamShaper', 'DreamShaper', 'Lykon', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  model('stabilityai/stable-diffusion-3-medium', 'Stable Diffusion 3 Medium', 'Stability AI', { partner: false, rejects: NOT_LISTED, safetyCheckerCanBeDisabled: true }),
  // Retired: not listed, answered like any unknown model (FACTS.md, the dates).
  model('black-forest-labs/FLUX.1-dev', 'FLUX.1 [dev]', BFL, { partner: false, rejects: [], safetyCheckerCanBeDisabled: true, retired: { date: '2026-02-27', note: 'removed from serverless' } }),
  model('black-forest-labs/FLUX.1-kontext-dev', 'FLUX.1 Kontext [dev]', BFL, { partner: false, rejects: [], safetyCheckerCanBeDisabled: true, retired: { date: '2026-02-27', note: 'removed from serverless' } }),
  model('black-forest-labs/FLUX.1-krea-dev', 'FLUX.1 Krea [dev]', BFL, { partner: false, rejects: [], safetyCheckerCanBeDisabled: true, retired: { date: '2026-05-27', note: 'deprecated' } }),
  model('black-forest-labs/FLUX.1-schnell-Free', 'FLUX.1 [schnell] Free', BFL, { partner: false, rejects: [], safetyCheckerCanBeDisabled: false, retired: { date: undefined, note: 'no longer listed' } }),
];
