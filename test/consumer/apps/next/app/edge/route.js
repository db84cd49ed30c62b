import { imageResponse } from '../../lib/image-response.js';

export const runtime = 'edge';
export const dynamic = 'force-dynamic';

export function GET(request) {
  return imageResponse(request);
}
