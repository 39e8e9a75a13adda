/**
 * The training data of the shipped trading-signal model: daily closes of four European stock
 * indices (R's `EuStockMarkets`, see data/SOURCE.md), turned into (features, label, return)
 * samples and split chronologically.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { projectRoot } from '../../src/ml/shipped/shipped-model';
import { SIGNAL_MIN_HISTORY, signalFeatures, signalLabel } from './features';

export interface PriceSeries {
  name: string;
  /** Closing prices, oldest first. */
  prices: number[];
}

export interface SignalSample {
  series: string;
  /** Index of the decision day in its series (the last price the features see). */
  t: number;
  features: number[];
  /** Class index (SELL, HOLD, BUY) of the next-day simple return. */
  label: number;
  /** Next-day simple return p[t+1] / p[t] - 1. */
  nextReturn: number;
}

export interface ChronologicalSplit {
  train: SignalSample[];
  validation: SignalSample[];
  test: SignalSample[];
  /** First decision-day index of the validation and of the test period. */
  boundaries: { validationStart: number; testStart: number };
}

/** Where the training files live in the source tree (also when running from dist/). */
export function trainingDir(): string {
  return join(projectRoot(), 'tools', 'train-signal');
}

export const EU_STOCK_MARKETS_CSV = 'data/eu-stock-markets.csv';

/**
 * Parses a CSV whose first row is a header: a first column that is not a price (a time stamp),
 * then one column of prices per series.
 */
export function parsePriceCsv(text: string): PriceSeries[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error('price CSV has no data rows');
  const header = lines[0].split(',').map((h) => h.trim());
  const series: PriceSeries[] = header.slice(1).map((name) => ({ name, prices: [] }));
  for (let row = 1; row < lines.length; row++) {
    const cells = lines[row].split(',');
    if (cells.length !== header.length) throw new Error(`price CSV row ${row + 1} has ${cells.length} cells`);
    for (let c = 1; c < cells.length; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`price CSV row ${row + 1}: bad price ${cells[c]}`);
      series[c - 1].prices.push(v);
    }
  }
  return series;
}

export function loadEuStockMarkets(file: string = join(trainingDir(), EU_STOCK_MARKETS_CSV)): PriceSeries[] {
  return parsePriceCsv(readFileSync(file, 'utf8'));
}

/**
 * One sample per series and decision day t with a full feature history and a next-day price:
 * t runs from SIGNAL_MIN_HISTORY - 1 to length - 2.
 */
export function buildSamples(series: readonly PriceSeries[], threshold: number): SignalSample[] {
  const out: SignalSample[] = [];
  for (const s of series) {
    for (let t = SIGNAL_MIN_HISTORY - 1; t + 1 < s.prices.length; t++) {
      const features = signalFeatures(s.prices.slice(t + 1 - SIGNAL_MIN_HISTORY, t + 1));
      const nextReturn = s.prices[t + 1] / s.prices[t] - 1;
      out.push({ series: s.name, t, features, label: signalLabel(nextReturn, threshold), nextReturn });
    }
  }
  return out;
}

/**
 * Splits by decision day, the same calendar cut for every series: the first `trainShare` of the
 * days train, the next `validationShare` validate, the rest test. A training sample's label uses
 * at most the price of the first validation day, which the validation features see anyway; no
 * sample sees a price after its own period's next day.
 */
export function chronologicalSplit(
  samples: readonly SignalSample[],
  seriesLength: number,
  trainShare = 0.7,
  validationShare = 0.15,
): ChronologicalSplit {
  const validationStart = Math.floor(seriesLength * trainShare);
  const testStart = Math.floor(seriesLength * (trainShare + validationShare));
  return {
    train: samples.filter((s) => s.t < validationStart),
    validation: samples.filter((s) => s.t >= validationStart && s.t < testStart),
    test: samples.filter((s) => s.t >= testStart),
    boundaries: { validationStart, testStart },
  };
}
