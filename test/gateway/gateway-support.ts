import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import type { TestDatabase } from '../support/services';

export interface Declaration {
  id: string;
  kind: 'openai' | 'anthropic' | 'ollama';
  base_url: string;
  /** Left out only on an ollama instance (it serves what /api/tags reports). */
  models?: string[];
  self_hosted?: boolean;
  timeout_ms?: number;
  api_key_env?: string;
  breaker?: Record<string, number>;
  retry?: Record<string, number>;
}

export interface GatewayOptions {
  providers: Declaration[];
  models?: Record<string, unknown>[];
  env?: Record<string, string>;
  db?: TestDatabase;
  databaseUrl?: string;
  /** Reuse these (second instance of one deployment). */
  project?: { id: string; key: string };
}

export interface Gateway {
  t: TestApp;
  api: Api;
  adminToken: string;
  projectId: string;
  apiKey: string;
  close(): Promise<void>;
}

/** Boots Conflux with a PROVIDERS_FILE naming the fake upstreams, plus a project and its API key. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'conflux-gw-'));
  const file = join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify({ providers: options.providers, models: options.models ?? [] }));
  const t = await startApp({
    db: options.db,
    databaseUrl: options.databaseUrl,
    env: { PROVIDERS_FILE: file, PROVIDER_PROBE_INTERVAL_MS: '60000', ...options.env },
  });
  const api = new Api(t.url);
  const adminToken = await signInAdmin(api);
  let projectId = options.project?.id;
  let apiKey = options.project?.key;
  if (!projectId || !apiKey) {
    projectId = (await createProject(api, adminToken, 'gateway')).id;
    apiKey = (await createApiKey(api, adminToken, projectId, 'gateway')).key;
  }
  return {
    t,
    api,
    adminToken,
    projectId,
    apiKey,
    close: async () => {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LedgerRow {
  request_id: string;
  attempt: number;
  provider: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  micro_credits: string;
  status: string;
  error_class: string | null;
  endpoint: string;
}

export async function ledgerRows(url: string, where = 'TRUE', params: unknown[] = []): Promise<LedgerRow[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<LedgerRow>(
      `SELECT request_id, attempt, provider, model, input_tokens, output_tokens, micro_credits::text AS micro_credits,
              status, error_class, endpoint
         FROM usage_ledger WHERE ${where} ORDER BY id`,
      params,
    );
    return res.rows;
  } finally {
    await client.end();
  }
}

/** Polls the ledger until `predicate` holds (rows are written off the hot path). */
export async function waitForLedger(
  url: string,
  predicate: (rows: LedgerRow[]) => boolean,
  where = 'TRUE',
  params: unknown[] = [],
  timeoutMs = 10_000,
): Promise<LedgerRow[]> {
  const deadline = Date.now() + timeoutMs;
  let rows = await ledgerRows(url, where, params);
  while (!predicate(rows) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    rows = await ledgerRows(url, where, params);
  }
  return rows;
}

export const FAST_BREAKER = {
  error_threshold_percentage: 50,
  reset_timeout_ms: 500,
  volume_threshold: 2,
  rolling_window_ms: 10_000,
};
export const NO_RETRY = { max_attempts: 1, base_delay_ms: 0, max_delay_ms: 0 };

/** The project's daily quota; asked again (for up to 10 s) while the answer is not a 200. */
export async function quotaOf(gw: Gateway): Promise<{ spent: number; reserved: number; limit: number }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await gw.api.get<{ daily: { spent: number; reserved: number; limit: number } }>(
      `/projects/${gw.projectId}/quota`,
      { apiKey: gw.apiKey },
    );
    if (res.status === 200 || Date.now() > deadline) {
      expect(res.status).toBe(200);
      return res.body.daily;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
