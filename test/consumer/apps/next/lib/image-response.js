// What both routes do: generate with ai-imagegen and answer with the first image's bytes, or with
// the error's name and message. GET ?model=…&count=…&format=png|jpeg
import { generateImages } from 'ai-imagegen';

export async function imageResponse(request) {
  const query = new URL(request.url).searchParams;
  try {
    const result = await generateImages({
      prompt: 'a lighthouse at dawn',
      model: query.get('model') ?? 'local:placeholder',
      size: '384x256',
      count: Number(query.get('count') ?? 1),
      seed: 5,
      outputFormat: query.get('format') ?? 'png',
    });
    const [image] = result.images;
    return new Response(image.uint8Array, {
      headers: { 'content-type': image.mediaType, 'x-images': String(result.images.length), 'x-requests': String(result.requests) },
    });
  } catch (error) {
    return Response.json({ name: error?.name, message: error?.message }, { status: 500 });
  }
}
