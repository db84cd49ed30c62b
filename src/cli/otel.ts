import { ImagegenError, redactSecrets, registerSecret } from '../errors/errors.js';
import type { TelemetrySettings } from '../telemetry/settings.js';
import { VERSION } from '../version.js';
import { UsageError, type CliIO } from './output.js';

/**
 * `--otel` and the standard `OTEL_*` variables: the CLI's spans go to an OTLP/HTTP endpoint
 * through OpenTelemetry's own SDK and exporters (optional peers, loaded only here).
 */

/** What the CLI's commands pass to the library, and how to send what is left before exiting. */
export type CliTelemetry = { settings: TelemetrySettings; url: string; shutdown: () => Promise<void> };

export type OtelFlags = { otel?: boolean; otelEndpoint?: string };

const PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/resources', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-trace-otlp-http'];

/**
 * Whether spans are exported, and where to: on with `--otel` or `--otel-endpoint`, or when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (unless
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`).
 */
export function otelTarget(flags: OtelFlags, env: CliIO['env']): { url: string; protocol: 'http/protobuf' | 'http/json' } | undefined {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || undefined;
  const endpoint = flags.otelEndpoint ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined);
  const asked = flags.otel === true || flags.otelEndpoint !== undefined;
  if (!asked && (tracesEndpoint === undefined && endpoint === undefined)) return undefined;
  if (!asked && (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none')) return undefined;
  // As the OTLP spec says: the signal's own variable is the full URL; the general one (and --otel-endpoint) a base.
  const url = flags.otelEndpoint === undefined && tracesEndpoint !== undefined ? tracesEndpoint : `${(endpoint ?? 'http://localhost:4318').replace(/\/+$/, '').replace(/\/v1\/traces$/, '')}/v1/traces`;
  const source = flags.otelEndpoint !== undefined ? '--otel-endpoint' : tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) throw new UsageError(`${source} must be an http(s) URL, e.g. http://localhost:4318 (got ${JSON.stringify(flags.otelEndpoint ?? tracesEndpoint ?? endpoint)})`);
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVariable]?.trim() || 'http/protobuf').toLowerCase();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new UsageError(`${protocolVariable} must be http/protobuf or http/json (got ${JSON.stringify(env[protocolVariable])}; grpc is not supported by imagegen)`);
  }
  return { url, protocol };
}

type SdkPackages = {
  sdk: typeof import('@opentelemetry/sdk-trace-base');
  resources: typeof import('@opentelemetry/resources');
  exporter: { OTLPTraceExporter: new (config: { url: string }) => import('@opentelemetry/sdk-trace-base').SpanExporter };
};

/**
 * Starts a tracer provider that exports to the target; `undefined` when telemetry is off. Its
 * tracer is passed to the library (nothing is registered globally). An export that fails is said
 * once on stderr; the run goes on.
 */
export async function startCliTelemetry({ flags, io, functionId }: { flags: OtelFlags; io: CliIO; functionId: string }): Promise<CliTelemetry | undefined> {
  const target = otelTarget(flags, io.env);
  if (target === undefined) return undefined;
  // The collector's key travels in these headers (read by the exporter itself): never to be printed.
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    for (const pair of io.env[variable]?.split(',') ?? []) registerSecret(safeDecode(pair.slice(pair.indexOf('=') + 1).trim()));
  }
  const packages = await loadSdk(target.protocol);
  const { sdk, resources, exporter } = packages;
  let warned = false;
  const inner = new exporter.OTLPTraceExporter({ url: target.url });
  const reporting: import('@opentelemetry/sdk-trace-base').SpanExporter = {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== 0 && !warned) {
          warned = true;
          // The collector's answer says why (an unknown key, a wrong path): its first line, redacted.
          const answer = (result.error as { data?: unknown } | undefined)?.data;
          const why = typeof answer === 'string' && answer.trim() !== '' ? ` (${answer.trim().split('\n')[0]!.slice(0, 200)})` : '';
          io.stderr(`imagegen: could not export spans to ${target.url}: ${redactSecrets(`${result.error?.message ?? 'unknown error'}${why}`)}\n`);
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': io.env.OTEL_SERVICE_NAME?.trim() || 'imagegen', 'service.version': VERSION }),
    spanProcessors: [new sdk.BatchSpanProcessor(reporting)],
  });
  return {
    settings: { isEnabled: true, functionId, tracer: provider.getTracer('ai-imagegen', VERSION) },
    url: target.url,
    shutdown: () => provider.shutdown(),
  };
}

async function loadSdk(protocol: 'http/protobuf' | 'http/json'): Promise<SdkPackages> {
  try {
    const [sdk, resources, exporter] = await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    ]);
    return { sdk, resources, exporter: exporter as SdkPackages['exporter'] };
  } catch (error) {
    const { code } = (error ?? {}) as { code?: unknown };
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new ImagegenError({
      kind: 'missing-package',
      message: `imagegen --otel needs OpenTelemetry's SDK, which is not installed. Run: npm install ${PACKAGES.join(' ')}`,
      cause: error,
    });
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
