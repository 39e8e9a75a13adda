import type { ProviderKind } from './provider-info';

/**
 * One model an instance serves, with what the instance itself says of it. Kinds that say nothing
 * beyond names (OpenAI, Anthropic) and instances that could not be asked leave the details null.
 */
export interface ServedModel {
  /** The model as the instance names it. */
  name: string;
  instanceId: string;
  kind: ProviderKind;
  /** The instance's breaker is not open and its last probe did not find it unreachable. */
  available: boolean;
  size_bytes: number | null;
  /** e.g. "8.0B", "566.70M" (Ollama's `details.parameter_size`). */
  parameter_size: string | null;
  family: string | null;
  quantization_level: string | null;
  /** The prompt template the instance applies. */
  template: string | null;
  /** e.g. ["completion", "tools"], ["embedding"]. */
  capabilities: string[] | null;
  context_length: number | null;
  modified_at: string | null;
  /** When the details were fetched from the instance (null: never). */
  described_at: string | null;
}
