import type { TracingHandle } from './common/tracing/sdk';
import { VERSION } from './version';

/**
 * OpenTelemetry tracing, on when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not `true`. main.ts imports this module
 * first: the instrumentations must patch http, pg and ioredis before the application requires them.
 *
 * Off, the SDK is not even loaded: nothing is patched, the global tracer provider stays the API's no-op
 * one, and the code that annotates spans stops at one boolean check.
 */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

function start(env: NodeJS.ProcessEnv): TracingHandle | undefined {
  if (!tracingConfigured(env)) return undefined;
  // Required here, not imported: with tracing off the SDK's modules are never loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./common/tracing/sdk') as typeof import('./common/tracing/sdk');
  return sdk.startTracing({ version: VERSION });
}

/** The running SDK, to flush on shutdown; undefined when tracing is off. */
export const tracing: TracingHandle | undefined = start(process.env);
