import type { BreakerState } from '../../common/upstream/breaker';

export type ProviderKind = 'openai' | 'anthropic' | 'ollama';

/** What the gateway knows of one upstream instance (cached; never blocks a request). */
export interface ProviderInstanceInfo {
  id: string;
  kind: ProviderKind;
  base_url: string;
  /** Declared `self_hosted` (a vLLM, LM Studio... server run by the user). */
  self_hosted: boolean;
  /** Model names this instance serves. */
  models: string[];
  breaker: BreakerState;
  /** Result of the last background probe. */
  reachable: boolean | null;
  probe_latency_ms: number | null;
  last_probe_at: string | null;
  /** Models the upstream itself listed at the last probe, when it lists them. */
  upstream_models: string[] | null;
}
