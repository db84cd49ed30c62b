import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { encodePngWithNodeZlib } from '../util/png.js';
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
    return encodePngWithNodeZlib({ width, height, data: rgb, channels: 3 }) ?? encodePng({ width, height, data: rgb, channels: 3, depth: 8 });
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
