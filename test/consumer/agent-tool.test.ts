import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { installApp, installNode22, lastJsonLine, packTarball, run } from '../helpers/consumer.js';

// The AI SDK image tool (issue 14) from the installed package, driven by the AI SDK's mock language
// model in an ai 6 app on Node 20 and an ai 7 app on Node 22. The scenario itself is
// test/consumer/apps/agent-tool.mjs (it prints one JSON line with `ok` and what it saw); without that
// file the two tests are skipped and say why.
const AGENT_TOOL = path.resolve('test/consumer/apps/agent-tool.mjs');
const present = existsSync(AGENT_TOOL);

let emulator: Emulator;

beforeAll(async () => {
  if (present) emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
});

afterAll(async () => {
  await emulator?.close();
});

describe('the AI SDK image tool in an installed app', () => {
  for (const { major, app: name, node } of [
    { major: 6, app: 'node-esm', node: async () => process.execPath },
    { major: 7, app: 'ai7', node: installNode22 },
  ]) {
    it.skipIf(!present)(`ai ${major}: agent-tool.mjs${present ? '' : ' (skipped: test/consumer/apps/agent-tool.mjs is missing)'}`, async () => {
      const app = await installApp({ name, tarball: await packTarball(), node: await node() });
      await cp(AGENT_TOOL, path.join(app.dir, 'agent-tool.mjs'));
      const result = await run(app.node, ['agent-tool.mjs'], { cwd: app.dir, env: { TOGETHER_API_KEY: 'agent-key', TOGETHER_BASE_URL: emulator.url } });
      const report = lastJsonLine<{ ok: boolean; aiMajor: number }>(result);
      expect(report, `${result.stdout}\n${result.stderr}`).toMatchObject({ ok: true, aiMajor: major });
      expect(result.code).toBe(0);
    }, 600_000);
  }
});
