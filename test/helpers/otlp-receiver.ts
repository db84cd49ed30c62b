import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OTLP/HTTP trace receiver on 127.0.0.1: takes `POST /v1/traces` as OTLP/JSON or
 * OTLP/protobuf (decoded here from the wire format, field numbers from opentelemetry-proto's
 * trace.proto and common.proto) and keeps the spans.
 */

export type ReceivedSpan = {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
  scope: string;
  resource: Record<string, unknown>;
};

export type OtlpReceiver = {
  /** The base URL, `http://127.0.0.1:<port>` (the exporter adds `/v1/traces`). */
  url: string;
  spans(): ReceivedSpan[];
  /** Content types of the exports received. */
  contentTypes(): string[];
  /** The request headers of each export. */
  headers(): Record<string, string | string[] | undefined>[];
  close(): Promise<void>;
};

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = request.headers['content-type'] ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.push(contentType);
      headers.push(request.headers);
      try {
        spans.push(...(contentType.includes('json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      if (contentType.includes('json')) response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => [...spans],
    contentTypes: () => [...contentTypes],
    headers: () => [...headers],
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

// OTLP/JSON: ids are hex strings, 64-bit integers may be strings.
type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonKeyValue = { key: string; value: JsonValue };

function fromJson(request: {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: JsonKeyValue[];
        events?: { name: string; attributes?: JsonKeyValue[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}): ReceivedSpan[] {
  const value = (item: JsonValue): unknown =>
    item.stringValue ?? item.boolValue ?? (item.intValue !== undefined ? Number(item.intValue) : undefined) ?? item.doubleValue ?? item.arrayValue?.values?.map(value);
  const attributes = (list: JsonKeyValue[] | undefined) => Object.fromEntries((list ?? []).map((entry) => [entry.key, value(entry.value)]));
  return (request.resourceSpans ?? []).flatMap((resourceSpans) =>
    (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        name: span.name,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        attributes: attributes(span.attributes),
        events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributes(event.attributes) })),
        status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
        scope: scopeSpans.scope?.name ?? '',
        resource: attributes(resourceSpans.resource?.attributes),
      })),
    ),
  );
}

/** A protobuf message as its fields: number → values (varints as bigint, fixed as Buffer, length-delimited as Buffer). */
type Fields = Map<number, (bigint | Buffer)[]>;

function decode(buffer: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    let value: bigint | Buffer;
    if (wireType === 0) value = varint();
    else if (wireType === 1) value = buffer.subarray(offset, (offset += 8));
    else if (wireType === 2) {
      const length = Number(varint());
      value = buffer.subarray(offset, (offset += length));
    } else if (wireType === 5) value = buffer.subarray(offset, (offset += 4));
    else throw new Error(`unexpected wire type ${wireType}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const messages = (fields: Fields, field: number): Fields[] => (fields.get(field) ?? []).map((value) => decode(value as Buffer));
const text = (fields: Fields, field: number): string => ((fields.get(field)?.[0] as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8');
const hex = (fields: Fields, field: number): string => ((fields.get(field)?.[0] as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex');
const number = (fields: Fields, field: number): number => Number((fields.get(field)?.[0] as bigint | undefined) ?? 0n);

/** common.proto's AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 array. */
function anyValue(fields: Fields): unknown {
  if (fields.has(1)) return text(fields, 1);
  if (fields.has(2)) return number(fields, 2) === 1;
  if (fields.has(3)) return Number(BigInt.asIntN(64, fields.get(3)![0] as bigint));
  if (fields.has(4)) return (fields.get(4)![0] as Buffer).readDoubleLE(0);
  if (fields.has(5)) return messages(messages(fields, 5)[0]!, 1).map(anyValue);
  return undefined;
}

/** KeyValue: 1 key, 2 value. */
const keyValues = (list: Fields[]) => Object.fromEntries(list.map((entry) => [text(entry, 1), anyValue(messages(entry, 2)[0] ?? new Map())]));

/**
 * ExportTraceServiceRequest: 1 resource_spans. ResourceSpans: 1 resource (1 attributes), 2
 * scope_spans. ScopeSpans: 1 scope (1 name), 2 spans. Span: 1 trace_id, 2 span_id, 4
 * parent_span_id, 5 name, 9 attributes, 11 events (2 name, 3 attributes), 15 status (2 message, 3 code).
 */
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return messages(decode(body), 1).flatMap((resourceSpans) => {
    const resource = keyValues(messages(messages(resourceSpans, 1)[0] ?? new Map(), 1));
    return messages(resourceSpans, 2).flatMap((scopeSpans) => {
      const scope = text(messages(scopeSpans, 1)[0] ?? new Map(), 1);
      return messages(scopeSpans, 2).map((span) => {
        const status = messages(span, 15)[0] ?? new Map();
        return {
          name: text(span, 5),
          traceId: hex(span, 1),
          spanId: hex(span, 2),
          parentSpanId: hex(span, 4),
          attributes: keyValues(messages(span, 9)),
          events: messages(span, 11).map((event) => ({ name: text(event, 2), attributes: keyValues(messages(event, 3)) })),
          status: { code: number(status, 3), message: text(status, 2) },
          scope,
          resource,
        };
      });
    });
  });
}
