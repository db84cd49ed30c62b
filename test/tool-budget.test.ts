import type { LanguageModelV3GenerateResult, LanguageModelV3Prompt } from '@ai-sdk/provider';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { Budget, imageGenerationTool, setPriceOverrides } from '../src/index.js';

const KEY = 'test-key-0123456789';
const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.unstubAllEnvs();
  setPriceOverrides({});
  emulator.reset();
});

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** A language model stuck in a loop: it calls the tool `times` times, then answers. */
function loopingAgent(times: number) {
  const call = (index: number): LanguageModelV3GenerateResult => ({
    content: [{ type: 'tool-call', toolCallId: `call-${index}`, toolName: 'generateImage', input: JSON.stringify({ prompt: `a fox, take ${index}` }) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  });
  return new MockLanguageModelV3({
    doGenerate: [...Array.from({ length: times }, (_, index) => call(index)), { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }],
  });
}

/** The tool results the language model saw, in order. */
function toolResultsSeen(model: MockLanguageModelV3): unknown[] {
  const prompt: LanguageModelV3Prompt = model.doGenerateCalls.at(-1)!.prompt;
  return prompt.flatMap((message) => (message.role === 'tool' ? message.content.flatMap((part) => (part.type === 'tool-result' ? [part.output] : [])) : []));
}

describe('imageGenerationTool maxCostUsd', () => {
  it('an agent that loops is stopped at the budget: the call past it is a tool error it can read, nothing sent', async () => {
    vi.stubEnv('TOGETHER_API_KEY', KEY);
    vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
    setPriceOverrides({ [SCHNELL]: '0.01/image' });
    const model = loopingAgent(3);
    await generateText({
      model,
      tools: { generateImage: imageGenerationTool({ model: SCHNELL, maxCostUsd: 0.02, sendImagesToModel: false }) },
      stopWhen: stepCountIs(5),
      prompt: 'Draw foxes until told to stop.',
    });
    expect(emulator.requests()).toHaveLength(2);
    const seen = toolResultsSeen(model) as { type: string; value: unknown }[];
    expect(seen).toHaveLength(3);
    const outputs = seen.slice(0, 2).map((output) => JSON.parse((output.value as { text: string }[])[0]!.text) as { budget: unknown });
    expect(outputs.map((output) => output.budget)).toEqual([
      { costUsd: 0.01, spentUsd: 0.01, remainingUsd: 0.01 },
      { costUsd: 0.01, spentUsd: 0.02, remainingUsd: 0 },
    ]);
    expect(seen[2]).toEqual({
      type: 'error-text',
      value: 'Not sent: togetherai:black-forest-labs/FLUX.1-schnell would cost about $0.0100, and with $0.0200 spent that passes the budget of $0.0200',
    });
  });

  it('maxCostUsd and budget together, or a bad maxCostUsd, are refused when the tool is made', () => {
    const budget = new Budget({ maxUsd: 1 });
    expect(() => imageGenerationTool({ budget, maxCostUsd: 1 })).toThrow('give maxCostUsd or budget, not both');
    expect(() => imageGenerationTool({ maxCostUsd: -1 })).toThrow('maxCostUsd: must be an amount in USD');
  });
});
