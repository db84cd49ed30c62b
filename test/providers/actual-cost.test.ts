import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { createOpenAI } from '@ai-sdk/openai';
import { createXai } from '@ai-sdk/xai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Budget, BudgetExceededError, generateImages, InvalidRequestError, setPriceOverrides } from '../../src/index.js';
import { fileRoute, startProviderServer, TEST_KEY, testImage, toBase64, type ProviderServer } from '../helpers/provider-server.js';

/** What each provider's server reports a call cost, set per test. */
const reported = { bflCredits: 4 as number | undefined, xaiTicks: 400_000_000 as number | undefined, openaiUsage: undefined as unknown };

let server: ProviderServer;

beforeAll(async () => {
  server = await startProviderServer([
    fileRoute,
    {
      method: 'GET',
      path: '/bfl/v1/get_result',
      respond: (request, { url }) => {
        const seed = Number(request.query.get('id')!.replace('task-', ''));
        return { json: { id: request.query.get('id'), status: 'Ready', result: { sample: `${url}/files/${seed}.png`, seed } } };
      },
    },
    {
      method: 'POST',
      path: /^\/bfl\/[a-z0-9.-]+$/,
      respond: (request, { url }) => {
        const { seed } = request.body as { seed: number };
        return { json: { id: `task-${seed}`, polling_url: `${url}/bfl/v1/get_result?id=task-${seed}`, ...(reported.bflCredits === undefined ? {} : { cost: reported.bflCredits }), output_mp: 1.05 } };
      },
    },
    {
      method: 'POST',
      path: '/xai/images/generations',
      respond: (request) => {
        const { n } = request.body as { n: number };
        return {
          json: {
            data: Array.from({ length: n }, (_, index) => ({ b64_json: toBase64(testImage(index, 'jpeg')) })),
            ...(reported.xaiTicks === undefined ? {} : { usage: { cost_in_usd_ticks: reported.xaiTicks } }),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/openai/images/generations',
      respond: (request) => {
        const { n } = request.body as { n: number };
        return { json: { created: 1, data: Array.from({ length: n }, (_, index) => ({ b64_json: toBase64(testImage(index)) })), ...(reported.openaiUsage === undefined ? {} : { usage: reported.openaiUsage }) } };
      },
    },
  ]);
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  Object.assign(reported, { bflCredits: 4, xaiTicks: 400_000_000, openaiUsage: undefined });
});
afterEach(() => setPriceOverrides({}));

const providers = () => ({
  'black-forest-labs': createBlackForestLabs({ baseURL: `${server.url}/bfl`, apiKey: TEST_KEY, pollIntervalMillis: 1 }),
  xai: createXai({ baseURL: `${server.url}/xai`, apiKey: TEST_KEY }),
  openai: createOpenAI({ baseURL: `${server.url}/openai`, apiKey: TEST_KEY }),
});
const posts = () => server.requests().filter((request) => request.method === 'POST');
const priceWarnings = (result: { warnings: { field?: string; message: string }[] }) => result.warnings.filter((warning) => warning.field === 'price').map((warning) => warning.message);

describe('actual cost, as each provider package reports it', () => {
  it("Black Forest Labs: each task's cost in credits of $0.01, summed over the calls, beside the estimate", async () => {
    const result = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', count: 2, seed: 1 }, { providers: providers() });
    expect(posts()).toHaveLength(2);
    expect(result.calls.map((call) => call.actualCostUsd)).toEqual([0.04, 0.04]);
    expect([result.estimatedCostUsd, result.actualCostUsd]).toEqual([0.08, 0.08]);
    expect(priceWarnings(result)).toEqual([]);
  });

  it('a catalog price more than 10% off the bill is warned about, naming the model and how to fix it', async () => {
    reported.bflCredits = 6;
    const result = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', seed: 1 }, { providers: providers() });
    expect(result.actualCostUsd).toBe(0.06);
    expect(priceWarnings(result)).toEqual([
      "the provider charged $0.0600 where the catalog's price estimated $0.0400 (+50%); the catalog's price for black-forest-labs:flux-pro-1.1 looks stale: override it with setPriceOverrides() or --price",
    ]);
    // Within 10%: no warning.
    reported.bflCredits = 4.4;
    expect(priceWarnings(await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', seed: 1 }, { providers: providers() }))).toEqual([]);
  });

  it("xAI: the call's costInUsdTicks, 10^10 to the dollar; compared with an override, as there is no catalog price", async () => {
    const result = await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image', count: 2 }, { providers: providers() });
    expect(posts()).toHaveLength(1);
    expect([result.estimatedCostUsd, result.actualCostUsd]).toEqual([undefined, 0.04]);
    expect(priceWarnings(result)).toEqual([]);
    setPriceOverrides({ 'xai:grok-imagine-image': '0.05/image' });
    const overridden = await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image', count: 2 }, { providers: providers() });
    expect(priceWarnings(overridden)).toEqual([
      "the provider charged $0.0400 where the catalog's price estimated $0.1000 (-60%); the catalog's price for xai:grok-imagine-image looks stale: override it with setPriceOverrides() or --price",
    ]);
  });

  it("OpenAI: GPT Image tokens priced (text in, image in, image out, per OpenAI's model page)", async () => {
    reported.openaiUsage = { input_tokens: 70, output_tokens: 4160, total_tokens: 4230, input_tokens_details: { text_tokens: 50, image_tokens: 20 } };
    const result = await generateImages({ prompt: 'p', model: 'openai:gpt-image-1', count: 2 }, { providers: providers() });
    // 50 × $5 + 20 × $10 + 4160 × $40, per million tokens.
    expect(result.actualCostUsd).toBe(0.16685);
    const mini = await generateImages({ prompt: 'p', model: 'openai:gpt-image-1-mini', count: 2 }, { providers: providers() });
    expect(mini.actualCostUsd).toBe(0.03343); // 50 × $2 + 20 × $2.50 + 4160 × $8
  });

  it('nothing reported, nothing claimed: the actual cost stays undefined', async () => {
    reported.bflCredits = undefined;
    reported.xaiTicks = undefined;
    const bfl = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', seed: 1 }, { providers: providers() });
    const xai = await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image' }, { providers: providers() });
    const openai = await generateImages({ prompt: 'p', model: 'openai:gpt-image-1' }, { providers: providers() });
    expect([bfl.actualCostUsd, xai.actualCostUsd, openai.actualCostUsd]).toEqual([undefined, undefined, undefined]);
    expect(bfl.calls[0]?.actualCostUsd).toBeUndefined();
  });
});

describe('maxCostUsd and a shared Budget', () => {
  it('a request whose estimate passes maxCostUsd is refused before anything is sent', async () => {
    const refused = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', count: 2, seed: 1 }, { providers: providers(), maxCostUsd: 0.05 }).catch((error: unknown) => error);
    expect(BudgetExceededError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toBe('Not sent: black-forest-labs:flux-pro-1.1 would cost about $0.0800, and with $0.0000 spent that passes the budget of $0.0500');
    expect(server.requests()).toEqual([]);
    const sent = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', count: 2, seed: 1 }, { providers: providers(), maxCostUsd: 0.08 });
    expect(sent.images).toHaveLength(2);
  });

  it('a model without a price cannot be bounded: refused, saying how to give it one', async () => {
    const refused = await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image' }, { providers: providers(), maxCostUsd: 1 }).catch((error: unknown) => error);
    expect((refused as Error).message).toBe(
      'Not sent: the price of xai:grok-imagine-image is unknown, so a budget of $1.0000 cannot bound it; give it a price (setPriceOverrides() or --price xai:grok-imagine-image=<usd>/image)',
    );
    expect(server.requests()).toEqual([]);
  });

  it('bad values name the field and what is allowed, before anything is sent', async () => {
    for (const maxCostUsd of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await generateImages({ prompt: 'p', model: 'black-forest-labs:flux-pro-1.1' }, { providers: providers(), maxCostUsd }).catch((thrown: unknown) => thrown);
      expect(InvalidRequestError.isInstance(error) && error.issues[0]?.field).toBe('maxCostUsd');
    }
    expect(() => new Budget({ maxUsd: -0.5 })).toThrow('maxUsd: must be an amount in USD');
    expect(server.requests()).toEqual([]);
  });

  it("a shared budget is charged each request's actual cost, and refuses the one that would pass it", async () => {
    reported.bflCredits = 6; // the bill is $0.06 where the catalog says $0.04
    const budget = new Budget({ maxUsd: 0.1 });
    const request = { prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', seed: 1 };
    await generateImages(request, { providers: providers(), budget });
    expect([budget.spentUsd, budget.inFlightUsd, budget.remainingUsd]).toEqual([0.06, 0, 0.04]);
    await generateImages(request, { providers: providers(), budget }); // estimated 0.04: fits exactly
    expect(budget.spentUsd).toBe(0.12);
    const refused = await generateImages(request, { providers: providers(), budget }).catch((error: unknown) => error);
    expect(BudgetExceededError.isInstance(refused) && [refused.spentUsd, refused.requestUsd, refused.limitUsd]).toEqual([0.12, 0.04, 0.1]);
    expect(posts()).toHaveLength(2);
  });

  it('requests in flight count against it: concurrent requests past the limit are refused at once', async () => {
    const budget = new Budget({ maxUsd: 0.1 });
    const request = { prompt: 'p', model: 'black-forest-labs:flux-pro-1.1', seed: 1 };
    const results = await Promise.allSettled([1, 2, 3].map(() => generateImages(request, { providers: providers(), budget })));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(posts()).toHaveLength(2);
    expect(budget.spentUsd).toBe(0.08);
  });
});
