// A consumer app: the AI SDK image tool from the installed package, driven by the AI SDK's mock
// language model against the emulator. Imports only package names, and runs on ai 6 and ai 7.
// Env: TOGETHER_BASE_URL (the emulator's base URL), TOGETHER_API_KEY. Prints one JSON line.
import * as ai from 'ai';
import * as aiTest from 'ai/test';
import { imageGenerationTool } from 'ai-imagegen';

const baseURL = process.env.TOGETHER_BASE_URL;
if (!baseURL || !process.env.TOGETHER_API_KEY) {
  console.log(JSON.stringify({ ok: false, error: 'set TOGETHER_BASE_URL (the emulator) and TOGETHER_API_KEY' }));
  process.exit(1);
}

// ai 7 adds MockLanguageModelV4 and isStepCount; both majors still have the V3 mock, which keeps
// the mock's result shape the same on both.
const MockLanguageModel = aiTest.MockLanguageModelV3 ?? aiTest.MockLanguageModelV4;
const stepCount = ai.isStepCount ?? ai.stepCountIs;
const aiMajor = 'experimental_generateImage' in ai ? 6 : 7;

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function agentModel(input) {
  return new MockLanguageModel({
    doGenerate: [
      {
        content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'generateImage', input: JSON.stringify(input) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      },
      { content: [{ type: 'text', text: 'Done.' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
    ],
  });
}

async function emulatorStats() {
  const response = await fetch(new URL('/_emulator/stats', baseURL));
  const { requests, images } = await response.json();
  return { requests, images };
}

/** Runs one tool call; returns what the emulator, the app and the language model saw. */
async function scenario(input) {
  const before = await emulatorStats();
  const model = agentModel(input);
  const delivered = [];
  const result = await ai.generateText({
    model,
    tools: {
      generateImage: imageGenerationTool({
        model: 'togetherai:black-forest-labs/FLUX.1-schnell',
        onImages: (images) => {
          delivered.push(...images);
          return images.map((image) => `memory://image-${image.index}`);
        },
      }),
    },
    stopWhen: stepCount(2),
    prompt: 'Draw a lighthouse at dawn.',
  });
  const after = await emulatorStats();
  const firstStep = result.steps[0];
  const toolError = firstStep.content.find((part) => part.type === 'tool-error');
  const toolMessage = model.doGenerateCalls[1]?.prompt.find((message) => message.role === 'tool');
  const seen = toolMessage?.content.find((part) => part.type === 'tool-result')?.output;
  const parts = seen?.type === 'content' ? seen.value : [];
  const isImage = (part) =>
    part.type === 'image-data' || part.type === 'media' || ((part.type === 'file' || part.type === 'file-data') && String(part.mediaType).startsWith('image'));
  return {
    requests: after.requests - before.requests,
    images: after.images - before.images,
    delivered: delivered.map((image) => `${image.width}x${image.height}`),
    output: firstStep.toolResults[0]?.output ?? null,
    outputJsonBytes: JSON.stringify(firstStep.toolResults[0]?.output ?? null).length,
    toolError: toolError ? String(toolError.error?.message ?? toolError.error) : null,
    modelOutput: { type: seen?.type ?? null, parts: parts.map((part) => part.type), images: parts.filter(isImage).length },
    modelSawErrorText: seen?.type === 'error-text' ? seen.value : null,
    finalText: result.text,
  };
}

const countTwo = await scenario({ prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 2, seed: 42 });
const badArgument = await scenario({ prompt: 'a lighthouse at dawn', aspectRatio: '21:9' });

const ok =
  countTwo.requests === 1 &&
  countTwo.images === 2 &&
  countTwo.delivered.length === 2 &&
  countTwo.output?.count === 2 &&
  countTwo.output?.size === '1344x768' &&
  countTwo.output?.images?.[1]?.location === 'memory://image-1' &&
  countTwo.modelOutput.type === 'content' &&
  countTwo.modelOutput.images === 2 &&
  countTwo.outputJsonBytes < 1000 &&
  badArgument.requests === 0 &&
  badArgument.toolError !== null &&
  badArgument.output === null &&
  /aspectRatio/.test(badArgument.modelSawErrorText ?? '');

console.log(JSON.stringify({ ok, aiMajor, mock: aiTest.MockLanguageModelV3 ? 'MockLanguageModelV3' : 'MockLanguageModelV4', countTwo, badArgument }));
process.exitCode = ok ? 0 : 1;
