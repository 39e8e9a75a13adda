/** The model registry's answers (see the Swagger document, tag ml-admin). */
export const STAGES = ['none', 'staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

export interface InputSignature {
  name: string;
  dtype: string;
  shape: number[];
  feature_names?: string[];
}

export interface OutputMapping {
  probabilities: string;
  labels: string[];
  expected_return?: string;
  threshold?: number;
}

export interface ModelVersion {
  version: string;
  stage: Stage;
  sha256: string;
  size_bytes: number;
  description: string | null;
  created_at: string;
  stage_changed_at: string;
  loaded: boolean;
  load_error?: string;
  remote?: { protocol: string; url: string; breaker: string; fallback_version?: string };
}

export interface SplitArm {
  version: string;
  weight: number;
  share: number;
}

export interface Model {
  name: string;
  task: string;
  input_signature: InputSignature;
  output_mapping: OutputMapping;
  production_version: string | null;
  split: SplitArm[] | null;
  versions: ModelVersion[];
  created_at: string;
}

export interface AbArmStats {
  version: string;
  weight?: number;
  predictions: number;
  share: number;
  latency_ms: { mean: number; p50: number; p95: number };
  fallbacks: number;
  feedback: { count: number; hits: number; hit_rate: number | null; mean_abs_error: number | null };
}

export interface AbStats {
  model: string;
  arms: AbArmStats[];
}

export interface ReloadResult {
  model: string;
  reloaded: { version: string; load_ms: number }[];
}

/** The path of a model's routes. */
export function modelPath(name: string): string {
  return `/api/ml/models/${encodeURIComponent(name)}`;
}
