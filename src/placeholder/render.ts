import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { drawBackground } from './background.js';
import { drawLabel } from './label.js';

/**
 * The placeholder renderer behind `local:placeholder` and the emulator: a deterministic picture
 * labelled with what was asked for (a "PLACEHOLDER" mark, the model, the prompt, seed and size) over
 * an abstract background whose palette and composition come from the model id, so that a contact
 * sheet or gallery of placeholders shows which cell is which. It is not a diffusion model; it exists
 * so that everything around generation can be developed and tested offline.
 * Pure JavaScript (text in an embedded pixel font), so it runs on edge runtimes too.
 */
export type RenderOptions = {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  /** Shown in the label; picks the palette and composition. */
  model?: string | undefined;
  /**
   * The other settings the picture was asked with (`steps 28, guidance 3.5`), printed under the
   * model so that cells of a compare that differ only in them look different. Not in the picture's
   * composition, which stays prompt + seed + model.
   */
  settings?: string | undefined;
};

/** RGB pixels (3 bytes each, row-major) of the placeholder picture. */
export function renderPixels({ prompt, seed, width, height, model = '', settings }: RenderOptions): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  drawBackground(pixels, { prompt, seed, width, height, model });
  drawLabel(pixels, { prompt, seed, width, height, model, settings });
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
