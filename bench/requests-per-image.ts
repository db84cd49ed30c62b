/**
 * Requests per image on Together: the toolkit asks for up to 4 images per request, the plain AI SDK
 * provider for one (its `maxImagesPerCall` is 1). Counted by the emulator, not by either client.
 */
import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { startEmulator } from '../src/emulator/index.js';
import { generateImages } from '../src/generate.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const MODEL_ID = 'black-forest-labs/FLUX.1-schnell';
const SIZE = '256x256';
const COUNTS = [1, 2, 3, 4, 5, 6, 7, 8];
/** Together takes `n` up to 4 in one request. */
const IMAGES_PER_REQUEST = 4;

type CountResult = { count: number; toolkitRequests: number; toolkitImages: number; plainRequests: number; plainImages: number };

export async function runRequestsPerImage({ log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
  process.env.TOGETHER_API_KEY = 'bench-key';
  process.env.TOGETHER_BASE_URL = emulator.url;
  const plainModel = createTogetherAI({ apiKey: 'bench-key', baseURL: emulator.url }).image(MODEL_ID);
  const results: CountResult[] = [];
  try {
    for (const count of COUNTS) {
      const prompt = `a lighthouse at dawn, ${count} views`;
      emulator.reset();
      const toolkit = await generateImages({ prompt, model: `togetherai:${MODEL_ID}`, size: SIZE, count });
      const toolkitRequests = emulator.stats().requests;
      emulator.reset();
      const plain = await generateImage({ model: plainModel, prompt, size: SIZE, n: count });
      results.push({
        count,
        toolkitRequests,
        toolkitImages: toolkit.images.length,
        plainRequests: emulator.stats().requests,
        plainImages: plain.images.length,
      });
    }
  } finally {
    await emulator.close();
  }
  log(`  counts ${COUNTS.join(',')}: toolkit ${results.map((result) => result.toolkitRequests).join(',')} requests`);

  const sum = (pick: (result: CountResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const expected = results.map((result) => Math.ceil(result.count / IMAGES_PER_REQUEST));
  const toolkitMet =
    results.every((result, index) => result.toolkitRequests === expected[index] && result.toolkitImages === result.count);
  const describe = (pick: (result: CountResult) => number) =>
    `${results.map(pick).join(' ')} requests for count ${COUNTS[0]}–${COUNTS.at(-1)} (${sum(pick)} for ${sum((result) => result.count)} images)`;
  return {
    rows: [
      {
        benchmark: 'requests per image',
        variant: 'toolkit generateImages',
        result: describe((result) => result.toolkitRequests),
        target: `ceil(count/${IMAGES_PER_REQUEST}), every image back`,
        met: toolkitMet,
      },
      {
        benchmark: 'requests per image',
        variant: 'plain generateImage',
        result: describe((result) => result.plainRequests),
        target: 'baseline',
        met: undefined,
      },
    ],
    raw: { modelId: MODEL_ID, size: SIZE, counts: results },
  };
}
