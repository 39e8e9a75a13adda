/**
 * Shared helpers of the ml end-to-end specs: settings for an app with its own model store, real
 * feature vectors, ONNX files derived from the shipped model, multipart uploads and database checks.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { shippedSignalModelFiles } from '../../src/ml/shipped/shipped-model';
import { loadEuStockMarkets } from '../../tools/train-signal/dataset';
import { signalFeatures, SIGNAL_MIN_HISTORY } from '../../tools/train-signal/features';
import { predictSignal, type SignalModel } from '../../tools/train-signal/model';
import { exportSignalModelToOnnx, signalModelFromOnnx } from '../../tools/train-signal/onnx-export';

export interface Sidecar {
  name: string;
  version: string;
  sha256: string;
}

export const SHIPPED = shippedSignalModelFiles();
export const SHIPPED_BYTES = readFileSync(SHIPPED.onnx);
export const SIDECAR = JSON.parse(readFileSync(SHIPPED.sidecar, 'utf8')) as Sidecar;
export const SHIPPED_MODEL: SignalModel = signalModelFromOnnx(SHIPPED_BYTES);

/**
 * Settings of an app under test: its own model store folder, and the compiled inference worker named
 * by INFERENCE_WORKER_SCRIPT when set (else the build's copy under dist/).
 */
export function mlEnv(storeDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const workerScript = process.env.INFERENCE_WORKER_SCRIPT;
  return {
    MODEL_STORE_DIR: storeDir,
    ML_REGISTRY_REFRESH_MS: '0',
    ...(workerScript ? { ML_WORKER_SCRIPT: workerScript } : {}),
    ...extra,
  };
}

export function tempStore(): string {
  return mkdtempSync(join(tmpdir(), 'conflux-models-'));
}

/** Files of a model store, relative paths, sorted (the incoming folder included, to catch leftovers). */
export function storeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

let samples: number[][] | undefined;

/** Real feature vectors: one per 21-day window of the four EuStockMarkets indices, in a fixed order. */
export function realFeatures(): number[][] {
  if (!samples) {
    samples = [];
    for (const series of loadEuStockMarkets()) {
      for (let t = SIGNAL_MIN_HISTORY; t <= series.prices.length; t += 7) {
        samples.push(signalFeatures(series.prices.slice(t - SIGNAL_MIN_HISTORY, t)));
      }
    }
  }
  return samples;
}

/** The reference answer of a model (plain TypeScript forward pass) for one row. */
export function reference(
  model: SignalModel,
  features: number[],
): { direction: string; confidence: number; expected_return: number } {
  const prediction = predictSignal(model, [features]);
  const probabilities = prediction.probabilities[0];
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  return {
    direction: ['SELL', 'HOLD', 'BUY'][best],
    confidence: probabilities[best],
    expected_return: prediction.expectedReturn[0],
  };
}

/** The shipped model with every weight and bias moved by a deterministic amount: a plausible retrained version. */
export function perturbedModel(seed: number, scale = 0.5): SignalModel {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  return {
    ...SHIPPED_MODEL,
    layers: SHIPPED_MODEL.layers.map((layer) => ({
      weights: layer.weights.map((row) => row.map((w) => w + scale * next())),
      bias: layer.bias.map((b) => b + scale * next()),
    })),
  };
}

export function onnxBytes(model: SignalModel): Buffer {
  return Buffer.from(exportSignalModelToOnnx(model));
}

/** A model of the same family taking 8 features instead of 12: it loads, but does not fit the signature. */
export function wrongSignatureBytes(): Buffer {
  const f = 8;
  const hidden = SHIPPED_MODEL.layers[0].bias.length;
  return onnxBytes({
    featureNames: SHIPPED_MODEL.featureNames.slice(0, f),
    mean: SHIPPED_MODEL.mean.slice(0, f),
    scale: SHIPPED_MODEL.scale.slice(0, f),
    layers: [
      {
        weights: SHIPPED_MODEL.layers[0].weights.slice(0, f).map((row) => row.slice(0, hidden)),
        bias: SHIPPED_MODEL.layers[0].bias,
      },
      ...SHIPPED_MODEL.layers.slice(1),
    ],
    classReturns: SHIPPED_MODEL.classReturns,
  });
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface UploadResult {
  status: number;
  body: Record<string, unknown>;
}

/** POST /api/ml/models/:name/versions as multipart/form-data. */
export async function upload(
  baseUrl: string,
  token: string,
  model: string,
  bytes: Buffer | undefined,
  fields: Record<string, string> = {},
  filename = 'model.onnx',
): Promise<UploadResult> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (bytes) form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), filename);
  const res = await fetch(`${baseUrl}/api/ml/models/${model}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Rows of the registry tables, for "nothing changed" checks. */
export async function registryRows(url: string): Promise<unknown[]> {
  return query(
    url,
    `SELECT m.name, v.version, v.stage, v.sha256, v.artifact_path
       FROM ml_models m LEFT JOIN ml_model_versions v ON v.model_id = m.id
      ORDER BY m.name, v.version`,
  );
}

/** The value of one Prometheus sample (first match), NaN when absent. */
export function metricValue(exposition: string, pattern: RegExp): number {
  const match = pattern.exec(exposition);
  return match ? Number(match[1]) : NaN;
}
