import type { LanguageModelV3GenerateResult, LanguageModelV3Prompt } from '@ai-sdk/provider';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { imageGenerationTool, type GeneratedImage } from '../src/index.js';

const KEY = 'test-key-0123456789';
const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.unstubAllEnvs();
  emulator.reset();
});

function useEmulator() {
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** A language model that calls the tool with `input`, then answers with text. */
function agentModel(input: Record<string, unknown>) {
  const results: LanguageModelV3GenerateResult[] = [
    {
      content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'generateImage', input: JSON.stringify(input) }],
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage,
      warnings: [],
    },
    { content: [{ type: 'text', text: 'Here it is.' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
  ];
  return new MockLanguageModelV3({ doGenerate: results });
}

/** The tool message the language model saw in its second call. */
function toolMessageSeen(model: MockLanguageModelV3) {
  const prompt: LanguageModelV3Prompt = model.doGenerateCalls[1]!.prompt;
  const message = prompt.find((entry) => entry.role === 'tool');
  const part = message?.content[0];
  if (part?.type !== 'tool-result') throw new Error('no tool result in the second call');
  return part.output;
}

describe('imageGenerationTool with generateText', () => {
  it('a tool call with count 2 is one request; the result is compact and the images reach the model as media', async () => {
    useEmulator();
    const saved: GeneratedImage[] = [];
    const model = agentModel({ prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 2, seed: 42 });
    const result = await generateText({
      model,
      tools: {
        generateImage: imageGenerationTool({
          model: SCHNELL,
          onImages: (images) => {
            saved.push(...images);
            return images.map((image) => `/srv/images/${image.index}.jpg`);
          },
        }),
      },
      stopWhen: stepCountIs(2),
      prompt: 'Draw a lighthouse at dawn, two options.',
    });

    expect(emulator.requests().map((request) => request.body)).toEqual([
      {
        model: 'black-forest-labs/FLUX.1-schnell',
        prompt: 'a lighthouse at dawn',
        n: 2,
        seed: 42,
        width: 1344,
        height: 768,
        response_format: 'base64',
      },
    ]);
    expect(saved.map((image) => [image.width, image.height, image.seed])).toEqual([
      [1344, 768, 42],
      [1344, 768, 42],
    ]);

    const toolResult = result.steps[0]!.toolResults[0]!;
    expect(toolResult.output).toEqual({
      model: SCHNELL,
      count: 2,
      size: '1344x768',
      seed: 42,
      images: [
        { index: 0, seed: 42, width: 1344, height: 768, mediaType: 'image/jpeg', location: '/srv/images/0.jpg' },
        { index: 1, seed: 42, width: 1344, height: 768, mediaType: 'image/jpeg', location: '/srv/images/1.jpg' },
      ],
      warnings: [],
    });
    // What an app stores or streams to a browser is a few hundred bytes, not the images.
    expect(JSON.stringify(toolResult.output).length).toBeLessThan(600);

    const seen = toolMessageSeen(model);
    expect(seen.type).toBe('content');
    const parts = (seen as { value: { type: string; text?: string; data?: string; mediaType?: string }[] }).value;
    expect(parts.map((part) => part.type)).toEqual(['text', 'image-data', 'image-data']);
    expect(JSON.parse(parts[0]!.text!)).toEqual(toolResult.output);
    expect(parts.slice(1).map((part) => [part.mediaType, part.data])).toEqual(saved.map((image) => [image.mediaType, image.base64]));
    expect(result.text).toBe('Here it is.');
  });

  it('an argument the schema refuses is a tool error the model reads; nothing is sent', async () => {
    useEmulator();
    const onImages = vi.fn();
    const model = agentModel({ prompt: 'a lighthouse', aspectRatio: '21:9', count: 9 });
    const result = await generateText({
      model,
      tools: { generateImage: imageGenerationTool({ model: SCHNELL, onImages }) },
      stopWhen: stepCountIs(2),
      prompt: 'Draw a lighthouse.',
    });

    expect(emulator.stats().requests).toBe(0);
    expect(onImages).not.toHaveBeenCalled();
    const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(error).toBeDefined();
    const seen = toolMessageSeen(model);
    expect(seen.type).toBe('error-text');
    const text = (seen as { value: string }).value;
    expect(text).toContain('aspectRatio');
    expect(text).toContain('"16:9"');
    expect(text).toContain('count');
    expect(text).not.toContain(KEY);
  });

  it("a value the catalog refuses for the chosen model is a tool error naming the field and the model's range; nothing is sent", async () => {
    useEmulator();
    const model = agentModel({ prompt: 'a lighthouse', model: SCHNELL, steps: 40 });
    const result = await generateText({
      model,
      // Steps 1-50 in the schema (the placeholder's range); schnell takes 1-12.
      tools: { generateImage: imageGenerationTool({ model: 'local:placeholder', models: [SCHNELL] }) },
      stopWhen: stepCountIs(2),
      prompt: 'Draw a lighthouse.',
    });
    expect(emulator.stats().requests).toBe(0);
    expect(result.steps[0]!.content.some((part) => part.type === 'tool-error')).toBe(true);
    const seen = toolMessageSeen(model) as { type: string; value: string };
    expect(seen.type).toBe('error-text');
    expect(seen.value).toContain('nothing was sent');
    expect(seen.value).toMatch(/steps: .*12/);
  });

  it('provider failures are tool errors with the typed error message, and never the key', async () => {
    vi.stubEnv('TOGETHER_API_KEY', 'wrong-key-9876543210');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
    const model = agentModel({ prompt: 'a lighthouse' });
    await generateText({ model, tools: { generateImage: imageGenerationTool({ model: SCHNELL }) }, stopWhen: stepCountIs(2), prompt: 'Draw.' });
    const seen = toolMessageSeen(model) as { type: string; value: string };
    expect(seen.type).toBe('error-text');
    expect(seen.value).toMatch(/rejected the API key \(HTTP 401\)/);
    expect(seen.value).not.toContain('wrong-key-9876543210');
  });

  it('works offline on local:placeholder, with the schema built from its catalog entry', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    const tool = imageGenerationTool({ model: 'local:placeholder', maxCount: 3 });
    const model = agentModel({ prompt: 'a fox', count: 3, seed: 7, aspectRatio: '1:1', steps: 2, negativePrompt: 'blur' });
    const result = await generateText({ model, tools: { generateImage: tool }, stopWhen: stepCountIs(2), prompt: 'Draw a fox.' });
    expect(result.steps[0]!.toolResults[0]!.output).toMatchObject({ model: 'local:placeholder', count: 3, size: '1024x1024', seed: 7 });
    const schema = model.doGenerateCalls[0]!.tools?.[0];
    expect(schema).toMatchObject({
      type: 'function',
      name: 'generateImage',
      inputSchema: {
        type: 'object',
        additionalProperties: false,
        required: ['prompt'],
        properties: {
          aspectRatio: { enum: ['1:1', '16:9', '9:16', '3:2', '2:3', '4:3', '3:4'] },
          count: { minimum: 1, maximum: 3 },
          steps: { minimum: 1, maximum: 50 },
        },
      },
    });
    const properties = Object.keys((schema as { inputSchema: { properties: object } }).inputSchema.properties);
    expect(properties).toEqual(['prompt', 'aspectRatio', 'count', 'seed', 'negativePrompt', 'steps', 'referenceImages']);
  });

  it('sendImagesToModel: false gives the model the summary only', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    const model = agentModel({ prompt: 'a fox' });
    await generateText({
      model,
      tools: { generateImage: imageGenerationTool({ model: 'local:placeholder', sendImagesToModel: false }) },
      stopWhen: stepCountIs(2),
      prompt: 'Draw a fox.',
    });
    const seen = toolMessageSeen(model) as { type: string; value: { type: string }[] };
    expect(seen.value.map((part) => part.type)).toEqual(['text']);
  });
});

describe('imageGenerationTool checks that the images can be kept before it pays', () => {
  it("canKeep with the Node entry's checkCanKeep: onImages' folder is a file, so the call is a tool error and nothing is sent", async () => {
    useEmulator();
    const { checkCanKeep } = await import('../src/node/index.js');
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-tool-keep-'));
    const target = path.join(folder, 'images');
    await writeFile(target, 'not a folder');
    try {
      const model = agentModel({ prompt: 'a lighthouse at dawn', count: 2 });
      const result = await generateText({
        model,
        tools: {
          generateImage: imageGenerationTool({
            model: SCHNELL,
            canKeep: ({ request }) => checkCanKeep({ folder: target, requests: [request], field: 'images folder' }),
            onImages: () => undefined,
          }),
        },
        stopWhen: stepCountIs(2),
        prompt: 'Draw a lighthouse.',
      });
      const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
      expect(String((error as { error?: unknown } | undefined)?.error)).toContain('images folder: is a file, not a folder');
      expect(emulator.stats().requests).toBe(0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
