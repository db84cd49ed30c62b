import { BudgetExceededError, InvalidRequestError } from '../errors/errors.js';
import { roundUsd } from './cost.js';

/**
 * A spending limit shared by every request charged to it: `generateImages`' `maxCostUsd` (one
 * request) or `budget` (several), the agent tool's and the MCP server's `maxCostUsd` (everything
 * an agent asks for), `imagegen batch` and `compare`'s `--budget` (a run).
 *
 * A request reserves its estimated cost before anything is sent and is refused when the spend so
 * far plus what is in flight plus its own estimate would pass the limit. When it ends, its
 * reservation is settled with what it cost: the provider's actual cost where reported, the
 * estimate otherwise; a request that delivered nothing is released (providers do not bill those).
 * Pure and edge-safe.
 *
 * @example
 * const budget = new Budget({ maxUsd: 0.5 });
 * for (const prompt of prompts) await generateImages({ prompt }, { budget }); // throws BudgetExceededError at the limit
 */
export class Budget {
  readonly maxUsd: number;
  #spentUsd = 0;
  #inFlightUsd = 0;

  constructor({ maxUsd, field = 'maxUsd' }: { maxUsd: number; /** The field named in the error for a bad value. */ field?: string }) {
    this.maxUsd = checkBudgetUsd(maxUsd, field);
  }

  /** Settled spend: actual costs where reported, estimates otherwise. */
  get spentUsd(): number {
    return roundUsd(this.#spentUsd);
  }

  /** Estimated cost of requests reserved and not yet settled. */
  get inFlightUsd(): number {
    return roundUsd(this.#inFlightUsd);
  }

  get remainingUsd(): number {
    return roundUsd(Math.max(0, this.maxUsd - this.#spentUsd - this.#inFlightUsd));
  }

  /**
   * Reserves a request's estimated cost, or returns why it cannot be sent: its spend would pass the
   * limit, or its price is unknown (`estimatedUsd` undefined), so nothing can bound it.
   */
  tryReserve({ estimatedUsd, model }: { estimatedUsd: number | undefined; model: string }): Reservation | BudgetExceededError {
    const refusal = (requestUsd: number | undefined) =>
      new BudgetExceededError({ limitUsd: this.maxUsd, spentUsd: this.spentUsd, inFlightUsd: this.inFlightUsd, requestUsd, model });
    if (estimatedUsd === undefined) return refusal(undefined);
    // A hair of slack so that a run of exact estimates may spend the budget to the cent.
    if (this.#spentUsd + this.#inFlightUsd + estimatedUsd > this.maxUsd + 1e-9) return refusal(estimatedUsd);
    this.#inFlightUsd += estimatedUsd;
    let open = true;
    const close = (spentUsd: number) => {
      if (!open) return;
      open = false;
      this.#inFlightUsd = Math.max(0, this.#inFlightUsd - estimatedUsd);
      this.#spentUsd += spentUsd;
    };
    return {
      estimatedUsd,
      settle: (actualUsd) => close(actualUsd ?? estimatedUsd),
      release: () => close(0),
    };
  }

  /** `tryReserve`, throwing the refusal. */
  reserve(request: { estimatedUsd: number | undefined; model: string }): Reservation {
    const reservation = this.tryReserve(request);
    if (reservation instanceof BudgetExceededError) throw reservation;
    return reservation;
  }
}

/** A request's hold on a budget; settle or release it once (later calls do nothing). */
export type Reservation = {
  readonly estimatedUsd: number;
  /** Ends the hold with what the request cost: `actualUsd`, or the estimate when that is unknown. */
  settle(actualUsd: number | undefined): void;
  /** Ends the hold with nothing spent (the request delivered nothing). */
  release(): void;
};

/** A budget in USD: a finite number of at least 0. Bad input names the field and what is allowed. */
export function checkBudgetUsd(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new InvalidRequestError({ issues: [{ field, value, message: 'must be an amount in USD, a finite number of at least 0 (e.g. 0.5)' }] });
}

/**
 * What a request that delivered images cost: the provider's actual cost where it reported one,
 * else the estimate for the images it delivered (a partly failed request pays only for those).
 */
export function costOfDelivery({
  actualCostUsd,
  estimatedCostUsd,
  delivered,
  requested,
}: {
  actualCostUsd: number | undefined;
  estimatedCostUsd: number | undefined;
  delivered: number;
  requested: number;
}): number | undefined {
  if (actualCostUsd !== undefined) return actualCostUsd;
  if (estimatedCostUsd === undefined) return undefined;
  return roundUsd((estimatedCostUsd * delivered) / Math.max(1, requested));
}
