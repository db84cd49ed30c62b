// The edge worker: a fetch handler that answers with an image from ai-imagegen's core.
// GET /?model=…&format=png|jpeg[&baseURL=…&apiKey=…] → the first image's bytes, or { name, message }.
import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImages } from 'ai-imagegen';

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const query = new URL(request.url).searchParams;
  const baseURL = query.get('baseURL');
  // On the edge the app passes its own provider instance (no process.env there).
  const providers = baseURL ? { togetherai: createTogetherAI({ baseURL, apiKey: query.get('apiKey') ?? '' }) } : undefined;
  try {
    const result = await generateImages(
      { prompt: 'a lighthouse at dawn', model: query.get('model') ?? 'local:placeholder', size: '384x256', count: Number(query.get('count') ?? 1), seed: 3, outputFormat: query.get('format') ?? 'png' },
      providers ? { providers } : {},
    );
    const [image] = result.images;
    return new Response(image.uint8Array, {
      headers: { 'content-type': image.mediaType, 'x-images': String(result.images.length), 'x-requests': String(result.requests) },
    });
  } catch (error) {
    return Response.json({ name: error?.name, message: error?.message }, { status: 500 });
  }
}
