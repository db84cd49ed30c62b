import { describe, expect, it } from 'vitest';
import { Budget, BudgetExceededError } from '../src/index.js';
import { costOfDelivery } from '../src/pipeline/budget.js';
import { actualCallCostUsd, actualCostOfResponses, priceDriftWarning, sumActualCosts } from '../src/pipeline/cost.js';

describe('actualCallCostUsd: what each provider package reports', () => {
  it('reads Black Forest Labs credits, xAI ticks and OpenAI tokens; nothing else', () => {
    expect(actualCallCostUsd({ modelId: 'flux-pro-1.1', providerMetadata: { blackForestLabs: { images: [{ cost: 4.5 }] } } })).toBe(0.045);
    expect(actualCallCostUsd({ modelId: 'grok-imagine-image', providerMetadata: { xai: { images: [{}, {}], costInUsdTicks: 400_000_000 } } })).toBe(0.04);
    expect(
      actualCallCostUsd({
        modelId: 'gpt-image-1',
        providerMetadata: { openai: { images: [{}] } },
        usage: { inputTokens: 20, outputTokens: 1056 },
      }),
    ).toBe(0.04234); // no split: the input is the prompt, text tokens (20 × $5 + 1056 × $40 per million)
    // A GPT Image model without a listed token price, a provider that reports nothing, metadata that is not numbers.
    expect(actualCallCostUsd({ modelId: 'gpt-image-2', providerMetadata: { openai: { images: [{}] } }, usage: { inputTokens: 20, outputTokens: 1056 } })).toBeUndefined();
    expect(actualCallCostUsd({ modelId: 'black-forest-labs/FLUX.1-schnell', providerMetadata: {} })).toBeUndefined();
    expect(actualCallCostUsd({ modelId: 'flux-dev', providerMetadata: { blackForestLabs: { images: [{ cost: '4' }] } } })).toBeUndefined();
    expect(actualCallCostUsd({ modelId: 'grok-imagine-image', providerMetadata: { xai: { costInUsdTicks: -1 } } })).toBeUndefined();
  });

  it('a call is known only when every response reported; a request only when every call that made images did', () => {
    const bfl = (cost?: number) => ({ providerMetadata: { blackForestLabs: { images: [cost === undefined ? {} : { cost }] } } });
    expect(actualCostOfResponses('flux-dev', [bfl(2.5), bfl(2.5)])).toBe(0.05);
    expect(actualCostOfResponses('flux-dev', [bfl(2.5), bfl()])).toBeUndefined();
    expect(actualCostOfResponses('flux-dev', [])).toBeUndefined();
    expect(sumActualCosts([{ actualCostUsd: 0.01, imageCount: 1 }, { actualCostUsd: undefined, imageCount: 0 }])).toBe(0.01);
    expect(sumActualCosts([{ actualCostUsd: 0.01, imageCount: 1 }, { actualCostUsd: undefined, imageCount: 1 }])).toBeUndefined();
  });
});

describe('priceDriftWarning', () => {
  it('warns above 10% either way, not at or below it', () => {
    const warn = (estimatedUsd: number, actualUsd: number) => priceDriftWarning({ model: 'x:y', estimatedUsd, actualUsd })?.message;
    expect(warn(0.04, 0.044)).toBeUndefined();
    expect(warn(0.04, 0.036)).toBeUndefined();
    expect(warn(0.04, 0.0441)).toContain('(+10%)'); // 10.25%, rounded for the reader
    expect(warn(0.04, 0.0359)).toContain('(-10%)');
    expect(warn(0, 0.01)).toContain('the catalog says free');
    expect(priceDriftWarning({ model: 'x:y', estimatedUsd: undefined, actualUsd: 0.01 })).toBeUndefined();
  });
});

describe('Budget', () => {
  it('holds estimates while in flight, charges the actual (or the estimate) when settled, nothing when released', () => {
    const budget = new Budget({ maxUsd: 0.1 });
    const first = budget.reserve({ estimatedUsd: 0.04, model: 'm' });
    const second = budget.reserve({ estimatedUsd: 0.04, model: 'm' });
    expect([budget.spentUsd, budget.inFlightUsd, budget.remainingUsd]).toEqual([0, 0.08, 0.02]);
    const refused = budget.tryReserve({ estimatedUsd: 0.04, model: 'm' });
    expect(BudgetExceededError.isInstance(refused) && refused.message).toBe(
      'Not sent: m would cost about $0.0400, and with $0.0000 spent and $0.0800 in flight that passes the budget of $0.1000',
    );
    first.settle(0.05);
    second.release();
    second.settle(1); // a second end does nothing
    expect([budget.spentUsd, budget.inFlightUsd, budget.remainingUsd]).toEqual([0.05, 0, 0.05]);
    budget.reserve({ estimatedUsd: 0.05, model: 'm' }).settle(undefined);
    expect(budget.spentUsd).toBe(0.1);
  });

  it('costOfDelivery: the actual where reported, else the estimate for the images delivered', () => {
    expect(costOfDelivery({ actualCostUsd: 0.07, estimatedCostUsd: 0.08, delivered: 1, requested: 2 })).toBe(0.07);
    expect(costOfDelivery({ actualCostUsd: undefined, estimatedCostUsd: 0.08, delivered: 1, requested: 2 })).toBe(0.04);
    expect(costOfDelivery({ actualCostUsd: undefined, estimatedCostUsd: undefined, delivered: 1, requested: 2 })).toBeUndefined();
  });
});
