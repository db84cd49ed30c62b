import { renderPlaceholder } from '../../src/placeholder/render.js';

/** A small real PNG, for reference-image inputs. */
export const SMALL_PNG = renderPlaceholder({ prompt: 'fixture', seed: 1, width: 16, height: 16, format: 'png' });

/** Seeds that never change, so plans are reproducible in tests. */
export const fixedSeed = () => 1234;
