import { randomUUID } from 'node:crypto';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import type { TestApp } from '../support/app';
import { createApiKey, createProject, createUser, signInAdmin, TestUser } from '../support/fixtures';
import { Api, ApiResponse, expectEnvelope, RequestOptions } from '../support/http';
import { ledgerCount, ledgerOf, makeEntry, requestId, startLedgerApp, waitForRowCount } from './ledger-support';

interface UsageNumbers {
  requests: number;
  attempts: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  reasoning_tokens: number;
  credits: number;
  usd: number;
}

interface UsageReport {
  project_id: string;
  from: string;
  to: string;
  group_by: string;
  totals: UsageNumbers;
  groups: (UsageNumbers & { key: string | null })[];
}

const DAY_MS = 86_400_000;
const day = (offsetDays: number): string => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);

function numbers(
  requests: number,
  attempts: number,
  input: number,
  output: number,
  credits: number,
  usd: number,
  [cached, cacheWrite, reasoning]: [number, number, number] = [0, 0, 0],
): UsageNumbers {
  return {
    requests,
    attempts,
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: cached,
    cache_write_input_tokens: cacheWrite,
    reasoning_tokens: reasoning,
    credits,
    usd,
  };
}

describe('GET /projects/:id/usage', () => {
  let t: TestApp;
  let api: Api;
  let adminToken: string;
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let projectA: string;
  let projectB: string;
  let keyA: string;
  let keyB: string;

  beforeAll(async () => {
    t = await startLedgerApp({ env: { LEDGER_FLUSH_INTERVAL_MS: '50' } });
    api = new Api(t.url);
    adminToken = await signInAdmin(api);
    [owner, member, outsider] = [
      await createUser(api, adminToken),
      await createUser(api, adminToken),
      await createUser(api, adminToken),
    ];
    projectA = (await createProject(api, owner.token, 'usage-a')).id;
    projectB = (await createProject(api, owner.token, 'usage-b')).id;
    const added = await api.post(`/projects/${projectA}/members`, { email: member.email }, { token: owner.token });
    if (added.status !== 201) throw new Error(`add member: ${added.status} ${added.text}`);
    keyA = (await createApiKey(api, owner.token, projectA)).key;
    keyB = (await createApiKey(api, owner.token, projectB)).key;
    await seed();
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The ledger rows every test reads; see the expected figures in each test. */
  async function seed(): Promise<void> {
    const a = (overrides: Partial<LedgerEntry>): LedgerEntry => makeEntry({ project_id: projectA, ...overrides });
    const r1 = requestId('u1');
    const entries: LedgerEntry[] = [
      // r1: a failed attempt on gpt-4o, then a fallback to claude (reading and writing its prompt cache), 2026-01-10.
      a({
        request_id: r1,
        attempt: 1,
        model: 'gpt-4o',
        provider: 'openai-a',
        input_tokens: 100,
        output_tokens: 10,
        micro_credits: 1_000_000,
        usd: '0.0100000000',
        status: 'error',
        error_class: 'upstream_timeout',
        created_at: '2026-01-10T08:00:00Z',
      }),
      a({
        request_id: r1,
        attempt: 2,
        model: 'claude',
        provider: 'anthropic-a',
        input_tokens: 100,
        output_tokens: 50,
        cached_input_tokens: 60,
        cache_write_input_tokens: 20,
        micro_credits: 2_500_000,
        usd: '0.0250000000',
        created_at: '2026-01-10T08:00:05Z',
      }),
      // r2: the last millisecond of 2026-01-10 (UTC), mostly from the prompt cache, with reasoning.
      a({
        model: 'gpt-4o',
        provider: 'openai-a',
        input_tokens: 200,
        output_tokens: 20,
        cached_input_tokens: 150,
        reasoning_tokens: 8,
        micro_credits: 500_000,
        usd: '0.0050000000',
        created_at: '2026-01-10T23:59:59.999Z',
      }),
      // r3: the first instant of 2026-01-11, given in another time zone.
      a({
        model: 'gpt-4o',
        provider: 'openai-a',
        input_tokens: 10,
        output_tokens: 1,
        micro_credits: 250_000,
        usd: '0.0025000000',
        created_at: '2026-01-11T01:00:00+01:00',
      }),
      // r4: refused before any upstream: no model, no provider, nothing spent.
      a({
        model: null,
        provider: null,
        input_tokens: 0,
        output_tokens: 0,
        micro_credits: 0,
        usd: '0',
        status: 'error',
        error_class: 'budget_exceeded',
        created_at: '2026-01-12T12:00:00Z',
      }),
      // Another project, same day: never counted for A.
      makeEntry({ project_id: projectB, micro_credits: 7_000_000, created_at: '2026-01-10T09:00:00Z' }),
      // Today and 40 days ago (the default range keeps the first only); a year before 2026-01-10.
      a({ model: 'recent', micro_credits: 3_000_000, usd: '0.0300000000', created_at: new Date().toISOString() }),
      a({ model: 'old', created_at: new Date(Date.now() - 40 * DAY_MS).toISOString() }),
      a({ model: 'year-ago', micro_credits: 1_000_000, usd: '0.0100000000', created_at: '2025-01-10T00:00:00Z' }),
    ];
    const before = await ledgerCount(t.db.url);
    for (const entry of entries) await ledgerOf(t).record(entry);
    const count = await waitForRowCount(t.db.url, before + entries.length, 10_000);
    if (count !== before + entries.length) throw new Error(`seeding: ${count} rows, expected ${entries.length}`);
  }

  function usage(
    query: string,
    options: RequestOptions = { token: owner.token },
    project = projectA,
  ): Promise<ApiResponse> {
    return api.get(`/projects/${project}/usage${query}`, options);
  }

  async function ok(query: string, options?: RequestOptions, project?: string): Promise<UsageReport> {
    const res = await usage(query, options, project);
    if (res.status !== 200) throw new Error(`usage${query}: ${res.status} ${res.text}`);
    return res.body as unknown as UsageReport;
  }

  describe('grouping and totals', () => {
    it('groups one day by day', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-10&group_by=day');
      expect(report).toEqual({
        project_id: projectA,
        from: '2026-01-10',
        to: '2026-01-10',
        group_by: 'day',
        totals: numbers(2, 3, 400, 80, 4, 0.04, [210, 20, 8]),
        groups: [{ key: '2026-01-10', ...numbers(2, 3, 400, 80, 4, 0.04, [210, 20, 8]) }],
      });
    });

    it('groups several days by UTC day, in order, with inclusive bounds', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-12');
      expect(report.group_by).toBe('day');
      expect(report.groups).toEqual([
        { key: '2026-01-10', ...numbers(2, 3, 400, 80, 4, 0.04, [210, 20, 8]) },
        { key: '2026-01-11', ...numbers(1, 1, 10, 1, 0.25, 0.0025) },
        { key: '2026-01-12', ...numbers(1, 1, 0, 0, 0, 0) },
      ]);
      expect(report.totals).toEqual(numbers(4, 5, 410, 81, 4.25, 0.0425, [210, 20, 8]));
    });

    it('groups by model, highest credits first; a request over two models counts in each', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-12&group_by=model');
      expect(report.groups).toEqual([
        { key: 'claude', ...numbers(1, 1, 100, 50, 2.5, 0.025, [60, 20, 0]) },
        { key: 'gpt-4o', ...numbers(3, 3, 310, 31, 1.75, 0.0175, [150, 0, 8]) },
        { key: null, ...numbers(1, 1, 0, 0, 0, 0) },
      ]);
      expect(report.totals).toEqual(numbers(4, 5, 410, 81, 4.25, 0.0425, [210, 20, 8]));
    });

    it('groups by provider', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-12&group_by=provider');
      expect(report.groups.map((g) => [g.key, g.credits, g.requests])).toEqual([
        ['anthropic-a', 2.5, 1],
        ['openai-a', 1.75, 3],
        [null, 0, 1],
      ]);
    });

    it('defaults to the last 30 days (today included), grouped by day', async () => {
      const report = await ok('');
      expect({ from: report.from, to: report.to, group_by: report.group_by }).toEqual({
        from: day(-29),
        to: day(0),
        group_by: 'day',
      });
      expect(report.groups).toEqual([{ key: day(0), ...numbers(1, 1, 120, 30, 3, 0.03) }]);
      expect(report.totals).toEqual(numbers(1, 1, 120, 30, 3, 0.03));
    });

    it('takes 30 days up to `to` when only `to` is given', async () => {
      const report = await ok('?to=2026-01-11');
      expect([report.from, report.to]).toEqual(['2025-12-13', '2026-01-11']);
      expect(report.totals.attempts).toBe(4);
    });

    it('answers zeros and no groups for a range without usage', async () => {
      const report = await ok('?from=2020-01-01&to=2020-01-31&group_by=model');
      expect(report.totals).toEqual(numbers(0, 0, 0, 0, 0, 0));
      expect(report.groups).toEqual([]);
    });

    it('accepts a range of exactly 366 days', async () => {
      const report = await ok('?from=2025-01-10&to=2026-01-10&group_by=model');
      expect(report.groups.map((g) => g.key)).toEqual(['claude', 'gpt-4o', 'year-ago']);
    });
  });

  describe('validation', () => {
    it.each([
      ['a range of 367 days', '?from=2025-01-09&to=2026-01-10', 'to'],
      ['from after to', '?from=2026-01-11&to=2026-01-10', 'from'],
      ['an impossible day', '?from=2026-02-30', 'from'],
      ['a day without leading zeros', '?to=2026-1-5', 'to'],
      ['a time instead of a day', '?from=2026-01-10T00:00:00Z', 'from'],
      ['an unknown grouping', '?group_by=week', 'group_by'],
      ['an unknown parameter', '?colour=red', 'colour'],
      ['a repeated parameter', '?from=2026-01-01&from=2026-01-02', 'from'],
    ])('refuses %s with the 400 envelope naming the field', async (_case, query, field) => {
      const res = await usage(query);
      expectEnvelope(res, 400, 'validation_failed');
      const fields = (res.body.details as { field: string }[]).map((d) => d.field);
      expect(fields).toEqual([field]);
    });

    it('refuses a project id that is not a UUID', async () => {
      expectEnvelope(await usage('', { token: owner.token }, 'not-a-uuid'), 400, 'validation_failed');
    });
  });

  describe('access', () => {
    it('answers the project members, its API key and administrators', async () => {
      const query = '?from=2026-01-10&to=2026-01-10';
      const expected = numbers(2, 3, 400, 80, 4, 0.04, [210, 20, 8]);
      expect((await ok(query, { token: owner.token })).totals).toEqual(expected);
      expect((await ok(query, { token: member.token })).totals).toEqual(expected);
      expect((await ok(query, { token: adminToken })).totals).toEqual(expected);
      expect((await ok(query, { apiKey: keyA })).totals).toEqual(expected);
    });

    it("answers 404 to outsiders and to another project's key, as for a project that does not exist", async () => {
      for (const options of [{ token: outsider.token }, { apiKey: keyB }]) {
        expectEnvelope(await usage('', options), 404, 'not_found');
      }
      expectEnvelope(await usage('', { token: adminToken }, randomUUID()), 404, 'not_found');
    });

    it('answers 401 without credentials', async () => {
      expectEnvelope(await usage('', {}), 401, 'unauthorized');
    });

    it("counts only the project's own rows", async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-10', { apiKey: keyB }, projectB);
      expect(report.totals).toEqual(numbers(1, 1, 120, 30, 7, 0.000025));
    });
  });

  it('is documented in the OpenAPI document with its parameters and response', async () => {
    const doc = (await api.get<Record<string, unknown>>('/docs-json')).body as {
      paths: Record<
        string,
        { get?: { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> } }
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const operation = doc.paths['/projects/{id}/usage']?.get;
    expect(operation?.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:id',
      'query:from',
      'query:group_by',
      'query:to',
    ]);
    expect(JSON.stringify(operation?.responses['200'])).toContain('UsageReportDto');
    expect(Object.keys(doc.components.schemas.UsageReportDto?.properties ?? {}).sort()).toEqual([
      'from',
      'group_by',
      'groups',
      'project_id',
      'to',
      'totals',
    ]);
  });
});
