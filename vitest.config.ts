import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Installs the consumer apps in the background while the other suites run (test/consumer).
    globalSetup: ['test/setup/consumer-apps.ts'],
  },
});
