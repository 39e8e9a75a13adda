import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  isSpanContextValid,
} from '@opentelemetry/api';

/**
 * What the code outside the tracing setup needs of OpenTelemetry, on the API package alone (no SDK).
 *
 * Everything here starts with one boolean check: with tracing off (no OTLP endpoint configured) no span
 * is started, no context is switched, no attribute is built. Callers that would build attributes check
 * `tracingOn()` first.
 */
let on = false;
let tracer: Tracer | undefined;

/** True once the tracing SDK is started (see src/tracing.ts). */
export function tracingOn(): boolean {
  return on;
}

/** Called by the SDK setup once the tracer provider is registered. */
export function markTracingStarted(name: string, version: string): void {
  tracer = trace.getTracer(name, version);
  on = true;
}

/** What a span to be started is: its name and its attributes at start. */
export interface SpanRequest {
  name: string;
  attributes: Attributes;
}

/** Starts a CLIENT span (a call to another service) below the active context; undefined when tracing is off. */
export function startClientSpan(request: SpanRequest | undefined): Span | undefined {
  if (!on || request === undefined || tracer === undefined) return undefined;
  return tracer.startSpan(request.name, { kind: SpanKind.CLIENT, attributes: request.attributes });
}

/** Runs `fn` with `span` as the active span (so that the HTTP client span and `traceparent` follow it). */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  if (span === undefined) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Ends a span: OK, or ERROR with the failure's class as `error.type`. Only the class is recorded, never
 * the failure's message (an upstream may echo the request in it).
 */
export function endSpan(span: Span | undefined, errorClass?: string): void {
  if (span === undefined) return;
  if (errorClass !== undefined) {
    span.setAttribute('error.type', errorClass);
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorClass });
  }
  span.end();
}

/**
 * Runs `fn` inside an INTERNAL span (work done here, e.g. in a worker thread) when tracing is on; the span
 * ends with `fn`, in error when it throws (recording the error's name, not its message).
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!on || tracer === undefined) return fn();
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      const result = await fn();
      endSpan(span);
      return result;
    } catch (err) {
      endSpan(span, err instanceof Error ? err.name : 'Error');
      throw err;
    }
  });
}

/** Sets attributes on the active span (in a request: its server span) when tracing is on. */
export function annotateActiveSpan(attributes: Attributes): void {
  if (!on) return;
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** `trace_id` and `span_id` of the active span, for a log line (nothing outside a trace). */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

/** `?a=1&b=2` → `?a=[redacted]&b=[redacted]`: a query's names are kept, none of its values. */
export function maskQuery(search: string): string {
  if (search === '' || search === '?') return search;
  const body = search.startsWith('?') ? search.slice(1) : search;
  const masked = body
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    })
    .join('&');
  return search.startsWith('?') ? `?${masked}` : masked;
}
