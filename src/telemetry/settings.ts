import { z } from 'zod';
import { InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import type { TelemetryTracer } from './open-telemetry.js';

/**
 * The telemetry switches, as the AI SDK spells them for `generateText`: ai 6's
 * `experimental_telemetry` and ai 7's `telemetry` (with `integrations`) take the same object.
 */

/** An OpenTelemetry attribute value (`@opentelemetry/api`'s `AttributeValue`). */
export type TelemetryAttributeValue =
  | string
  | number
  | boolean
  | Array<null | undefined | string>
  | Array<null | undefined | number>
  | Array<null | undefined | boolean>;

export type TelemetrySettings = {
  /** Records spans (and calls the integrations). @default false, or true when `integrations` are given (ai 7) */
  isEnabled?: boolean | undefined;
  /** Records the prompt (`ai.prompt`). Reference images, masks and keys are never recorded. @default true, as in the AI SDK */
  recordInputs?: boolean | undefined;
  /** Records what came back: each image's media type, size and seed (`ai.response.images`), never its bytes. @default true */
  recordOutputs?: boolean | undefined;
  /** Groups spans by function: `ai.telemetry.functionId`, and the span's `operation.name`. */
  functionId?: string | undefined;
  /** Added to every span as `ai.telemetry.metadata.<key>`. */
  metadata?: Record<string, TelemetryAttributeValue> | undefined;
  /** The tracer to use. @default the global tracer provider's `ai-imagegen` tracer (`@opentelemetry/api`) */
  tracer?: TelemetryTracer | undefined;
  /**
   * The AI SDK's telemetry integrations: each one's `onStart` and `onEnd` (ai 6: `onFinish`) are called with
   * `operationId: 'ai.generateImage'` events (an integration's failure is ignored).
   */
  integrations?: object | readonly object[] | undefined;
};

/** The options that turn telemetry on: both spellings, as `generateText` takes them. */
export type TelemetryOptions = {
  /**
   * OpenTelemetry spans as the AI SDK records them for `generateText`: one `ai.generateImage`
   * span per request, an `ai.generateImage.doGenerate` child per provider call (ai 7's name).
   *
   * @example
   * await generateImages({ prompt: 'a fox' }, { telemetry: { isEnabled: true, functionId: 'avatars' } });
   */
  telemetry?: TelemetrySettings | undefined;
  /** The same, as ai 6 spells it (ai 7 keeps it as a deprecated alias); `telemetry` wins when both are given. */
  experimental_telemetry?: TelemetrySettings | undefined;
};

/** Settings checked and defaulted: what the spans need. */
export type ResolvedTelemetry = {
  recordInputs: boolean;
  recordOutputs: boolean;
  functionId: string | undefined;
  metadata: Record<string, TelemetryAttributeValue>;
  tracer: TelemetryTracer | undefined;
  integrations: readonly object[];
};

const attributeValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.string().nullish()),
  z.array(z.number().nullish()),
  z.array(z.boolean().nullish()),
], { message: 'must be a string, number, boolean, or an array of strings, numbers or booleans (an OpenTelemetry attribute value)' });

const tracerSchema = z.custom<TelemetryTracer>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { startSpan?: unknown }).startSpan === 'function',
  { message: 'must be an OpenTelemetry Tracer (an object with startSpan), e.g. trace.getTracer("my-app")' },
);

const settingsSchema = z
  .object({
    isEnabled: z.boolean({ message: 'must be true or false' }).optional(),
    recordInputs: z.boolean({ message: 'must be true or false' }).optional(),
    recordOutputs: z.boolean({ message: 'must be true or false' }).optional(),
    functionId: z.string({ message: 'must be a string' }).optional(),
    metadata: z.record(z.string(), attributeValue, { message: 'must be an object of names to attribute values' }).optional(),
    tracer: tracerSchema.optional(),
    integrations: z.union([z.object({}).loose(), z.array(z.object({}).loose())], { message: 'must be an integration object or an array of them' }).optional(),
  })
  // ai 7's other switches (includeRuntimeContext, ...) are about text generation: taken, unused.
  .loose();

/**
 * The settings in force, or `undefined` when telemetry is off. Bad settings are an
 * `InvalidRequestError` naming the field, before anything is sent.
 */
export function resolveTelemetry(options: TelemetryOptions | undefined): ResolvedTelemetry | undefined {
  const field = options?.telemetry !== undefined ? 'telemetry' : 'experimental_telemetry';
  const given: unknown = options?.telemetry ?? options?.experimental_telemetry;
  if (given === undefined) return undefined;
  const parsed = settingsSchema.safeParse(given);
  if (!parsed.success) {
    const issues: RequestIssue[] = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String);
      return { field: [field, ...path].join('.'), value: valueAt(given, path), message: path.length === 0 ? 'must be an object of telemetry settings (isEnabled, functionId, metadata, tracer, recordInputs, recordOutputs, integrations)' : issue.message };
    });
    throw new InvalidRequestError({ issues });
  }
  const settings = parsed.data;
  const integrations: readonly object[] = settings.integrations === undefined ? [] : Array.isArray(settings.integrations) ? settings.integrations : [settings.integrations];
  if (!(settings.isEnabled ?? integrations.length > 0)) return undefined;
  return {
    recordInputs: settings.recordInputs ?? true,
    recordOutputs: settings.recordOutputs ?? true,
    functionId: settings.functionId,
    metadata: (settings.metadata ?? {}) as Record<string, TelemetryAttributeValue>,
    tracer: settings.tracer,
    integrations,
  };
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
  // A tracer or integration is an object graph: its kind says enough.
  return current !== null && typeof current === 'object' && !Array.isArray(current) ? '[object]' : current;
}

/** The telemetry options of a larger options object, to pass on (only those given). */
export function telemetryOptionsOf(options: TelemetryOptions): TelemetryOptions {
  return {
    ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
    ...(options.experimental_telemetry === undefined ? {} : { experimental_telemetry: options.experimental_telemetry }),
  };
}
