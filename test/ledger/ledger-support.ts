import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import { LedgerService } from '../../src/ledger/ledger.service';
import { startApp, type StartAppOptions, type TestApp } from '../support/app';
import { delay, testRedisUrl, waitUntil, withClient } from '../support/services';

/** The stream and dead-letter keys of a deployment's key prefix (see RedisLedgerBuffer). */
export const streamKey = (prefix: string): string => `${prefix}ledger:stream`;
export const deadLetterKey = (prefix: string): string => `${prefix}ledger:dead`;
export const LEDGER_GROUP = 'ledger-writers';

/** startApp (each app logs its background lines to its own capture). */
export function startLedgerApp(options: StartAppOptions = {}): Promise<TestApp> {
  return startApp(options);
}

let sequence = 0;

/** A unique request id for this test run. */
export function requestId(tag = 'req'): string {
  sequence += 1;
  return `${tag}-${sequence}-${randomUUID().slice(0, 8)}`;
}

/** A complete, valid ledger entry; every field can be overridden. */
export function makeEntry(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    request_id: requestId(),
    attempt: 1,
    user_id: randomUUID(),
    project_id: randomUUID(),
    api_key_id: null,
    endpoint: '/v1/chat/completions',
    provider: 'openai-main',
    model: 'gpt-4o-mini',
    input_tokens: 120,
    output_tokens: 30,
    cached_input_tokens: 0,
    cache_write_input_tokens: 0,
    reasoning_tokens: 0,
    micro_credits: 2_500,
    usd: '0.0000250000',
    latency_ms: 412,
    status: 'success',
    error_class: null,
    idempotency_key: null,
    created_at: new Date().toISOString(),
    ...overrides,
  };
}

export function ledgerOf(t: TestApp): LedgerService {
  return t.app.get(LedgerService);
}

export interface LedgerRow {
  id: string;
  request_id: string;
  attempt: number;
}

/** Every ledger row, in insertion (id) order, read straight from Postgres (never through a proxy). */
export function ledgerRows(dbUrl: string, where = 'TRUE', params: unknown[] = []): Promise<LedgerRow[]> {
  return withClient(dbUrl, async (client) => {
    const res = await client.query<LedgerRow>(
      `SELECT id, request_id, attempt FROM usage_ledger WHERE ${where} ORDER BY id`,
      params,
    );
    return res.rows;
  });
}

export async function ledgerCount(dbUrl: string): Promise<number> {
  return withClient(dbUrl, async (client) => {
    const res = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_ledger');
    return Number(res.rows[0].n);
  });
}

/** Polls until Postgres holds `expected` ledger rows; returns the last count seen. */
export async function waitForRowCount(dbUrl: string, expected: number, timeoutMs: number): Promise<number> {
  let count = -1;
  await waitUntil(async () => {
    count = await ledgerCount(dbUrl);
    return count >= expected;
  }, timeoutMs);
  return count;
}

/** Entries recorded but absent from Postgres, and rows present more than once (both must be empty). */
export function compareWithRecorded(
  recorded: readonly LedgerEntry[],
  rows: readonly LedgerRow[],
): { missing: string[]; duplicated: string[] } {
  const seen = new Map<string, number>();
  for (const row of rows) {
    const key = `${row.request_id}#${row.attempt}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const missing = recorded.map((e) => `${e.request_id}#${e.attempt}`).filter((key) => !seen.has(key));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([key]) => key);
  return { missing, duplicated };
}

/** Requests whose attempts are not in ascending id order (must be empty). */
export function attemptsOutOfOrder(rows: readonly LedgerRow[]): string[] {
  const attempts = new Map<string, number[]>();
  for (const row of rows) attempts.set(row.request_id, [...(attempts.get(row.request_id) ?? []), row.attempt]);
  return [...attempts]
    .filter(([, list]) => list.some((attempt, i) => i > 0 && attempt < list[i - 1]))
    .map(([id, list]) => `${id}: ${list.join(',')}`);
}

/** The value of a metric in the app's /metrics exposition (summed over label sets matching `labels`). */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const lines = text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
  if (lines.length === 0) throw new Error(`metric ${name} is not exposed`);
  return lines
    .filter((line) => wanted.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** A plain ioredis client on the shared test Redis, for looking into the stream. */
export function redisClient(): Redis {
  const client = new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

/** Records entries one after another until stopped: one request of one to three attempts at a time. */
export class Recorder {
  readonly recorded: LedgerEntry[] = [];
  readonly latenciesMs: number[] = [];
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ledger: LedgerService,
    private readonly overrides: Partial<LedgerEntry> = {},
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const id = requestId('load');
      const attempts = 1 + (this.recorded.length % 3);
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        const entry = makeEntry({ ...this.overrides, request_id: id, attempt });
        const started = performance.now();
        await this.ledger.record(entry);
        this.latenciesMs.push(performance.now() - started);
        this.recorded.push(entry);
      }
      await delay(3);
    }
  }
}
