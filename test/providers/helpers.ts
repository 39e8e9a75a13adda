import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { BreakerSettings } from '../../src/config/breaker-settings';
import type { ProviderDeclaration, RetrySettings } from '../../src/config/gateway-config';
import type { ChatStreamEvent } from '../../src/providers/dto/chat';
import { UpstreamError } from '../../src/common/upstream/upstream-error';
import { ProviderInstance, type ProviderInstanceOptions } from '../../src/providers/provider-instance';
import { ProviderMetrics } from '../../src/providers/providers.metrics';
import type { FakeUpstream } from '../support/fake-upstreams';

export interface DeclarationOverrides extends Partial<Omit<ProviderDeclaration, 'breaker' | 'retry'>> {
  breaker?: Partial<BreakerSettings>;
  retry?: Partial<RetrySettings>;
}

/** A declaration pointing at a fake, with small timeouts and delays suited to tests. */
export function declaration(fake: FakeUpstream, overrides: DeclarationOverrides = {}): ProviderDeclaration {
  const { breaker, retry, ...rest } = overrides;
  return {
    id: `${fake.kind}-${randomBytes(3).toString('hex')}`,
    kind: fake.kind,
    base_url: fake.baseUrl,
    models: fake.models,
    timeout_ms: 2_000,
    ...rest,
    breaker: {
      error_threshold_percentage: 50,
      reset_timeout_ms: 100,
      volume_threshold: 3,
      rolling_window_ms: 10_000,
      ...breaker,
    },
    retry: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 5, ...retry },
  };
}

export interface TestInstance {
  instance: ProviderInstance;
  registry: Registry;
  /** Current value of a metric sample with exactly these labels (0 when absent). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

const open: ProviderInstance[] = [];

/** A ProviderInstance with metrics in a registry of its own; closed by `closeInstances()`. */
export function createInstance(declaration: ProviderDeclaration, options: ProviderInstanceOptions = {}): TestInstance {
  const registry = new Registry();
  const instance = new ProviderInstance(declaration, ProviderMetrics.inRegistry(registry), options);
  open.push(instance);
  return {
    instance,
    registry,
    metric: async (name, labels) => {
      const metric = await registry.getSingleMetric(name)?.get();
      const sample = metric?.values.find((v) =>
        Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
      );
      return sample?.value ?? 0;
    },
  };
}

export async function closeInstances(): Promise<void> {
  await Promise.all(open.splice(0).map((i) => i.close()));
}

/** The UpstreamError a promise rejects with (fails the test if it resolves or throws something else). */
export async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw new Error(`expected an UpstreamError, got ${String(err)}`);
  }
  throw new Error('expected the call to fail');
}

/** Reads a whole stream; a failure is returned after the events received before it. */
export async function drain(
  stream: AsyncIterable<ChatStreamEvent>,
): Promise<{ events: ChatStreamEvent[]; error?: UpstreamError }> {
  const events: ChatStreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events };
  } catch (err) {
    if (err instanceof UpstreamError) return { events, error: err };
    throw err;
  }
}

export function textOf(events: ChatStreamEvent[]): string {
  return events.map((e) => (e.type === 'delta' ? e.text : '')).join('');
}

/** Polls until `check` holds (fails after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the promise, or rejects after `ms` saying what did not happen. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The UpstreamError a synchronous function throws (fails the test otherwise). */
export function thrown(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw new Error(`expected an UpstreamError, got ${String(err)}`);
  }
  throw new Error('expected a throw');
}
