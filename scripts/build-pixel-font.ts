/**
 * Writes src/placeholder/pixel-font.ts from js-pixel-fonts' "Seven plus" font (MIT, hgcummings/pixel-fonts).
 * The package's entry needs pngjs (Node streams and zlib), so the edge-safe core cannot import it;
 * its glyphs are copied here as a module instead. Run `npx tsx scripts/build-pixel-font.ts` after upgrading the package;
 * test/render.test.ts fails when the copy and the package differ.
 */
import { writeFile } from 'node:fs/promises';
import { encodeFont, type SourceFont } from './encode-pixel-font.js';

const { default: font } = (await import('js-pixel-fonts/data/seven-plus.json', { with: { type: 'json' } })) as { default: SourceFont };
await writeFile(new URL('../src/placeholder/pixel-font.ts', import.meta.url), encodeFont(font));
