// The Node entry: everything in the core, plus reference images from files and saving to disk.
import { generateImages as generateImagesCore, type GenerateImagesOptions, type GenerateImagesResult } from '../generate.js';
import type { GenerateRequest } from '../request.js';
import { readImageFile } from './files.js';

export * from '../index.js';
export { imageFileName, pathInside, readImageFile, saveImages, slugify, writeFileAtomically } from './files.js';
export type { SavedImage, Sidecar } from './files.js';

/** `generateImages` with reference images readable from file paths. */
export function generateImages(request: GenerateRequest, options: GenerateImagesOptions = {}): Promise<GenerateImagesResult> {
  return generateImagesCore(request, { readFile: readImageFile, ...options });
}
