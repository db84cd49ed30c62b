import { importOptionalPackage } from '../providers/lazy-adapter.js';

/**
 * The parts of `@opentelemetry/api` the spans use. The package is an optional peer, imported only
 * when telemetry is turned on, so the core loads (and runs in edge runtimes) without it. These
 * types are structural: an OpenTelemetry `Tracer` fits them, and the core's types need no
 * `@opentelemetry/api` installed.
 */

export type SpanAttributes = Record<string, string | number | boolean | Array<null | undefined | string> | Array<null | undefined | number> | Array<null | undefined | boolean> | undefined>;

/** The part of an OpenTelemetry `Span` the toolkit uses. */
export interface TelemetrySpan {
  setAttributes(attributes: SpanAttributes): unknown;
  recordException(exception: { name: string; message: string; stack?: string }): void;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` the toolkit uses. */
export interface TelemetryTracer {
  startSpan(name: string, options?: { attributes?: SpanAttributes }, context?: unknown): TelemetrySpan;
  startActiveSpan?<F extends (span: TelemetrySpan) => unknown>(name: string, options: { attributes?: SpanAttributes }, fn: F): ReturnType<F>;
}

/** `@opentelemetry/api`'s context and trace doors, for parent spans. */
export type OpenTelemetryApi = {
  context: { active(): unknown; with<Result>(context: unknown, fn: () => Result): Result };
  trace: {
    getTracer(name: string, version?: string): TelemetryTracer;
    setSpan(context: unknown, span: TelemetrySpan): unknown;
  };
};

/** `SpanStatusCode.ERROR`. */
export const SPAN_STATUS_ERROR = 2;

let loaded: Promise<OpenTelemetryApi | undefined> | undefined;

/**
 * `@opentelemetry/api`, or `undefined` where it is not installed (or an edge sandbox loads no
 * modules). Imported once.
 */
export function loadOpenTelemetryApi(importApi: () => Promise<unknown> = () => importOptionalPackage('@opentelemetry/api')): Promise<OpenTelemetryApi | undefined> {
  loaded ??= importApi().then(
    (module) => {
      const api = ((module as { default?: unknown }).default ?? module) as Partial<OpenTelemetryApi>;
      return api.trace !== undefined && api.context !== undefined ? (api as OpenTelemetryApi) : undefined;
    },
    () => undefined,
  );
  return loaded;
}

/** Forgets the loaded package, for tests that simulate it missing. */
export function resetOpenTelemetryApi(): void {
  loaded = undefined;
}
