import type { JSONValue } from '@ai-sdk/provider';
import { imagesPerCall } from '../../shared/capabilities.js';
import type { Plan, PlannedCall } from '../../shared/plan.js';
import { toDataUrl, type MappedArgs } from '../adapter.js';

/**
 * One planned call as `generateImage` arguments for Together. Over what `@ai-sdk/togetherai` sends
 * by itself (FACTS.md): `n` up to 4 in one request, the aspect ratio as the table's size or as
 * `aspect_ratio`, guidance under the name each model reads, `prompt_upsampling`, input images as
 * `image_url` or `reference_images`, LoRAs, and `response_format: "url"`. Pure: the plan decided
 * everything, so nothing is dropped here and there is nothing to warn about.
 */
export function mapTogetherCall(plan: Plan, call: PlannedCall): MappedArgs {
  return {
    args: {
      prompt: plan.prompt,
      n: call.n,
      maxImagesPerCall: imagesPerCall(plan.model),
      ...('size' in plan.sizing ? { size: plan.sizing.size } : {}),
      ...(call.seed === undefined ? {} : { seed: call.seed }),
      providerOptions: { togetherai: { ...togetherOptions(plan), ...(plan.providerOptions?.togetherai as Record<string, JSONValue> | undefined) } },
    },
    warnings: [],
  };
}

/** The `providerOptions.togetherai` body fields for a plan, named as Together's schema names them. */
function togetherOptions(plan: Plan): Record<string, JSONValue> {
  const options: Record<string, JSONValue> = {};
  if ('aspectRatio' in plan.sizing) options.aspect_ratio = plan.sizing.aspectRatio;
  if (plan.steps !== undefined) options.steps = plan.steps;
  if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
  // Which name carries guidance is decided per model in models.ts (`guidanceParameter`).
  if (plan.guidance !== undefined) options[plan.model.guidanceParameter ?? 'guidance_scale'] = plan.guidance;
  if (plan.promptUpsampling !== undefined) options.prompt_upsampling = plan.promptUpsampling;
  const images = plan.referenceImages.map((image) => (image.kind === 'url' ? image.url : toDataUrl(image.data, image.mediaType)));
  if (images.length > 0) {
    if (plan.model.imageInput.kind === 'reference_images') options.reference_images = images;
    else options.image_url = images[0]!;
  }
  if (plan.loras !== undefined) options.image_loras = plan.loras.map((lora) => ({ ...lora }));
  if (plan.disableSafetyChecker) options.disable_safety_checker = true;
  if (plan.outputFormat !== undefined) options.output_format = plan.outputFormat;
  return options;
}
