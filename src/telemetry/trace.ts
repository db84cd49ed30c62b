import { InvalidRequestError } from '../errors/errors.js';
import type { Plan, PlannedCall } from '../shared/plan.js';
import {
  callAttributes,
  CALL_SPAN,
  errorParts,
  outcomeAttributes,
  planAttributes,
  REQUEST_SPAN,
  requestAttributes,
  totalsAttributes,
  type RequestTotals,
  type TracedOutcome,
} from './attributes.js';
import { notifyEnd, notifyStart } from './integrations.js';
import { loadOpenTelemetryApi, SPAN_STATUS_ERROR, type OpenTelemetryApi, type SpanAttributes, type TelemetrySpan, type TelemetryTracer } from './open-telemetry.js';
import { resolveTelemetry, type ResolvedTelemetry, type TelemetryOptions } from './settings.js';
import { VERSION } from '../version.js';

/**
 * One `ai.generateImage` span per request and an `ai.generateImage.doGenerate` child per provider
 * call, as the AI SDK records `generateText`. Telemetry never changes what a request returns or
 * throws: with it off (the default) nothing is loaded and the calls run as they are.
 */

/** A request's trace, handed to whatever sends its calls. */
export interface RequestTrace {
  /** Runs one provider call inside its own span; a failure is its outcome's `report.error` (or `thrown`). */
  call<Outcome extends TracedOutcome>(target: { readonly plan: Plan }, call: PlannedCall, send: () => Promise<Outcome>): Promise<Outcome>;
}

/** No telemetry: each call runs as it is. */
export const untraced: RequestTrace = { call: (_target, _call, send) => send() };

/**
 * Runs a request inside an `ai.generateImage` span when `options.telemetry` (or
 * `experimental_telemetry`) turns telemetry on; bad settings are an `InvalidRequestError` first.
 */
export async function traceRequest<Result>(
  { request, options }: { request: unknown; options: TelemetryOptions & { maxRetries?: number | undefined } },
  run: (trace: RequestTrace) => Promise<Result>,
): Promise<Result> {
  const telemetry = resolveTelemetry(options);
  if (telemetry === undefined) return run(untraced);
  const api = await loadOpenTelemetryApi();
  const tracer: TelemetryTracer | undefined = telemetry.tracer ?? api?.trace.getTracer('ai-imagegen', VERSION);
  if (tracer === undefined && telemetry.integrations.length === 0) {
    throw new InvalidRequestError({
      issues: [
        {
          field: `${options.telemetry === undefined ? 'experimental_telemetry' : 'telemetry'}.tracer`,
          value: undefined,
          message: 'telemetry is on, but @opentelemetry/api is not installed (or cannot be loaded here, as in an edge sandbox): run npm install @opentelemetry/api, or pass your own tracer',
        },
      ],
    });
  }
  const trace = new SpanningTrace({ telemetry, api, tracer });
  // generateImages' default, as the AI SDK's: 2.
  return trace.request(requestAttributes(request, telemetry, options.maxRetries ?? 2), () => run(trace));
}

class SpanningTrace implements RequestTrace {
  readonly #telemetry: ResolvedTelemetry;
  readonly #api: OpenTelemetryApi | undefined;
  readonly #tracer: TelemetryTracer | undefined;
  readonly #started = Date.now();
  readonly #callId = randomId();
  readonly #totals: RequestTotals = { images: [], attempts: 0, failedCalls: 0, actualCostUsd: undefined };
  #span: TelemetrySpan | undefined;
  #context: unknown;
  #plan: Plan | undefined;

  constructor(fields: { telemetry: ResolvedTelemetry; api: OpenTelemetryApi | undefined; tracer: TelemetryTracer | undefined }) {
    this.#telemetry = fields.telemetry;
    this.#api = fields.api;
    this.#tracer = fields.tracer;
  }

  /** The request span, active while `run` runs, so what it starts (fetch instrumentation too) nests under it. */
  request<Result>(attributes: SpanAttributes, run: () => Promise<Result>): Promise<Result> {
    return this.#active(REQUEST_SPAN, attributes, undefined, async (span, context) => {
      this.#span = span;
      this.#context = context;
      try {
        const result = await run();
        await this.#finish(undefined);
        return result;
      } catch (error) {
        await this.#finish({ error });
        throw error;
      }
    });
  }

  call<Outcome extends TracedOutcome>(target: { readonly plan: Plan }, call: PlannedCall, send: () => Promise<Outcome>): Promise<Outcome> {
    const { plan } = target;
    const start = async () => {
      if (this.#plan !== undefined) return;
      this.#plan = plan;
      this.#span?.setAttributes(defined(planAttributes(plan)));
      await notifyStart(this.#telemetry, { callId: this.#callId, plan });
    };
    return start().then(() =>
      this.#active(CALL_SPAN, callAttributes(plan, call, this.#telemetry), this.#context, async (span) => {
        let outcome: Outcome;
        try {
          outcome = await send();
        } catch (error) {
          // `sendCall` reports failures in its outcome; anything thrown still ends the span.
          this.#totals.failedCalls += 1;
          if (span !== undefined) {
            recordError(span, error);
            span.end();
          }
          throw error;
        }
        this.#count(outcome);
        if (span !== undefined) {
          try {
            span.setAttributes(defined(outcomeAttributes(outcome, plan, this.#telemetry)));
            const failure = outcome.report.error ?? outcome.thrown;
            if (failure !== undefined) recordError(span, failure);
          } finally {
            span.end();
          }
        }
        return outcome;
      }),
    );
  }

  async #finish(failed: { error: unknown } | undefined): Promise<void> {
    const durationMs = Date.now() - this.#started;
    const span = this.#span;
    if (span !== undefined) {
      try {
        span.setAttributes(defined(totalsAttributes(this.#totals, durationMs, this.#telemetry)));
        if (failed !== undefined) recordError(span, failed.error);
      } finally {
        span.end();
      }
    }
    if (failed === undefined && this.#plan !== undefined) await notifyEnd(this.#telemetry, { callId: this.#callId, plan: this.#plan, totals: this.#totals, durationMs });
  }

  #count(outcome: TracedOutcome): void {
    const totals = this.#totals;
    totals.images.push(...outcome.images);
    totals.attempts += outcome.report.attempts;
    if (outcome.report.error !== undefined || outcome.thrown !== undefined) totals.failedCalls += 1;
    const actual = outcome.report.actualCostUsd;
    if (typeof actual === 'number') totals.actualCostUsd = (totals.actualCostUsd ?? 0) + actual;
  }

  /**
   * Runs `body` with a new span active: under `parent` by `@opentelemetry/api`'s context where it
   * loaded; else by the tracer's own `startActiveSpan` (an app's tracer where the package cannot be
   * imported, as in an edge sandbox: its context manager, if any, does the nesting).
   */
  #active<Result>(name: string, attributes: SpanAttributes, parent: unknown, body: (span: TelemetrySpan | undefined, context: unknown) => Promise<Result>): Promise<Result> {
    const tracer = this.#tracer;
    const api = this.#api;
    const options = { attributes: defined(attributes) };
    if (tracer === undefined) return body(undefined, undefined);
    if (api !== undefined) {
      const base = parent ?? api.context.active();
      const span = tracer.startSpan(name, options, base);
      const context = api.trace.setSpan(base, span);
      return api.context.with(context, () => body(span, context));
    }
    if (tracer.startActiveSpan !== undefined) return tracer.startActiveSpan(name, options, (span: TelemetrySpan) => body(span, undefined));
    return body(tracer.startSpan(name, options), undefined);
  }
}

function recordError(span: TelemetrySpan, error: unknown): void {
  const { exception, type } = errorParts(error);
  span.recordException(exception);
  span.setAttributes({ 'error.type': type });
  span.setStatus({ code: SPAN_STATUS_ERROR, message: exception.message });
}

/** OpenTelemetry warns about (and drops) undefined values: left out here instead. */
function defined(attributes: SpanAttributes): SpanAttributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
