/** This package's version, kept equal to package.json's by `npm version` (scripts/sync-version.mjs) and a test. */
export const VERSION = '0.1.0';
