/**
 * What the soak sets up and reads back besides its load: the projects, the ledger, budget holds left in
 * Redis, and the instances' processes in /proc.
 */
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import type { Api } from '../support/http';
import { withClient } from '../support/services';
import type { ProjectRef } from './soak-load';
import type { LedgerRowLite } from './soak-report';

export interface QuotaStatus {
  daily: { spent: number; reserved: number };
  monthly: { spent: number; reserved: number };
}

export async function soakProject(api: Api, admin: string, label: string, dailyCredits: number): Promise<ProjectRef> {
  const project = await api.post<{ id: string }>('/projects', { name: `soak-${label}` }, { token: admin });
  if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.text}`);
  const id = project.body.id;
  const key = await api.post<{ key: string }>(`/projects/${id}/api-keys`, { name: label }, { token: admin });
  if (key.status !== 201) throw new Error(`create key: ${key.status} ${key.text}`);
  const quota = await api.request('PUT', `/projects/${id}/quota`, {
    token: admin,
    body: { daily_credits: dailyCredits },
  });
  if (quota.status !== 200) throw new Error(`set quota: ${quota.status} ${quota.text}`);
  return { label, id, apiKey: key.body.key };
}

export async function soakLedger(url: string): Promise<LedgerRowLite[]> {
  return withClient(url, async (client) => {
    const res = await client.query<LedgerRowLite>(
      "SELECT request_id, attempt, status FROM usage_ledger WHERE starts_with(request_id, 'soak-')",
    );
    return res.rows;
  });
}

/** Micro-credits billed per project, from the ledger. */
export async function ledgerSpend(url: string): Promise<Map<string, number>> {
  return withClient(url, async (client) => {
    const res = await client.query<{ project_id: string; total: string }>(
      // Today's spend (UTC), as the daily budget counts it.
      `SELECT project_id, sum(micro_credits)::text AS total FROM usage_ledger
        WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        GROUP BY project_id`,
    );
    return new Map(res.rows.map((row) => [row.project_id, Number(row.total)]));
  });
}

/** When each micro-credit of a project was billed (ms since the soak started). */
export async function ledgerTimeline(
  url: string,
  projectId: string,
  epoch: number,
): Promise<{ at: number; micro: number }[]> {
  return withClient(url, async (client) => {
    const res = await client.query<{ at: string; micro: string }>(
      `SELECT (extract(epoch FROM created_at) * 1000)::bigint::text AS at, micro_credits::text AS micro
         FROM usage_ledger WHERE project_id = $1 AND micro_credits > 0`,
      [projectId],
    );
    return res.rows.map((row) => ({ at: Number(row.at) - epoch, micro: Number(row.micro) }));
  });
}

/** Budget holds still open in Redis (members of every quota holds zset). */
export async function openHolds(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}quota:*:holds`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) total += await client.zcard(key);
    } while (cursor !== '0');
    return total;
  } finally {
    client.disconnect();
  }
}

export function rssKb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The process start time (clock ticks since boot): a new process under a reused pid differs. */
export function startTime(pid: number | undefined): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
