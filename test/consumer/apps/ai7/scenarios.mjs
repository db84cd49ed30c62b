// One scenario of an ai 7 app against the emulator (argv[2]), count 4 each. Env: TOGETHER_BASE_URL,
// TOGETHER_API_KEY. Prints one JSON line: the images that came back and what the app saw.
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createProviderRegistry, generateImage } from 'ai';
import { generateImages, imageModel, togetherMetadataFetch } from 'ai-imagegen';

const MODEL = 'togetherai:black-forest-labs/FLUX.1-schnell';
const request = { prompt: 'a lighthouse at dawn', model: MODEL, size: '512x384', count: 4, seed: 11 };
const togetherai = createTogetherAI({ baseURL: process.env.TOGETHER_BASE_URL, apiKey: process.env.TOGETHER_API_KEY });
/** The app's own fetch, counting what goes through it. */
const fetched = [];
const appFetch = (input, init) => {
  fetched.push(String(input));
  return fetch(input, init);
};

const describeImages = (images) =>
  images.map((image) => ({ mediaType: image.mediaType, width: image.width, height: image.height, responseId: image.responseId, timings: image.timings }));

const scenarios = {
  // The app's own provider instance (spec v4) by name, used as it is: its own fetch, no ids.
  async instance() {
    const own = createTogetherAI({ baseURL: process.env.TOGETHER_BASE_URL, apiKey: process.env.TOGETHER_API_KEY, fetch: appFetch });
    const result = await generateImages(request, { providers: { togetherai: own } });
    return { requests: result.requests, fetched, images: describeImages(result.images), warnings: result.warnings, calls: result.calls.length };
  },
  // The same with the toolkit's metadata fetch around the app's: Together's ids and timings kept.
  async instanceWithMetadata() {
    const own = createTogetherAI({ baseURL: process.env.TOGETHER_BASE_URL, apiKey: process.env.TOGETHER_API_KEY, fetch: togetherMetadataFetch(appFetch) });
    const result = await generateImages(request, { providers: { togetherai: own } });
    return { requests: result.requests, fetched, images: describeImages(result.images), warnings: result.warnings };
  },
  // An ai 7 provider registry.
  async registry() {
    const result = await generateImages(request, { providers: { registry: createProviderRegistry({ togetherai }) } });
    return { requests: result.requests, images: describeImages(result.images), warnings: result.warnings };
  },
  // imageModel() (built-in Together, from the environment) through ai 7's own generateImage.
  async imageModel() {
    const { images, warnings } = await generateImage({ model: imageModel(MODEL), prompt: request.prompt, size: '512x384', n: 4, seed: 11 });
    return { images: images.map((image) => ({ mediaType: image.mediaType, bytes: image.uint8Array.length })), warnings };
  },
  // imageModel() over the app's own instance, through ai 7's generateImage.
  async imageModelInstance() {
    const { images, warnings } = await generateImage({ model: imageModel(MODEL, { providers: { togetherai } }), prompt: request.prompt, size: '512x384', n: 4, seed: 11 });
    return { images: images.map((image) => ({ mediaType: image.mediaType, bytes: image.uint8Array.length })), warnings };
  },
};

try {
  console.log(JSON.stringify({ ok: true, node: process.version, ...(await scenarios[process.argv[2]]()) }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, name: error?.name, message: error?.message, stack: error?.stack }));
  process.exitCode = 1;
}
