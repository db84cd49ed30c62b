import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A temp folder per run, removed at its end (first, so the consumer setup already uses it);
    // installs the consumer apps in the background while the other suites run (test/consumer).
    globalSetup: ['test/setup/temp-dir.ts', 'test/setup/consumer-apps.ts'],
    projects: [
      {
        extends: true,
        // The library, CLI and emulator suites run first, on their own: some measure pacing
        // against a rate limit and should not share two cores with a Next.js build.
        test: { name: 'unit', exclude: [...configDefaults.exclude, 'test/consumer/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // The installed package in fresh apps (Node 20 and 22, TypeScript, Next.js, edge), after them.
        test: { name: 'consumer', include: ['test/consumer/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
