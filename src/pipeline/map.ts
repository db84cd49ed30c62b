import type { RequestIssue } from '../errors/errors.js';
import type { ProviderAdapter, ProviderCall } from '../providers/adapter.js';
import type { ImagegenWarning, Plan, PlannedCall } from './plan.js';

/**
 * Stage 4, map: each planned call through the provider's own pure `mapCall`, once. What the
 * provider had to change (a size snapped to one it takes) joins the plan's warnings, and strict
 * mode turns them all into issues here, in the one place it is checked.
 */

/** A planned call with the `generateImage` arguments it is sent with. */
export type MappedCall = { readonly call: PlannedCall; readonly args: ProviderCall };

/** The plan's calls mapped, with what the mapping changed (the plan's own warnings stay in `plan.warnings`). */
export function mapPlan(plan: Plan, adapter: ProviderAdapter): { calls: MappedCall[]; warnings: ImagegenWarning[] } {
  const warnings: ImagegenWarning[] = [];
  const calls = plan.calls.map((call) => {
    const mapped = adapter.mapCall(plan, call);
    // Every call of a plan is mapped alike: a change is reported once, not once per call.
    for (const warning of mapped.warnings) {
      if (![...plan.warnings, ...warnings].some((known) => known.message === warning.message)) warnings.push(warning);
    }
    // The request's raw provider options for other keys go along as given; the provider's own key
    // was merged last by its mapCall.
    const providerOptions = { ...(plan.providerOptions as typeof mapped.args.providerOptions), ...mapped.args.providerOptions };
    return { call, args: { ...mapped.args, providerOptions } };
  });
  return { calls, warnings };
}

/**
 * Strict mode, checked here only: every option the plan or the provider's mapping dropped or
 * changed is an error naming the field and the value the request gave.
 */
export function strictIssues(warnings: readonly ImagegenWarning[], given: { model: string } & Record<string, unknown>): RequestIssue[] {
  return warnings.map((warning) => ({
    field: warning.field ?? 'model',
    value: given[warning.field ?? 'model'],
    message: `${warning.message} (strict mode turns this into an error)`,
  }));
}
