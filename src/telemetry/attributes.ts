import { redactSecrets } from '../errors/errors.js';
import type { Plan, PlannedCall } from '../shared/plan.js';
import type { SpanAttributes } from './open-telemetry.js';
import type { ResolvedTelemetry } from './settings.js';

/**
 * Span attributes named as the AI SDK names them for `generateText` (`ai.operationId`,
 * `ai.model.*`, `ai.settings.*`, `ai.telemetry.*`, `ai.prompt`, `ai.response.*`, `gen_ai.*`),
 * for images; what only the toolkit knows (cost, attempts) under `ai.imagegen.*`.
 */

export const REQUEST_SPAN = 'ai.generateImage';
export const CALL_SPAN = 'ai.generateImage.doGenerate';

/** What a call's outcome tells the spans (`CallOutcome`, read structurally). */
export type TracedOutcome = {
  readonly images: readonly TracedImage[];
  readonly report: {
    readonly attempts: number;
    readonly durationMs: number;
    readonly responseId?: string | undefined;
    readonly error?: Error | undefined;
    /** What the provider reported it cost, where it did. */
    readonly actualCostUsd?: number | undefined;
  };
  readonly thrown?: unknown;
};

export type TracedImage = { readonly mediaType?: string; readonly width?: number; readonly height?: number; readonly seed?: number | undefined };

/** `operation.name`, `resource.name`, `ai.operationId`, `ai.telemetry.*`: on every span. */
export function operationAttributes(operationId: string, telemetry: ResolvedTelemetry): SpanAttributes {
  const attributes: SpanAttributes = {
    'operation.name': `${operationId}${telemetry.functionId === undefined ? '' : ` ${telemetry.functionId}`}`,
    'resource.name': telemetry.functionId,
    'ai.operationId': operationId,
    'ai.telemetry.functionId': telemetry.functionId,
  };
  for (const [key, value] of Object.entries(telemetry.metadata)) attributes[`ai.telemetry.metadata.${key}`] = value;
  return attributes;
}

/** Known before the request is planned: the model as given, the prompt (when inputs are recorded). */
export function requestAttributes(request: unknown, telemetry: ResolvedTelemetry, maxRetries: number | undefined): SpanAttributes {
  const fields = (request ?? {}) as { model?: unknown; prompt?: unknown; negativePrompt?: unknown };
  return {
    ...operationAttributes(REQUEST_SPAN, telemetry),
    'ai.model.id': typeof fields.model === 'string' ? fields.model : undefined,
    'ai.settings.maxRetries': maxRetries,
    ...(telemetry.recordInputs ? { 'ai.prompt': promptText(fields.prompt, fields.negativePrompt) } : {}),
  };
}

/** The model and settings as planned: on the request span once it is planned. */
export function planAttributes(plan: Plan): SpanAttributes {
  const size = 'size' in plan.sizing ? plan.sizing.size : `${plan.width}x${plan.height}`;
  return {
    'ai.model.provider': plan.provider,
    'ai.model.id': plan.modelId,
    'ai.settings.n': plan.resolved.count,
    'ai.settings.size': size,
    'ai.settings.aspectRatio': 'aspectRatio' in plan.sizing ? plan.sizing.aspectRatio : undefined,
    'ai.settings.seed': plan.resolved.seed,
    'ai.settings.steps': plan.steps,
    'ai.imagegen.estimatedCostUsd': plan.estimatedCostUsd,
    'gen_ai.system': plan.provider,
    'gen_ai.request.model': plan.modelId,
    'gen_ai.request.choice.count': plan.resolved.count,
    'gen_ai.request.seed': plan.resolved.seed,
  };
}

/** One provider call as planned: its share of the images, its seed, its share of the estimate. */
export function callAttributes(plan: Plan, call: PlannedCall, telemetry: ResolvedTelemetry): SpanAttributes {
  const images = plan.calls.reduce((sum, planned) => sum + planned.n, 0);
  return {
    ...operationAttributes(CALL_SPAN, telemetry),
    'ai.model.provider': plan.provider,
    'ai.model.id': plan.modelId,
    'ai.settings.n': call.n,
    'ai.settings.size': 'size' in plan.sizing ? plan.sizing.size : `${plan.width}x${plan.height}`,
    'ai.settings.aspectRatio': 'aspectRatio' in plan.sizing ? plan.sizing.aspectRatio : undefined,
    'ai.settings.seed': call.seed,
    'ai.imagegen.estimatedCostUsd': plan.estimatedCostUsd === undefined || images === 0 ? undefined : roundUsd((plan.estimatedCostUsd * call.n) / images),
    'gen_ai.system': plan.provider,
    'gen_ai.request.model': plan.modelId,
    'gen_ai.request.choice.count': call.n,
    'gen_ai.request.seed': call.seed,
    ...(telemetry.recordInputs ? { 'ai.prompt': promptText(plan.prompt, plan.negativePrompt) } : {}),
  };
}

/** What a call did: attempts (retries), latency, the response id, the actual cost, the images. */
export function outcomeAttributes(outcome: TracedOutcome, plan: Plan, telemetry: ResolvedTelemetry): SpanAttributes {
  const { report } = outcome;
  return {
    'ai.imagegen.attempts': report.attempts,
    'ai.imagegen.retries': Math.max(0, report.attempts - 1),
    'ai.imagegen.durationMs': report.durationMs,
    'ai.imagegen.images': outcome.images.length,
    'ai.imagegen.actualCostUsd': report.actualCostUsd,
    'ai.response.id': report.responseId,
    'ai.response.model': plan.modelId,
    'gen_ai.response.id': report.responseId,
    'gen_ai.response.model': plan.modelId,
    ...(telemetry.recordOutputs && outcome.images.length > 0 ? { 'ai.response.images': imagesText(outcome.images) } : {}),
  };
}

/** The request's totals, over the calls it made. */
export type RequestTotals = { images: TracedImage[]; attempts: number; failedCalls: number; actualCostUsd: number | undefined };

export function totalsAttributes(totals: RequestTotals, durationMs: number, telemetry: ResolvedTelemetry): SpanAttributes {
  return {
    'ai.imagegen.images': totals.images.length,
    'ai.imagegen.requests': totals.attempts,
    'ai.imagegen.failedCalls': totals.failedCalls,
    'ai.imagegen.durationMs': durationMs,
    'ai.imagegen.actualCostUsd': totals.actualCostUsd === undefined ? undefined : roundUsd(totals.actualCostUsd),
    ...(telemetry.recordOutputs && totals.images.length > 0 ? { 'ai.response.images': imagesText(totals.images) } : {}),
  };
}

/** The error, as the AI SDK records one: an exception event, the status, and `error.type`. */
export function errorParts(error: unknown): { exception: { name: string; message: string; stack?: string }; type: string } {
  if (error instanceof Error) {
    const kind = (error as { kind?: unknown }).kind;
    return {
      exception: { name: error.name, message: redactSecrets(error.message), ...(error.stack === undefined ? {} : { stack: redactSecrets(error.stack) }) },
      type: typeof kind === 'string' ? kind : error.name,
    };
  }
  return { exception: { name: 'Error', message: redactSecrets(String(error)) }, type: 'unknown' };
}

function promptText(prompt: unknown, negativePrompt: unknown): string | undefined {
  if (typeof prompt !== 'string') return undefined;
  return JSON.stringify(typeof negativePrompt === 'string' ? { prompt, negativePrompt } : { prompt });
}

/** Each image's media type, size and seed: never its bytes. */
function imagesText(images: readonly TracedImage[]): string {
  return JSON.stringify(images.map(({ mediaType, width, height, seed }) => ({ mediaType, width, height, seed })));
}

const roundUsd = (usd: number) => Math.round(usd * 1e8) / 1e8;
