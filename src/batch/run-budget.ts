import { BudgetExceededError } from '../errors/errors.js';
import type { Budget, Reservation } from '../pipeline/budget.js';

/**
 * A batch or compare run under `--budget`: each job reserves its estimate before its first call
 * (so what is in flight counts), and is charged what it cost when it ends (the provider's actual
 * cost where reported). The first job that would pass the limit stops the sending: it and every
 * job after it are left unsent, not recorded, so a re-run (under a new budget) sends them.
 */
export class RunBudget {
  readonly #budget: Budget;
  #exceeded = false;

  constructor(budget: Budget) {
    this.#budget = budget;
  }

  /** A job was refused: nothing more is sent in this run. */
  get exceeded(): boolean {
    return this.#exceeded;
  }

  /**
   * Holds a job's estimate, or throws: `LeftUnsent` when its spend would pass the limit (or an
   * earlier job's did), a `BudgetExceededError` when its price is unknown (the job fails, saying
   * how to give the model a price, and the run goes on).
   */
  reserve(plan: { readonly estimatedCostUsd: number | undefined; readonly resolved: { readonly model: string } }): Reservation {
    if (plan.estimatedCostUsd === undefined) return this.#budget.reserve({ estimatedUsd: undefined, model: plan.resolved.model });
    if (this.#exceeded) throw new LeftUnsent();
    const reservation = this.#budget.tryReserve({ estimatedUsd: plan.estimatedCostUsd, model: plan.resolved.model });
    if (!(reservation instanceof BudgetExceededError)) return reservation;
    this.#exceeded = true;
    throw new LeftUnsent();
  }

  /** For the run's summary; `unsent` is the jobs the budget left unsent. */
  summarize(unsent: number): BatchBudgetSummary {
    return { limitUsd: this.#budget.maxUsd, spentUsd: this.#budget.spentUsd, unsent: this.#exceeded ? unsent : 0, exceeded: this.#exceeded };
  }
}

/** What a run under `--budget` says about it. */
export type BatchBudgetSummary = {
  limitUsd: number;
  /** Charged to the budget: actual costs where reported, estimates otherwise. */
  spentUsd: number;
  /** Jobs not sent because the budget would have been passed; a re-run sends them. */
  unsent: number;
  /** The budget stopped the sending. */
  exceeded: boolean;
};

/** A job not sent because the run's budget would have been passed. */
export class LeftUnsent extends Error {
  override name = 'LeftUnsent';
}
