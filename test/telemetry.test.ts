import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { TelemetrySettings as AiTelemetrySettings } from 'ai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateImages, InvalidApiKeyError, InvalidRequestError, prepareGeneration } from '../src/index.js';
import { parseExperiment } from '../src/compare/experiment.js';
import { runExperiment } from '../src/compare/run.js';
import { imageGenerationTool } from '../src/index.js';
import { createImagegenMcpServer } from '../src/mcp/server.js';
import { traceRequest } from '../src/telemetry/trace.js';
import { emulatorPerTest } from './helpers/emulators.js';
import { startProviderServer, testImage, toBase64, TEST_KEY, type ProviderServer } from './helpers/provider-server.js';

/**
 * Spans as the AI SDK records generateText's, for images: recorded by OpenTelemetry's SDK into its
 * in-memory exporter, the provider a real HTTP server on 127.0.0.1 answered through @ai-sdk/openai.
 */

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

/** What the server answers next, per request: a status, or images. */
let script: (number | 'ok')[] = [];
let server: ProviderServer;
const emulator = emulatorPerTest();

beforeAll(async () => {
  server = await startProviderServer([
    {
      method: 'POST',
      path: '/images/generations',
      respond: (request) => {
        const next = script.shift() ?? 'ok';
        if (next !== 'ok') return { status: next, json: { error: { message: `scripted ${next}`, type: 'server_error' } } };
        const { n } = request.body as { n: number };
        return { json: { created: 1, data: Array.from({ length: n }, (_, index) => ({ b64_json: toBase64(testImage(index)) })) } };
      },
    },
  ]);
});
afterAll(async () => {
  await server.close();
  await provider.shutdown();
});
beforeEach(() => {
  vi.stubEnv('OPENAI_API_KEY', TEST_KEY);
  vi.stubEnv('OPENAI_BASE_URL', server.url);
  script = [];
  server.reset();
  exporter.reset();
});
afterEach(() => vi.unstubAllEnvs());

const byName = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
const only = (name: string): ReadableSpan => {
  const spans = byName(name);
  expect(spans).toHaveLength(1);
  return spans[0]!;
};
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;
/** Everything a span holds, as text: to check what never appears in it. */
const dump = () => JSON.stringify(exporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })));

describe('telemetry spans', () => {
  it("ai 6's experimental_telemetry: one ai.generateImage span, a doGenerate child per provider call, named as generateText's", async () => {
    await emulator();
    const result = await generateImages(
      { prompt: 'a red fox', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', count: 6, seed: 9 },
      { experimental_telemetry: { isEnabled: true, functionId: 'avatars', metadata: { team: 'web', tries: 2 }, tracer }, maxRetries: 1 },
    );
    expect(result.images).toHaveLength(6);

    const request = only('ai.generateImage');
    const calls = byName('ai.generateImage.doGenerate').sort((a, b) => Number(a.attributes['ai.settings.seed']) - Number(b.attributes['ai.settings.seed']));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(parentId(call)).toBe(request.spanContext().spanId);
    }
    expect(request.attributes).toMatchObject({
      'operation.name': 'ai.generateImage avatars',
      'resource.name': 'avatars',
      'ai.operationId': 'ai.generateImage',
      'ai.telemetry.functionId': 'avatars',
      'ai.telemetry.metadata.team': 'web',
      'ai.telemetry.metadata.tries': 2,
      'ai.model.provider': 'togetherai',
      'ai.model.id': 'black-forest-labs/FLUX.1-schnell',
      'ai.settings.n': 6,
      'ai.settings.size': '256x256',
      'ai.settings.seed': 9,
      'ai.settings.maxRetries': 1,
      'gen_ai.system': 'togetherai',
      'gen_ai.request.model': 'black-forest-labs/FLUX.1-schnell',
      'gen_ai.request.choice.count': 6,
      'gen_ai.request.seed': 9,
      'ai.prompt': JSON.stringify({ prompt: 'a red fox' }),
      'ai.imagegen.images': 6,
      'ai.imagegen.requests': 2,
      'ai.imagegen.failedCalls': 0,
      'ai.imagegen.estimatedCostUsd': result.estimatedCostUsd,
    });
    expect(result.estimatedCostUsd).toBeGreaterThan(0);
    expect(request.attributes['ai.imagegen.durationMs']).toBeTypeOf('number');
    expect(request.attributes).not.toHaveProperty('ai.imagegen.actualCostUsd');
    expect(request.status.code).toBe(0);

    expect(calls.map((call) => [call.attributes['ai.settings.n'], call.attributes['ai.settings.seed'], call.attributes['gen_ai.request.seed']])).toEqual(
      result.calls.map((call) => [call.n, call.seed, call.seed]),
    );
    for (const [position, call] of calls.entries()) {
      const n = result.calls[position]!.n;
      expect(call.attributes).toMatchObject({
        'operation.name': 'ai.generateImage.doGenerate avatars',
        'ai.operationId': 'ai.generateImage.doGenerate',
        'ai.telemetry.metadata.team': 'web',
        'ai.model.id': 'black-forest-labs/FLUX.1-schnell',
        'ai.settings.size': '256x256',
        'ai.imagegen.attempts': 1,
        'ai.imagegen.retries': 0,
        'ai.imagegen.images': n,
        'ai.response.id': result.calls[position]!.responseId,
        'gen_ai.response.id': result.calls[position]!.responseId,
        'ai.prompt': JSON.stringify({ prompt: 'a red fox' }),
      });
      expect(call.attributes['ai.imagegen.estimatedCostUsd']).toBeCloseTo((result.estimatedCostUsd! * n) / 6, 8);
      expect(JSON.parse(call.attributes['ai.response.images'] as string)).toHaveLength(n);
    }
    const described = (images: object[]) => images.map((image) => JSON.stringify(image)).sort();
    expect(described(JSON.parse(request.attributes['ai.response.images'] as string))).toEqual(described(result.images.map(({ mediaType, width, height, seed }) => ({ mediaType, width, height, seed }))));
    // Never a key, never image bytes.
    expect(dump()).not.toContain('test-key');
    expect(dump()).not.toContain(result.images[0]!.base64.slice(0, 40));
  });

  it("ai 7's telemetry: recordInputs false leaves the prompt out, recordOutputs false the images", async () => {
    await generateImages(
      { prompt: 'a secret plan', negativePrompt: 'blur', model: 'openai:dall-e-3' },
      { telemetry: { isEnabled: true, recordInputs: false, recordOutputs: false, tracer } },
    );
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(dump()).not.toContain('secret plan');
    expect(dump()).not.toContain('blur');
    expect(dump()).not.toContain('ai.response.images');

    exporter.reset();
    await generateImages({ prompt: 'a secret plan', negativePrompt: 'blur', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, tracer } });
    // The request span has the prompt as asked; the call span what was sent (dall-e-3 takes no negative prompt).
    expect(only('ai.generateImage').attributes['ai.prompt']).toBe(JSON.stringify({ prompt: 'a secret plan', negativePrompt: 'blur' }));
    expect(only('ai.generateImage.doGenerate').attributes['ai.prompt']).toBe(JSON.stringify({ prompt: 'a secret plan' }));
  });

  it("takes the AI SDK's own TelemetrySettings object as it is (type-checked by npm test's tsc)", async () => {
    const settings: AiTelemetrySettings = { isEnabled: true, functionId: 'shared', metadata: { tags: ['a', 'b'] }, tracer, recordInputs: true, recordOutputs: true, integrations: [] };
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { experimental_telemetry: settings, telemetry: settings });
    expect(only('ai.generateImage').attributes['ai.telemetry.metadata.tags']).toEqual(['a', 'b']);
  });

  it('telemetry wins over experimental_telemetry when both are given', async () => {
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, functionId: 'new', tracer }, experimental_telemetry: { isEnabled: true, functionId: 'old', tracer } });
    expect(only('ai.generateImage').attributes['ai.telemetry.functionId']).toBe('new');
  });

  it('records nothing when telemetry is off, or isEnabled is false', async () => {
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: false, tracer } });
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { functionId: 'off by default', tracer } });
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('a retried call: its span counts the attempts', async () => {
    script = [500, 'ok'];
    await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, tracer }, maxRetries: 2 });
    expect(only('ai.generateImage.doGenerate').attributes).toMatchObject({ 'ai.imagegen.attempts': 2, 'ai.imagegen.retries': 1, 'ai.imagegen.images': 1 });
    expect(only('ai.generateImage').attributes).toMatchObject({ 'ai.imagegen.requests': 2 });
  });

  it('one call failing while the other succeeds: the failed call span has the error, the request span does not', async () => {
    script = ['ok', 500];
    const result = await generateImages({ prompt: 'p', model: 'openai:dall-e-3', count: 2 }, { telemetry: { isEnabled: true, tracer }, maxRetries: 0, concurrency: 1 });
    expect(result.errors).toHaveLength(1);
    const [ok, failed] = byName('ai.generateImage.doGenerate').sort((a, b) => Number(a.attributes['ai.imagegen.images'] === 0) - Number(b.attributes['ai.imagegen.images'] === 0));
    expect(ok!.status.code).toBe(0);
    expect(failed!.status).toEqual({ code: 2, message: result.errors[0]!.message });
    expect(failed!.attributes['error.type']).toBe('provider');
    expect(failed!.events.map((event) => event.name)).toEqual(['exception']);
    expect(failed!.events[0]!.attributes).toMatchObject({ 'exception.type': result.errors[0]!.name, 'exception.message': result.errors[0]!.message });
    expect(only('ai.generateImage').status.code).toBe(0);
    expect(only('ai.generateImage').attributes).toMatchObject({ 'ai.imagegen.images': 1, 'ai.imagegen.failedCalls': 1 });
  });

  it('a failed request: both spans carry the error, and no key', async () => {
    script = [401];
    const error = await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, tracer } }).catch((caught: unknown) => caught);
    expect(InvalidApiKeyError.isInstance(error)).toBe(true);
    for (const span of exporter.getFinishedSpans()) {
      expect(span.status).toEqual({ code: 2, message: (error as Error).message });
      expect(span.attributes['error.type']).toBe('invalid-api-key');
    }
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(dump()).not.toContain(TEST_KEY);
  });

  it('an invalid request: the request span has the InvalidRequestError, and there is no call span', async () => {
    const error = await generateImages({ prompt: '', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, tracer } }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(only('ai.generateImage').attributes).toMatchObject({ 'ai.model.id': 'openai:dall-e-3', 'error.type': 'invalid-request' });
    expect(byName('ai.generateImage.doGenerate')).toEqual([]);
    expect(server.requests()).toEqual([]);
  });

  it('bad telemetry settings: an InvalidRequestError naming the field, before anything is sent', async () => {
    const attempt = (options: object) => generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, options as never).catch((caught: unknown) => caught);
    const error = await attempt({ telemetry: { isEnabled: 'yes', metadata: { nested: { a: 1 } }, tracer: {} } });
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as InvalidRequestError).issues.map((issue) => issue.field).sort()).toEqual(['telemetry.isEnabled', 'telemetry.metadata.nested', 'telemetry.tracer']);
    expect((error as Error).message).toContain('telemetry.isEnabled: must be true or false (got "yes")');
    expect((error as Error).message).toContain('telemetry.metadata.nested: must be a string, number, boolean, or an array');
    expect((error as Error).message).toContain('telemetry.tracer: must be an OpenTelemetry Tracer');
    const alias = await attempt({ experimental_telemetry: 'on' });
    expect((alias as InvalidRequestError).issues).toMatchObject([{ field: 'experimental_telemetry', value: 'on' }]);
    expect(server.requests()).toEqual([]);
  });

  it("the global tracer provider's tracer when none is given, with the request span active around the calls", async () => {
    expect(provider.register()).toBeUndefined();
    try {
      const parent = trace.getTracer('app').startSpan('app.route');
      await context.with(trace.setSpan(context.active(), parent), () => generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true } }));
      parent.end();
      const request = only('ai.generateImage');
      expect(parentId(request)).toBe(parent.spanContext().spanId);
      expect(request.instrumentationScope.name).toBe('ai-imagegen');
      expect(parentId(only('ai.generateImage.doGenerate'))).toBe(request.spanContext().spanId);
    } finally {
      trace.disable();
      context.disable();
    }
  });

  it('without @opentelemetry/api or a tracer: says what to install, before anything is sent', async () => {
    const { resetOpenTelemetryApi, loadOpenTelemetryApi } = await import('../src/telemetry/open-telemetry.js');
    resetOpenTelemetryApi();
    await loadOpenTelemetryApi(() => Promise.reject(Object.assign(new Error("Cannot find package '@opentelemetry/api'"), { code: 'ERR_MODULE_NOT_FOUND' })));
    try {
      const error = await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true } }).catch((caught: unknown) => caught);
      expect((error as Error).message).toContain('npm install @opentelemetry/api');
      expect((error as InvalidRequestError).issues[0]!.field).toBe('telemetry.tracer');
      // A tracer of the app's own is enough: its startActiveSpan (and the app's context manager) nests the spans.
      provider.register();
      await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { isEnabled: true, tracer } });
      expect(only('ai.generateImage').attributes['ai.imagegen.images']).toBe(1);
      expect(parentId(only('ai.generateImage.doGenerate'))).toBe(only('ai.generateImage').spanContext().spanId);
    } finally {
      resetOpenTelemetryApi();
      trace.disable();
      context.disable();
    }
    expect(server.requests()).toHaveLength(1);
  });

  it("ai 7's integrations: onStart and onEnd with ai.generateImage events; one that throws does not break the request", async () => {
    const events: unknown[] = [];
    const integration = { onStart: (event: unknown) => void events.push(event), onEnd: (event: unknown) => void events.push(event) };
    const finished: unknown[] = [];
    const ai6 = { onFinish: (event: unknown) => void finished.push(event) };
    const broken = {
      onStart: () => {
        throw new Error('integration bug');
      },
    };
    const result = await generateImages({ prompt: 'p', model: 'openai:dall-e-3' }, { telemetry: { integrations: [integration, broken, ai6], functionId: 'f' } });
    expect(result.images).toHaveLength(1);
    expect(events).toMatchObject([
      { operationId: 'ai.generateImage', provider: 'openai', modelId: 'dall-e-3', prompt: 'p', n: 1, size: '1024x1024', functionId: 'f' },
      { operationId: 'ai.generateImage', provider: 'openai', modelId: 'dall-e-3', requests: 1, failedCalls: 0, images: [{ mediaType: 'image/png', width: 256, height: 256 }] },
    ]);
    expect((events[0] as { callId: string }).callId).toBe((events[1] as { callId: string }).callId);
    expect(finished).toEqual([events[1]]);
  });

  it("reads the call report's actualCostUsd where a provider reported one, and sums it on the request", async () => {
    const prepared = await prepareGeneration({ prompt: 'p', model: 'openai:dall-e-3', count: 2 });
    const outcome = (cost: number | undefined) => ({ images: [{ mediaType: 'image/png', width: 1, height: 1, seed: 1 }], report: { attempts: 1, durationMs: 5, responseId: 'r', error: undefined, actualCostUsd: cost } });
    await traceRequest({ request: { prompt: 'p' }, options: { telemetry: { isEnabled: true, tracer } } }, async (traced) => {
      await traced.call(prepared, prepared.calls[0]!.call, async () => outcome(0.04));
      await traced.call(prepared, prepared.calls[1]!.call, async () => outcome(0.0125));
    });
    expect(byName('ai.generateImage.doGenerate').map((span) => span.attributes['ai.imagegen.actualCostUsd'])).toEqual([0.04, 0.0125]);
    expect(only('ai.generateImage').attributes['ai.imagegen.actualCostUsd']).toBe(0.0525);
    expect(byName('ai.generateImage.doGenerate')[0]!.attributes).toMatchObject({ 'ai.response.id': 'r', 'gen_ai.response.id': 'r' });
  });

  it('a call that throws (not a reported failure): its span still ends, with the error, and the error goes on', async () => {
    const prepared = await prepareGeneration({ prompt: 'p', model: 'openai:dall-e-3' });
    const thrown = new Error('stopped');
    const run = traceRequest({ request: { prompt: 'p' }, options: { telemetry: { isEnabled: true, tracer } } }, (traced) =>
      traced.call(prepared, prepared.calls[0]!.call, () => Promise.reject(thrown)),
    );
    await expect(run).rejects.toBe(thrown);
    expect(only('ai.generateImage.doGenerate').status).toEqual({ code: 2, message: 'stopped' });
    expect(only('ai.generateImage').attributes).toMatchObject({ 'ai.imagegen.failedCalls': 1, 'ai.settings.maxRetries': 2, 'error.type': 'Error' });
  });

  it("the agent tool: its request span nests under generateText's ai.toolCall span", async () => {
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
    const model = new MockLanguageModelV3({
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'draw', input: JSON.stringify({ prompt: 'a fox' }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] },
        { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
      ],
    });
    provider.register();
    try {
      await generateText({
        model,
        tools: { draw: imageGenerationTool({ model: 'openai:dall-e-3', sendImagesToModel: false, telemetry: { isEnabled: true, tracer, functionId: 'agent' } }) },
        stopWhen: stepCountIs(2),
        prompt: 'draw',
        experimental_telemetry: { isEnabled: true, tracer },
      });
    } finally {
      trace.disable();
      context.disable();
    }
    const toolCall = only('ai.toolCall');
    const request = only('ai.generateImage');
    expect(parentId(request)).toBe(toolCall.spanContext().spanId);
    expect(request.attributes['ai.telemetry.functionId']).toBe('agent');
    expect(parentId(only('ai.generateImage.doGenerate'))).toBe(request.spanContext().spanId);
    expect(() => imageGenerationTool({ telemetry: { isEnabled: 1 as never } })).toThrow(/telemetry\.isEnabled/);
  });

  it('MCP: generate_image records its spans', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-telemetry-mcp-'));
    const server = createImagegenMcpServer({ outDir, model: 'openai:dall-e-3', maxCount: 2, version: '0.0.0', log: () => {}, telemetry: { isEnabled: true, tracer, functionId: 'mcp' } });
    const client = new Client({ name: 'test', version: '1.0.0' });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    try {
      await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
      const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox' } });
      expect(result.isError).not.toBe(true);
      expect(only('ai.generateImage').attributes).toMatchObject({ 'ai.telemetry.functionId': 'mcp', 'ai.imagegen.images': 1 });
      expect(byName('ai.generateImage.doGenerate')).toHaveLength(1);
    } finally {
      await client.close();
      await rm(outDir, { recursive: true, force: true });
    }
  });

  it('compare: a request span per cell, through the batch engine', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-telemetry-compare-'));
    try {
      const experiment = parseExperiment({ prompts: ['a fox'], models: ['local:placeholder'], seeds: [1, 2], size: '64x64' });
      const result = await runExperiment({ experiment, outDir, cache: false, cellSize: 32, telemetry: { isEnabled: true, tracer, functionId: 'compare' } });
      expect(result.rows.filter((row) => row.status === 'done')).toHaveLength(2);
      const requests = byName('ai.generateImage');
      expect(requests.map((span) => span.attributes['ai.settings.seed']).sort()).toEqual([1, 2]);
      for (const request of requests) {
        expect(request.attributes).toMatchObject({ 'ai.telemetry.functionId': 'compare', 'ai.model.provider': 'local', 'ai.settings.maxRetries': 5 });
        const calls = byName('ai.generateImage.doGenerate').filter((call) => parentId(call) === request.spanContext().spanId);
        expect(calls).toHaveLength(1);
      }
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
