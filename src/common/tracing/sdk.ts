import { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { markTracingStarted, maskQuery } from './tracing';

/**
 * The OpenTelemetry SDK: loaded (and its modules required) only when tracing is configured, by
 * src/tracing.ts, before anything else is required, so that the instrumentations patch http, pg and
 * ioredis before the application loads them.
 */

/** Requests not traced: probes and scrapes would be most of the spans and say nothing. */
const UNTRACED = /^\/(metrics|health)(\/|\?|$)/;

export interface TracingHandle {
  /** Flushes the spans still buffered and stops exporting (bounded by the exporter's timeout). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  version: string;
}

/**
 * Starts the tracer provider (OTLP/HTTP exporter and batch processor, both configured by the standard
 * OTEL_* variables; sampler from OTEL_TRACES_SAMPLER/OTEL_TRACES_SAMPLER_ARG) and the instrumentations:
 * server spans for incoming HTTP requests, client spans for undici (with `traceparent` injected), pg
 * and ioredis spans within a request. Request and response bodies and headers are never recorded; the
 * values of query parameters are masked; SQL statements keep their placeholders (never the values) and
 * Redis commands lose their arguments.
 */
export function startTracing(options: TracingOptions): TracingHandle {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'conflux', [ATTR_SERVICE_VERSION]: options.version }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED.test(req.url ?? ''),
        // Outgoing node:http calls (none on the request path) are traced only inside a trace.
        requireParentforOutgoingSpans: true,
        startIncomingSpanHook: (req) => queryAttributes(req.url ?? ''),
        applyCustomAttributesOnSpan: (span, request) => {
          if (request instanceof IncomingMessage) nameByRoute(span, request);
        },
      }),
      new UndiciInstrumentation({
        // Background calls (probes) outside any request are not traced.
        requireParentforSpans: true,
        startSpanHook: (request) => urlAttributes(request.origin, request.path),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      // Keys and arguments (budgets, ledger entries, key hashes) stay out: the command and how many arguments.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
    ],
  });
  markTracingStarted('conflux', options.version);
  return { shutdown: () => provider.shutdown() };
}

function redisStatement(command: string, args: unknown[]): string {
  return args.length === 0 ? command : `${command} [${args.length} arguments]`;
}

/** `url.query` with its values masked (the instrumentation's own attribute keeps them). */
function queryAttributes(url: string): Record<string, string> {
  const q = url.indexOf('?');
  return q < 0 ? {} : { 'url.query': maskQuery(url.slice(q + 1)) };
}

/** `url.full` and `url.query` of a client call with the query's values masked. */
function urlAttributes(origin: string, path: string): Record<string, string> {
  const q = path.indexOf('?');
  if (q < 0) return {};
  const search = maskQuery(path.slice(q));
  return { 'url.full': `${origin}${path.slice(0, q)}${search}`, 'url.query': search };
}

/**
 * `METHOD /route/:template` and `http.route` once Express matched a route (paths answered by the
 * catch-all, unknown to us, keep the bare method).
 */
function nameByRoute(span: Span, req: IncomingMessage): void {
  const { route, baseUrl, method } = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  const path = route?.path;
  if (typeof path !== 'string' || path.includes('{*')) return;
  const template = `${baseUrl ?? ''}${path}`;
  span.setAttribute(ATTR_HTTP_ROUTE, template);
  span.updateName(`${method ?? 'GET'} ${template}`);
}
