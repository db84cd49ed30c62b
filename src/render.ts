import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';

/**
 * The placeholder renderer behind `local:placeholder` and the emulator: a deterministic abstract
 * picture (gradient, discs and bands) drawn from prompt + seed. It is not a diffusion model; it
 * exists so that everything around generation can be developed and tested offline.
 * Pure JavaScript, so it runs on edge runtimes too.
 */
export type RenderOptions = {
  prompt: string;
  seed: number;
  width: number;
  height: number;
};

/** RGB pixels (3 bytes each, row-major) of the placeholder picture. */
export function renderPixels({ prompt, seed, width, height }: RenderOptions): Uint8Array {
  const random = mulberry32(hashString(prompt) ^ Math.imul(seed | 0, 0x9e3779b1));
  const color = () => [random() * 255, random() * 255, random() * 255] as const;
  const from = color();
  const to = color();
  const discs = Array.from({ length: 3 + Math.floor(random() * 4) }, () => ({
    x: random() * width,
    y: random() * height,
    radius: (0.08 + random() * 0.25) * Math.min(width, height),
    color: color(),
  }));
  const bandPeriod = 16 + Math.floor(random() * 48);

  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      let r = from[0] + (to[0] - from[0]) * t;
      let g = from[1] + (to[1] - from[1]) * t;
      let b = from[2] + (to[2] - from[2]) * t;
      for (const disc of discs) {
        const dx = x - disc.x;
        const dy = y - disc.y;
        if (dx * dx + dy * dy < disc.radius * disc.radius) {
          r = (r + disc.color[0]) / 2;
          g = (g + disc.color[1]) / 2;
          b = (b + disc.color[2]) / 2;
        }
      }
      if (Math.floor((x + y) / bandPeriod) % 7 === 0) {
        r *= 0.85;
        g *= 0.85;
        b *= 0.85;
      }
      const offset = (y * width + x) * 3;
      pixels[offset] = r;
      pixels[offset + 1] = g;
      pixels[offset + 2] = b;
    }
  }
  return pixels;
}

/** The placeholder picture encoded as PNG or JPEG. Same options, same pixels (and, on one runtime, the same bytes). */
export function renderPlaceholder(options: RenderOptions & { format: 'png' | 'jpeg' }): Uint8Array {
  const { width, height } = options;
  const rgb = renderPixels(options);
  if (options.format === 'png') {
    return encodePngWithNodeZlib(rgb, width, height) ?? encodePng({ width, height, data: rgb, channels: 3, depth: 8 });
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let source = 0, target = 0; source < rgb.length; source += 3, target += 4) {
    rgba[target] = rgb[source]!;
    rgba[target + 1] = rgb[source + 1]!;
    rgba[target + 2] = rgb[source + 2]!;
    rgba[target + 3] = 255;
  }
  const encoded = withoutNodeBuffer(() => jpeg.encode({ width, height, data: rgba }, 90).data);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * jpeg-js ends its encoder with `Buffer.from(bytes)` whenever `module` exists, which it does in
 * every bundle, and edge runtimes have no `Buffer`. Where there is none, the encoder (synchronous,
 * so nothing else runs meanwhile) gets a stand-in that makes the same bytes a plain Uint8Array.
 */
function withoutNodeBuffer<T>(encode: () => T): T {
  const scope = globalThis as { Buffer?: unknown };
  if (scope.Buffer !== undefined) return encode();
  scope.Buffer = { from: (bytes: ArrayLike<number>) => Uint8Array.from(bytes) };
  try {
    return encode();
  } finally {
    delete scope.Buffer;
  }
}

/** FNV-1a, 32 bits. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

type NodeZlib = { deflateSync(data: Uint8Array): Uint8Array; crc32(data: Uint8Array, value?: number): number };

/**
 * A PNG through Node's own zlib where the runtime has it (about ten times faster than pure-JS
 * deflate at 1024x1024, most of an offline `imagegen generate`); `undefined` elsewhere (edge), where
 * the pure-JS encoder takes over. Reached through `process.getBuiltinModule`, so no bundler sees a
 * Node module in the core.
 */
function encodePngWithNodeZlib(rgb: Uint8Array, width: number, height: number): Uint8Array | undefined {
  let zlib: NodeZlib | undefined;
  try {
    zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:zlib') as NodeZlib | undefined;
  } catch {
    // Next.js's edge runtime defines process.getBuiltinModule as a stub that throws.
    return undefined;
  }
  if (typeof zlib?.crc32 !== 'function') return undefined;
  // Each row is filter byte 0 (none) and its pixels.
  const rowLength = width * 3;
  const rows = new Uint8Array((rowLength + 1) * height);
  for (let y = 0; y < height; y++) rows.set(rgb.subarray(y * rowLength, (y + 1) * rowLength), y * (rowLength + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, adaptive filtering, no interlace
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
