import { imageResponse } from '../../lib/image-response.js';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export function GET(request) {
  return imageResponse(request);
}
