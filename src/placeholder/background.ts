import { mulberry32 } from '../util/random.js';

/** What a placeholder's pixels are drawn from. */
export type Picture = { prompt: string; seed: number; width: number; height: number; model: string; settings?: string | undefined };

type Color = readonly [number, number, number];

/** The model's own colour, for its accent bar in the label. */
export function modelAccent(model: string): Color {
  return hsl(modelStyle(model).hue, 0.85, 0.62);
}

/**
 * Mixed into the model's hash. Found by a search over salts so that the models of Together's catalog
 * at this release look different: the FLUX models and local:placeholder each get a hue of their own,
 * every current Together model its own hue and composition. A model added later may share a look
 * with another; the label still tells them apart.
 */
const MODEL_SALT = 0xa0bb3;

/** The model's look: one of twelve hues 30° apart (told apart at a glance) and one of four compositions. */
export function modelStyle(model: string): { hue: number; composition: number } {
  const hash = scramble(hashString(model) ^ MODEL_SALT);
  return { hue: (hash % 12) * 30, composition: (hash >>> 8) % 4 };
}

/**
 * The abstract background: the model picks the palette's hue and one of four compositions (discs on
 * a diagonal gradient, rings, stripes, tiles), so columns of a comparison look different at a glance;
 * prompt and seed move the shapes within it.
 */
export function drawBackground(pixels: Uint8Array, { prompt, seed, width, height, model }: Picture): void {
  const modelHash = scramble(hashString(model));
  const { hue, composition } = modelStyle(model);
  const random = mulberry32(hashString(prompt) ^ Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(modelHash, 0x85ebca6b));
  const from = hsl(hue + random() * 20, 0.6, 0.3 + random() * 0.1);
  const to = hsl(hue + 30 + random() * 30, 0.65, 0.55 + random() * 0.1);
  const contrast = hsl(hue + 160 + random() * 40, 0.55, 0.5);
  const shortSide = Math.min(width, height);
  const discs = Array.from({ length: 3 + Math.floor(random() * 4) }, () => ({
    x: random() * width,
    y: random() * height,
    radius: (0.08 + random() * 0.22) * shortSide,
    color: random() < 0.5 ? contrast : to,
  }));
  const period = Math.max(4, Math.round((0.05 + random() * 0.07) * shortSide));
  const center = { x: random() * width, y: random() * height };
  const angle = random() * Math.PI;
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = composition === 2 ? y / height : (x / width + y / height) / 2;
      let r = from[0] + (to[0] - from[0]) * t;
      let g = from[1] + (to[1] - from[1]) * t;
      let b = from[2] + (to[2] - from[2]) * t;
      let mix = 0;
      if (composition === 1) {
        const dx = x - center.x;
        const dy = y - center.y;
        mix = Math.floor(Math.sqrt(dx * dx + dy * dy) / period) % 3 === 0 ? 0.6 : 0;
      } else if (composition === 2) {
        mix = Math.floor((x * cos + y * sin) / period + 1e6) % 2 === 0 ? 0.45 : 0;
      } else if (composition === 3) {
        mix = (Math.floor(x / (period * 2)) + Math.floor(y / (period * 2))) % 2 === 0 ? 0.35 : 0;
      }
      if (mix > 0) {
        r += (contrast[0] - r) * mix;
        g += (contrast[1] - g) * mix;
        b += (contrast[2] - b) * mix;
      }
      if (composition !== 1 && composition !== 2) {
        for (const disc of discs) {
          const dx = x - disc.x;
          const dy = y - disc.y;
          if (dx * dx + dy * dy < disc.radius * disc.radius) {
            r = (r + disc.color[0]) / 2;
            g = (g + disc.color[1]) / 2;
            b = (b + disc.color[2]) / 2;
          }
        }
      }
      const offset = (y * width + x) * 3;
      pixels[offset] = r;
      pixels[offset + 1] = g;
      pixels[offset + 2] = b;
    }
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

/** MurmurHash3's finalizer: model ids differing in one character get unrelated hues and compositions. */
export function scramble(hash: number): number {
  let value = hash;
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  return (value ^ (value >>> 16)) >>> 0;
}


/** Hue in degrees (any), saturation and lightness 0–1, to RGB 0–255. */
function hsl(hue: number, saturation: number, lightness: number): Color {
  const h = (((hue % 360) + 360) % 360) / 60;
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const second = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [chroma, second, 0] : h < 2 ? [second, chroma, 0] : h < 3 ? [0, chroma, second] : h < 4 ? [0, second, chroma] : h < 5 ? [second, 0, chroma] : [chroma, 0, second];
  const match = lightness - chroma / 2;
  return [(r + match) * 255, (g + match) * 255, (b + match) * 255];
}
