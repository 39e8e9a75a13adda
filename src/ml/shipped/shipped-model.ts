/**
 * Where the trading-signal model that ships with the service lives: `signal-model.onnx` and its
 * JSON sidecar, committed beside this file and written by `npm run train:signal`
 * (tools/train-signal/).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const SIGNAL_MODEL_NAME = 'trading-signal';
export const SIGNAL_MODEL_FILE = 'signal-model.onnx';
export const SIGNAL_SIDECAR_FILE = 'signal-model.json';

export interface ShippedModelFiles {
  onnx: string;
  sidecar: string;
}

/**
 * The project root: the nearest folder at or above `from` (this file's folder, in src/ or dist/)
 * holding a package.json, else the nearest one at or above the working directory.
 */
export function projectRoot(from: string = __dirname): string {
  for (const start of [from, process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, 'package.json'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`no package.json above ${from} or ${process.cwd()}`);
}

/** Where the shipped model files live in the source tree (also when running from dist/). */
export function shippedModelDir(): string {
  return join(projectRoot(), 'src', 'ml', 'shipped');
}

/**
 * The paths of the shipped ONNX file and sidecar: beside the running code when they were copied
 * there (e.g. into dist/ as build assets), else in the source tree (src/ml/shipped/).
 * @throws Error when neither place holds both files.
 */
export function shippedSignalModelFiles(): ShippedModelFiles {
  const dirs = [__dirname, shippedModelDir()];
  for (const dir of dirs) {
    const files = { onnx: join(dir, SIGNAL_MODEL_FILE), sidecar: join(dir, SIGNAL_SIDECAR_FILE) };
    if (existsSync(files.onnx) && existsSync(files.sidecar)) return files;
  }
  throw new Error(`shipped model ${SIGNAL_MODEL_FILE} not found in ${dirs.join(' or ')}`);
}
