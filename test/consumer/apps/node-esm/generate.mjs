// A Node ESM app: generateImages from the installed package on the model given as argv[2].
// Env: TOGETHER_BASE_URL / TOGETHER_API_KEY for togetherai models. Writes the images to argv[3]
// and prints one JSON line: what came back.
import { writeFile } from 'node:fs/promises';
import { generateImages } from 'ai-imagegen';

const [model, outDir] = process.argv.slice(2);
try {
  const result = await generateImages({ prompt: 'a lighthouse at dawn', model, size: '512x512', count: 4, seed: 7 });
  const images = [];
  for (const image of result.images) {
    const file = `${outDir}/image-${image.index}.${image.mediaType === 'image/png' ? 'png' : 'jpg'}`;
    await writeFile(file, image.uint8Array);
    images.push({ file, mediaType: image.mediaType, width: image.width, height: image.height, seed: image.seed });
  }
  console.log(JSON.stringify({ ok: true, requests: result.requests, images, warnings: result.warnings }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, name: error?.name, message: error?.message }));
  process.exitCode = 1;
}
