import { ImagegenError } from '../errors/errors.js';

type Sharp = typeof import('sharp').default;

let loaded: Promise<Sharp> | undefined;

/**
 * Loads sharp on first use. It is an optional peer: only the emulator and the contact sheet need
 * it, so a library user's install does not pull a native image library it never calls.
 */
export function loadSharp(feature: string): Promise<Sharp> {
  loaded ??= import('sharp').then((module) => module.default);
  return loaded.catch((error: unknown) => {
    loaded = undefined;
    const { code } = (error ?? {}) as { code?: unknown };
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new ImagegenError({
      kind: 'missing-package',
      message: `${feature} needs the package sharp, which is not installed. Run: npm install sharp`,
      cause: error,
    });
  });
}
