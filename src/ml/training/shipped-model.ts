/**
 * Where the trading-signal model that ships with the service lives: `signal-model.onnx` and its
 * JSON sidecar, committed beside this file and written by `npm run train:signal`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { trainingDir } from './dataset';

export const SIGNAL_MODEL_NAME = 'trading-signal';
export const SIGNAL_MODEL_FILE = 'signal-model.onnx';
export const SIGNAL_SIDECAR_FILE = 'signal-model.json';

export interface ShippedModelFiles {
  onnx: string;
  sidecar: string;
}

/**
 * The paths of the shipped ONNX file and sidecar: beside the running code when they were copied
 * there (e.g. into dist/ as build assets), else in the source tree (src/ml/training/).
 * @throws Error when neither place holds both files.
 */
export function shippedSignalModelFiles(): ShippedModelFiles {
  const dirs = [__dirname, trainingDir()];
  for (const dir of dirs) {
    const files = { onnx: join(dir, SIGNAL_MODEL_FILE), sidecar: join(dir, SIGNAL_SIDECAR_FILE) };
    if (existsSync(files.onnx) && existsSync(files.sidecar)) return files;
  }
  throw new Error(`shipped model ${SIGNAL_MODEL_FILE} not found in ${dirs.join(' or ')}`);
}
