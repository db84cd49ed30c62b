import { decode as decodePng, encode as encodePng, type DecodedPng } from 'fast-png';
import { imageSize } from 'image-size';
import jpeg from 'jpeg-js';
import { errorMessage, InvalidRequestError } from '../errors/errors.js';
import { encodePngWithNodeZlib } from '../util/png.js';
import type { ReferenceImage } from '../shared/plan.js';

/**
 * A mask in the form each provider wants. The toolkit takes either form: a mask with transparency
 * (transparent = repaint, OpenAI's form) or an opaque one read by brightness (white = repaint,
 * black = keep: Black Forest Labs, fal, Replicate). Each provider's `mapCall` asks for its form here;
 * a mask already in it goes out as given, byte for byte. Pure JavaScript (fast-png, jpeg-js), so it
 * runs on edge runtimes too.
 */

/**
 * `alpha`: a PNG whose transparent pixels mark what to repaint; `black-and-white`: white marks it;
 * `black-on-white`: an opaque RGB PNG of pure black (repaint) and pure white (keep), Nova Canvas's form.
 */
export type MaskForm = 'alpha' | 'black-and-white' | 'black-on-white';

/**
 * A converted mask as PNG: through Node's zlib where there is one (encoding is most of a
 * conversion's time in pure JS), else fast-png at deflate level 1 (masks are flat areas that
 * compress well at any level, and level 1 is faster than its default).
 */
export function encodeMask({ width, height, data, channels }: { width: number; height: number; data: Uint8Array; channels: 1 | 3 | 4 }): Uint8Array {
  return encodePngWithNodeZlib({ width, height, data, channels }) ?? encodePng({ width, height, data, channels, depth: 8 }, { zlib: { level: 1 } });
}

/** A mask's pixels as how strongly each is repainted (0 keep … 255 repaint), and whether it had transparency. */
type MaskPixels = { width: number; height: number; strength: Uint8Array; transparent: boolean };

// Converted once per mask and form, though a request's calls map it once each.
const converted = new WeakMap<Uint8Array, Partial<Record<MaskForm, { bytes: Uint8Array; rounded: boolean }>>>();

/**
 * The plan's mask as `form`. Bytes are converted where they are not in that form already; a URL is
 * passed on as given (the toolkit does not download it), so it must already be in the provider's form.
 * Throws `InvalidRequestError` (field `mask`) for bytes that cannot be read as a PNG or JPEG.
 */
export function maskAs(mask: ReferenceImage, form: MaskForm, { warn }: { warn?: (message: string) => void } = {}): string | Uint8Array {
  if (mask.kind === 'url') return mask.url;
  // The common case needs no decoding: an opaque mask to a provider that reads black and white.
  if (form === 'black-and-white' && isOpaque(mask)) return mask.data;
  let entry = converted.get(mask.data)?.[form];
  if (entry === undefined) {
    const pixels = readMask(mask);
    const rounded = form === 'black-on-white' && pixels.strength.some((strength) => strength !== 0 && strength !== 255);
    entry = { bytes: convert(mask, pixels, form), rounded };
    converted.set(mask.data, { ...converted.get(mask.data), [form]: entry });
  }
  if (entry.rounded) warn?.('the mask has grey or half-transparent pixels; they were made pure black (repaint) or white (keep) at the halfway mark');
  return entry.bytes;
}

function convert(mask: ReferenceImage & { kind: 'bytes' }, pixels: MaskPixels, form: MaskForm): Uint8Array {
  const { width, height, strength } = pixels;
  if (form === 'alpha') {
    if (pixels.transparent && mask.mediaType === 'image/png') return mask.data;
    // Black everywhere; kept pixels opaque, repainted ones transparent (soft edges stay soft).
    const data = new Uint8Array(width * height * 4);
    for (let index = 0; index < strength.length; index++) data[index * 4 + 3] = 255 - strength[index]!;
    return encodeMask({ width, height, data, channels: 4 });
  }
  if (form === 'black-on-white') {
    const data = new Uint8Array(width * height * 3);
    for (let index = 0; index < strength.length; index++) data.fill(strength[index]! >= 128 ? 0 : 255, index * 3, index * 3 + 3);
    return encodeMask({ width, height, data, channels: 3 });
  }
  if (!pixels.transparent) return mask.data;
  return encodeMask({ width, height, data: strength, channels: 1 });
}

/**
 * Whether a mask cannot have transparency, from its header alone: a JPEG, or a PNG of grey or RGB
 * pixels without a tRNS chunk (its colour type is byte 25; chunks follow the 8-byte signature).
 */
function isOpaque({ data, mediaType }: { data: Uint8Array; mediaType: string }): boolean {
  if (mediaType === 'image/jpeg') return true;
  if (mediaType !== 'image/png' || data.length < 33 || (data[25] !== 0 && data[25] !== 2)) return false;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 8; offset + 8 <= data.length; offset += 12 + view.getUint32(offset)) {
    const type = String.fromCharCode(data[offset + 4]!, data[offset + 5]!, data[offset + 6]!, data[offset + 7]!);
    if (type === 'tRNS') return false;
    if (type === 'IDAT') return true;
  }
  return false;
}

/** Decodes a PNG or JPEG mask into repaint strengths: 255 minus alpha when it has transparency, else brightness. */
export function readMask(mask: ReferenceImage & { kind: 'bytes' }): MaskPixels {
  // A small file can hold a huge picture: the header says how big before anything is decoded.
  const { width = 0, height = 0 } = headerSize(mask.data);
  if (width * height > MAX_MASK_PIXELS) {
    throw maskError(mask.source, `is ${width}x${height}; masks of up to ${MAX_MASK_PIXELS / 1_000_000} megapixels are converted`);
  }
  try {
    if (mask.mediaType === 'image/jpeg') {
      const { width, height, data } = jpeg.decode(mask.data, { useTArray: true, formatAsRGBA: true });
      return fromRgba(width, height, data);
    }
    if (mask.mediaType === 'image/png') return fromRgba(...pngToRgba(decodePng(mask.data)));
  } catch (error) {
    throw maskError(mask.source, `cannot be read as a ${mask.mediaType === 'image/png' ? 'PNG' : 'JPEG'} (${errorMessage(error)})`);
  }
  throw maskError(mask.source, `is ${mask.mediaType}; a mask must be a PNG or JPEG`);
}

/** Largest mask converted: 64 MP, 256 MiB as RGBA (GPT Image's largest sizes are about 8 MP). */
const MAX_MASK_PIXELS = 64_000_000;

function headerSize(data: Uint8Array): { width?: number | undefined; height?: number | undefined } {
  try {
    return imageSize(data);
  } catch {
    return {};
  }
}

function maskError(source: string, message: string): InvalidRequestError {
  return new InvalidRequestError({ issues: [{ field: 'mask', value: source, message }] });
}

function fromRgba(width: number, height: number, rgba: Uint8Array): MaskPixels {
  const count = width * height;
  let transparent = false;
  for (let index = 0; index < count && !transparent; index++) transparent = rgba[index * 4 + 3]! < 255;
  const strength = new Uint8Array(count);
  for (let index = 0; index < count; index++) {
    const offset = index * 4;
    strength[index] = transparent
      ? 255 - rgba[offset + 3]!
      : Math.round(0.299 * rgba[offset]! + 0.587 * rgba[offset + 1]! + 0.114 * rgba[offset + 2]!);
  }
  return { width, height, strength, transparent };
}

/**
 * Any PNG as 8-bit RGBA: grey, grey+alpha, RGB, RGBA or indexed; 1 to 16 bits per sample; a
 * palette's or a key colour's transparency (tRNS) applied.
 */
function pngToRgba(png: DecodedPng): [number, number, Uint8Array] {
  const { width, height, depth, channels, data, palette, transparency } = png;
  const rowBits = Math.ceil((width * channels * depth) / 8) * 8;
  const raw = (x: number, y: number, channel: number): number => {
    if (depth >= 8) return data[(y * width + x) * channels + channel]!;
    const bit = y * rowBits + (x * channels + channel) * depth;
    return (data[bit >> 3]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
  };
  const scale = 255 / ((1 << depth) - 1);
  const key = palette === undefined && transparency !== undefined && transparency.length > 0 ? transparency : undefined;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const target = (y * width + x) * 4;
      if (palette !== undefined) {
        const [red = 0, green = 0, blue = 0, alpha = 255] = palette[raw(x, y, 0)] ?? [];
        rgba.set([red, green, blue, alpha], target);
        continue;
      }
      const grey = channels < 3;
      const red = raw(x, y, 0);
      const green = grey ? red : raw(x, y, 1);
      const blue = grey ? red : raw(x, y, 2);
      // A key colour (tRNS on grey or RGB images) is fully transparent.
      const keyed = key !== undefined && red === key[0] && (grey || (green === key[1] && blue === key[2]));
      rgba[target] = Math.round(red * scale);
      rgba[target + 1] = Math.round(green * scale);
      rgba[target + 2] = Math.round(blue * scale);
      rgba[target + 3] = keyed ? 0 : channels === 2 || channels === 4 ? Math.round(raw(x, y, channels - 1) * scale) : 255;
    }
  }
  return [width, height, rgba];
}
