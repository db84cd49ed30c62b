import type { ModelCapabilities } from '../../src/index.js';

/**
 * The catalog's account of a Together model turned into a request body in Together's own names,
 * for tests that hold the catalog against the emulator (which reads Together's docs, not the catalog).
 */

/** The smallest size the catalog lets a model take: its minimum side, or the first size it lists. */
export function smallestSize(model: ModelCapabilities): { width: number; height: number } {
  const listed = model.allowedSizes?.[0]?.split('x').map(Number);
  if (listed) return { width: listed[0]!, height: listed[1]! };
  const side = Math.ceil(model.dimensions.min / model.dimensions.multipleOf) * model.dimensions.multipleOf;
  return { width: side, height: side };
}

/** Every optional parameter the catalog says the model takes, in Together's names. */
export function acceptedParameters(model: ModelCapabilities, inputImage: string): Record<string, unknown> {
  const parameters: Record<string, unknown> = { ...smallestSize(model) };
  if (model.acceptsN) parameters.n = 2;
  if (model.acceptsSeed) parameters.seed = 42;
  if (model.steps) parameters.steps = model.steps.min;
  if (model.negativePrompt) parameters.negative_prompt = 'blurry';
  if (model.guidance) parameters[model.guidanceParameter ?? 'guidance_scale'] = model.guidance.default;
  if (model.promptUpsampling) parameters.prompt_upsampling = false;
  if (model.imageInput.kind === 'image_url') parameters.image_url = inputImage;
  if (model.imageInput.kind === 'reference_images') parameters.reference_images = [inputImage];
  if (model.maxLoras > 0) parameters.image_loras = [{ path: 'https://huggingface.co/example/lora', scale: 1 }];
  return parameters;
}
