// A strict app using ai-imagegen the ways the README shows. Each @ts-expect-error line must be an
// error: were the package's types `any` (or missing), tsc would fail with "Unused '@ts-expect-error'".
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createProviderRegistry, generateImage, type GenerateImageResult } from 'ai';
import {
  generateImages,
  imageModel,
  ImagegenError,
  InvalidRequestError,
  MissingProviderPackageError,
  RateLimitError,
  type GeneratedImage,
  type GenerateImagesResult,
  type GenerateRequest,
  togetherMetadataFetch,
} from 'ai-imagegen';
import { saveImages } from 'ai-imagegen/node';
import { startEmulator } from 'ai-imagegen/emulator';

const request = { prompt: 'a lighthouse at dawn', model: 'togetherai:black-forest-labs/FLUX.1-schnell', aspectRatio: '16:9', count: 4 } satisfies GenerateRequest;

export async function plain(): Promise<GenerateImagesResult> {
  const result = await generateImages(request);
  const first: GeneratedImage | undefined = result.images[0];
  const bytes: Uint8Array | undefined = first?.uint8Array;
  const width: number | undefined = first?.width;
  void [bytes, width];
  // @ts-expect-error uint8Array is a Uint8Array, not a string
  const wrong: string | undefined = first?.uint8Array;
  void wrong;
  return result;
}

/** Code written for generateImage's result takes the toolkit's as it is (ai 6 and ai 7 types). */
export async function asGenerateImageResult(): Promise<string> {
  const result: GenerateImageResult = await generateImages(request);
  const base64: string = result.image.base64;
  const mediaType: string = result.images[0]!.mediaType;
  void [result.responses, result.providerMetadata, result.usage.totalTokens, result.warnings.map((warning) => warning.type)];
  return `${mediaType}:${base64.length}`;
}

export async function wrongOptions(): Promise<void> {
  // @ts-expect-error count is a number
  await generateImages({ prompt: 'a fox', count: '4' });
  // @ts-expect-error the prompt is required
  await generateImages({ model: 'local:placeholder' });
  // @ts-expect-error outputFormat is png or jpeg
  await generateImages({ prompt: 'a fox', outputFormat: 'gif' });
  // @ts-expect-error maxRetries is an option of the call, a number
  await generateImages({ prompt: 'a fox' }, { maxRetries: 'twice' });
}

export async function ownProviders(): Promise<void> {
  const togetherai = createTogetherAI({ apiKey: 'key', baseURL: 'http://127.0.0.1:8787/v1', fetch: togetherMetadataFetch() });
  await generateImages(request, { providers: { togetherai } });
  await generateImages(request, { providers: togetherai });
  await generateImages({ ...request, model: 'black-forest-labs/FLUX.2-dev' }, { providers: { registry: createProviderRegistry({ togetherai }) } });
  // @ts-expect-error a provider is an object with image() or imageModel(), not a string
  await generateImages(request, { providers: { togetherai: 'togetherai' } });

  const { images } = await generateImage({ model: imageModel('togetherai:black-forest-labs/FLUX.1-dev', { providers: { togetherai } }), prompt: 'a red fox', n: 4 });
  void images;
}

export function explain(error: unknown): string {
  if (InvalidRequestError.isInstance(error)) {
    const fields: string[] = error.issues.map((issue) => issue.field);
    // @ts-expect-error an invalid request was never sent: it has no status code
    void error.statusCode;
    return fields.join(', ');
  }
  if (MissingProviderPackageError.isInstance(error)) return `npm install ${error.packageName}`;
  if (RateLimitError.isInstance(error)) return `retry in ${error.retryAfterSeconds ?? '?'} s (${error.statusCode ?? 429})`;
  if (ImagegenError.isInstance(error)) return error.kind;
  // @ts-expect-error unknown is not narrowed without a guard
  return error.message;
}

export async function nodeParts(): Promise<void> {
  const emulator = await startEmulator({ port: 0 });
  const result = await generateImages(request);
  const saved = await saveImages({ images: result.images, outDir: 'out' });
  void saved;
  await emulator.close();
}
