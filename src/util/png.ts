type NodeZlib = { deflateSync(data: Uint8Array): Uint8Array; crc32(data: Uint8Array, value?: number): number };

/** PNG colour types by channels: grey, RGB, RGBA. */
const COLOUR_TYPES: Record<1 | 3 | 4, number> = { 1: 0, 3: 2, 4: 6 };

/**
 * An 8-bit PNG (grey, RGB or RGBA pixels, row-major) through Node's own zlib where the runtime has
 * it (about ten times faster than pure-JS deflate at 1024x1024); `undefined` elsewhere (edge), where
 * the caller's pure-JS encoder takes over. Reached through `process.getBuiltinModule`, so no bundler
 * sees a Node module in the core.
 */
export function encodePngWithNodeZlib({ width, height, data, channels }: { width: number; height: number; data: Uint8Array; channels: 1 | 3 | 4 }): Uint8Array | undefined {
  let zlib: NodeZlib | undefined;
  try {
    zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:zlib') as NodeZlib | undefined;
  } catch {
    // Next.js's edge runtime defines process.getBuiltinModule as a stub that throws.
    return undefined;
  }
  if (typeof zlib?.crc32 !== 'function') return undefined;
  // Each row is filter byte 0 (none) and its pixels.
  const rowLength = width * channels;
  const rows = new Uint8Array((rowLength + 1) * height);
  for (let y = 0; y < height; y++) rows.set(data.subarray(y * rowLength, (y + 1) * rowLength), y * (rowLength + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOUR_TYPES[channels], 0, 0, 0], 8); // 8 bits per channel, the colour type, deflate, adaptive filtering, no interlace
  const chunks = [chunk(zlib, 'IHDR', header), chunk(zlib, 'IDAT', zlib.deflateSync(rows)), chunk(zlib, 'IEND', new Uint8Array(0))];
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const png = new Uint8Array(signature.length + chunks.reduce((sum, part) => sum + part.length, 0));
  png.set(signature);
  let offset = signature.length;
  for (const part of chunks) {
    png.set(part, offset);
    offset += part.length;
  }
  return png;
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(zlib: NodeZlib, type: string, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  for (let index = 0; index < 4; index++) bytes[4 + index] = type.charCodeAt(index);
  bytes.set(data, 8);
  view.setUint32(8 + data.length, zlib.crc32(bytes.subarray(4, 8 + data.length)) >>> 0);
  return bytes;
}
