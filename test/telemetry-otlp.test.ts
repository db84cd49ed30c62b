import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { otelTarget } from '../src/cli/otel.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { memoryIO } from './helpers/cli.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.js';

/**
 * The CLI exports its spans through OpenTelemetry's SDK and OTLP/HTTP exporters to a real
 * receiver on 127.0.0.1, which decodes what arrives (protobuf, the default, or JSON).
 */

const KEY = 'test-key-otlp-0123456789';
const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';

let emulator: Emulator;
let receiver: OtlpReceiver;
let out: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 5 });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  receiver = await startOtlpReceiver();
  out = await mkdtemp(path.join(tmpdir(), 'imagegen-otlp-'));
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await receiver.close();
  await rm(out, { recursive: true, force: true });
});

/** The CLI with its own environment (the OTEL_* variables it reads), the provider's from the process. */
async function imagegen(args: string[], env: Record<string, string> = {}) {
  const io = { ...memoryIO(out), env: { ...process.env, ...env } };
  const code = await runCli(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

function checkTrace(spans: ReceivedSpan[], { images, command }: { images: number; command: string }) {
  const request = spans.find((span) => span.name === 'ai.generateImage');
  const calls = spans.filter((span) => span.name === 'ai.generateImage.doGenerate');
  expect(request).toBeDefined();
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.traceId).toBe(request!.traceId);
    expect(call.parentSpanId).toBe(request!.spanId);
  }
  expect(request!.scope).toBe('ai-imagegen');
  expect(request!.resource['service.name']).toBe('imagegen');
  expect(request!.attributes).toMatchObject({
    'operation.name': `ai.generateImage imagegen ${command}`,
    'ai.telemetry.functionId': `imagegen ${command}`,
    'ai.model.provider': 'togetherai',
    'ai.model.id': 'black-forest-labs/FLUX.1-schnell',
    'ai.settings.size': '256x256',
    'ai.settings.seed': 11,
    'ai.imagegen.images': images,
    'ai.prompt': JSON.stringify({ prompt: 'a red fox' }),
  });
  expect(request!.attributes['ai.imagegen.estimatedCostUsd']).toBeTypeOf('number');
  expect(JSON.stringify(spans)).not.toContain(KEY);
}

describe('imagegen --otel: spans to an OTLP/HTTP receiver on 127.0.0.1', () => {
  it('--otel-endpoint: protobuf, the OTLP default, one request span and its call spans', async () => {
    const result = await imagegen(['generate', 'a red fox', '-m', SCHNELL, '-s', '256x256', '-n', '2', '--seed', '11', '-o', out, '--otel-endpoint', receiver.url]);
    expect(result.stderr).not.toContain('could not export');
    expect(result.code).toBe(0);
    expect(receiver.contentTypes().every((type) => type.includes('application/x-protobuf'))).toBe(true);
    checkTrace(receiver.spans(), { images: 2, command: 'generate' });
  }, 30_000);

  it('OTEL_EXPORTER_OTLP_ENDPOINT alone turns export on; OTEL_EXPORTER_OTLP_PROTOCOL=http/json sends JSON; OTEL_SERVICE_NAME names the service', async () => {
    const result = await imagegen(['generate', 'a red fox', '-m', SCHNELL, '-s', '256x256', '--seed', '11', '-o', out], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'imagegen',
    });
    expect(result.code).toBe(0);
    expect(receiver.contentTypes().length).toBeGreaterThan(0);
    expect(receiver.contentTypes().every((type) => type.includes('application/json'))).toBe(true);
    checkTrace(receiver.spans(), { images: 1, command: 'generate' });
  });

  it("OTEL_EXPORTER_OTLP_HEADERS reach the collector, and their values (a collector's key) are never printed", async () => {
    const collectorKey = 'collector-key-0123456789';
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', `x-collector-team=${collectorKey}`);
    const result = await imagegen(['generate', 'a red fox', '-m', SCHNELL, '-s', '256x256', '--seed', '11', '-o', out, '--otel-endpoint', receiver.url], {
      OTEL_EXPORTER_OTLP_HEADERS: `x-collector-team=${collectorKey}`,
    });
    expect(result.code).toBe(0);
    expect(receiver.headers()[0]?.['x-collector-team']).toBe(collectorKey);

    // A collector that refuses the key and echoes it in its answer, which the exporter's error carries.
    const refusing = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(403, { 'content-type': 'text/plain' }).end(`unknown team ${String(request.headers['x-collector-team'])}`));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const failed = await imagegen(['generate', 'a red fox', '-m', SCHNELL, '-s', '256x256', '-o', out, '--otel-endpoint', url, '--json'], {
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-team=${collectorKey}`,
      });
      expect(failed.code).toBe(0);
      expect(failed.stderr).toContain('could not export spans');
      expect(failed.stderr).toContain('unknown team ***');
      expect(failed.stderr + failed.stdout).not.toContain(collectorKey);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  }, 30_000);

  it('batch: one request span per job, its calls beneath it', async () => {
    const file = path.join(out, 'prompts.txt');
    await import('node:fs/promises').then(({ writeFile }) => writeFile(file, 'a red fox\na red fox\n'));
    const result = await imagegen(['batch', file, '-m', SCHNELL, '-s', '256x256', '--seed', '11', '-o', path.join(out, 'batch'), '--no-cache', '--otel-endpoint', receiver.url]);
    expect(result.stderr).not.toContain('could not export');
    expect(result.code).toBe(0);
    const requests = receiver.spans().filter((span) => span.name === 'ai.generateImage');
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      const trace = receiver.spans().filter((span) => span.traceId === request.traceId);
      checkTrace(trace, { images: 1, command: 'batch' });
    }
  });

  it('an endpoint that does not answer: the run succeeds, and says once that spans could not be exported', async () => {
    const closed = await startOtlpReceiver();
    await closed.close();
    // Read by the exporter itself: how long it tries before giving up (the OTLP default is 10 s).
    vi.stubEnv('OTEL_EXPORTER_OTLP_TIMEOUT', '1000');
    const started = Date.now();
    const result = await imagegen(['generate', 'a red fox', '-m', SCHNELL, '-s', '256x256', '-o', out, '--otel-endpoint', closed.url]);
    expect(result.code).toBe(0);
    expect(result.stderr.match(/could not export spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/g)).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it('bad settings are usage errors (exit 2), before anything is sent', async () => {
    const before = emulator.stats().requests;
    const bad = await imagegen(['generate', 'a red fox', '-o', out, '--otel-endpoint', 'localhost:4318']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--otel-endpoint must be an http(s) URL');
    const grpc = await imagegen(['generate', 'a red fox', '-o', out, '--otel'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.code).toBe(2);
    expect(grpc.stderr).toContain('OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json');
    expect(emulator.stats().requests).toBe(before);
  });
});

describe('otelTarget', () => {
  it('reads --otel, --otel-endpoint and the OTEL_* variables as the OTLP exporter spec says', () => {
    expect(otelTarget({}, {})).toBeUndefined();
    expect(otelTarget({ otel: true }, {})).toEqual({ url: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf' });
    expect(otelTarget({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf' });
    expect(otelTarget({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom' })?.url).toBe('http://collector:4318/custom');
    expect(otelTarget({ otelEndpoint: 'https://otel.example/v1/traces' }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other' })?.url).toBe('https://otel.example/v1/traces');
    expect(otelTarget({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(otelTarget({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(otelTarget({ otel: true }, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })?.protocol).toBe('http/json');
  });
});
