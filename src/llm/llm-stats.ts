import { Injectable } from '@nestjs/common';
import type { TokenUsage } from '../providers/dto/chat';

/** Counters of the generation requests (all providers, or one). */
export interface ProviderStats {
  requests: number;
  successes: number;
  failures: number;
  latencyTotalMs: number;
  inputTokens: number;
  outputTokens: number;
}

/** Counters behind GET /stats (this instance, since it started; Prometheus has the fleet view). */
@Injectable()
export class LlmStats {
  private readonly startedAt = new Date();
  private readonly byProvider = new Map<string, ProviderStats>();

  observe(provider: string, ok: boolean, latencyMs: number, usage: TokenUsage): void {
    let s = this.byProvider.get(provider);
    if (!s) {
      s = { requests: 0, successes: 0, failures: 0, latencyTotalMs: 0, inputTokens: 0, outputTokens: 0 };
      this.byProvider.set(provider, s);
    }
    s.requests += 1;
    if (ok) s.successes += 1;
    else s.failures += 1;
    s.latencyTotalMs += latencyMs;
    s.inputTokens += usage.input_tokens;
    s.outputTokens += usage.output_tokens;
  }

  /** The counters summed over every provider. */
  totals(): ProviderStats {
    const total: ProviderStats = {
      requests: 0,
      successes: 0,
      failures: 0,
      latencyTotalMs: 0,
      inputTokens: 0,
      outputTokens: 0,
    };
    for (const s of this.byProvider.values()) {
      for (const key of Object.keys(total) as (keyof ProviderStats)[]) total[key] += s[key];
    }
    return total;
  }

  snapshot(): Record<string, unknown> {
    const providers: Record<string, unknown> = {};
    for (const [id, s] of this.byProvider) providers[id] = view(s);
    return { since: this.startedAt.toISOString(), ...view(this.totals()), providers };
  }
}

function view(s: ProviderStats): Record<string, number> {
  return {
    total_requests: s.requests,
    successful_requests: s.successes,
    failed_requests: s.failures,
    success_rate: s.requests === 0 ? 0 : s.successes / s.requests,
    average_latency_ms: s.requests === 0 ? 0 : Math.round(s.latencyTotalMs / s.requests),
    input_tokens: s.inputTokens,
    output_tokens: s.outputTokens,
    total_tokens: s.inputTokens + s.outputTokens,
  };
}
