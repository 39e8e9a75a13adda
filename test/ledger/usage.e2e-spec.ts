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

/** 2026-01-10 to 2026-01-12 by day and model (see the seed). */
const DAY_MODEL_GROUPS = [
  { key: '2026-01-10', model: 'claude', ...numbers(1, 1, 100, 50, 2.5, 0.025, [60, 20, 0]) },
  { key: '2026-01-10', model: 'gpt-4o', ...numbers(2, 2, 300, 30, 1.5, 0.015, [150, 0, 8]) },
  { key: '2026-01-11', model: 'gpt-4o', ...numbers(1, 1, 10, 1, 0.25, 0.0025) },
  { key: '2026-01-12', model: null, ...numbers(1, 1, 0, 0, 0, 0) },
];

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
  let keyAId: string;
  let nightly: { id: string; prefix: string };

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
    const issuedA = await createApiKey(api, owner.token, projectA, 'ci-pipeline');
    [keyA, keyAId] = [issuedA.key, issuedA.id];
    keyB = (await createApiKey(api, owner.token, projectB)).key;
    // A name a spreadsheet would take for a formula, with a comma and quotes; revoked once its usage is in.
    nightly = await createApiKey(api, owner.token, projectA, '=ops, "nightly"');
    await seed();
    const revoked = await api.delete(`/projects/${projectA}/api-keys/${nightly.id}`, { token: owner.token });
    if (revoked.status !== 204) throw new Error(`revoke: ${revoked.status} ${revoked.text}`);
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
        api_key_id: keyAId,
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
        api_key_id: keyAId,
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
        api_key_id: nightly.id,
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
        api_key_id: keyAId,
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

    it('groups by API key, highest credits first, with each key’s name and prefix (revoked keys too)', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-12&group_by=api_key');
      expect(report.group_by).toBe('api_key');
      const keys = await api.get<{ id: string; prefix: string }[]>(`/projects/${projectA}/api-keys`, {
        token: owner.token,
      });
      const keyAPrefix = keys.body.find((k) => k.id === keyAId)?.prefix;
      expect(keyAPrefix).toMatch(/^cfx_/);
      expect(report.groups).toEqual([
        {
          key: keyAId,
          api_key_id: keyAId,
          api_key_name: 'ci-pipeline',
          api_key_prefix: keyAPrefix,
          ...numbers(2, 3, 200, 60, 3.5, 0.035, [60, 20, 0]),
        },
        {
          key: nightly.id,
          api_key_id: nightly.id,
          api_key_name: '=ops, "nightly"',
          api_key_prefix: nightly.prefix,
          ...numbers(1, 1, 200, 20, 0.5, 0.005, [150, 0, 8]),
        },
        // Requests of signed-in users carry no key.
        {
          key: null,
          api_key_id: null,
          api_key_name: null,
          api_key_prefix: null,
          ...numbers(1, 1, 10, 1, 0.25, 0.0025),
        },
      ]);
      expect(report.totals).toEqual(numbers(4, 5, 410, 81, 4.25, 0.0425, [210, 20, 8]));
    });

    it('groups by day and model: days in order, each day’s models by credits', async () => {
      const report = await ok('?from=2026-01-10&to=2026-01-12&group_by=day_model');
      expect(report.group_by).toBe('day_model');
      expect(report.groups).toEqual(DAY_MODEL_GROUPS);
      expect(report.totals).toEqual(numbers(4, 5, 410, 81, 4.25, 0.0425, [210, 20, 8]));
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

  describe('CSV export', () => {
    const HEADER =
      'requests,attempts,input_tokens,output_tokens,cached_input_tokens,cache_write_input_tokens,reasoning_tokens,credits,usd';

    async function csv(query: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
      const res = await usage(query, { token: owner.token, headers });
      if (res.status !== 200) throw new Error(`usage${query}: ${res.status} ${res.text}`);
      return res;
    }

    it('answers format=csv as an attachment: a header row and one row per group', async () => {
      const res = await csv('?from=2026-01-10&to=2026-01-12&group_by=day_model&format=csv');
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="usage-${projectA}-2026-01-10-2026-01-12.csv"`,
      );
      expect(res.text).toBe(
        [
          `day,model,${HEADER}`,
          '2026-01-10,claude,1,1,100,50,60,20,0,2.5,0.025',
          '2026-01-10,gpt-4o,2,2,300,30,150,0,8,1.5,0.015',
          '2026-01-11,gpt-4o,1,1,10,1,0,0,0,0.25,0.0025',
          '2026-01-12,,1,1,0,0,0,0,0,0,0',
          '',
        ].join('\r\n'),
      );
    });

    it('has the same numbers as the JSON, for every grouping', async () => {
      for (const groupBy of ['day', 'model', 'provider', 'api_key', 'day_model']) {
        const query = `?from=2026-01-10&to=2026-01-12&group_by=${groupBy}`;
        const json = await ok(query);
        const lines = (await csv(`${query}&format=csv`)).text.trimEnd().split('\r\n');
        const header = lines[0].split(',');
        const figures = header.slice(header.indexOf('requests'));
        expect(figures.join(',')).toBe(HEADER);
        expect(lines).toHaveLength(json.groups.length + 1);
        const fromCsv = lines.slice(1).map((line) => line.split(',').slice(-figures.length).map(Number));
        const fromJson = json.groups.map((g) => figures.map((name) => g[name as keyof UsageNumbers]));
        expect({ groupBy, rows: fromCsv }).toEqual({ groupBy, rows: fromJson });
      }
    });

    it('names API keys in CSV safely: quoted, and never as a spreadsheet formula', async () => {
      const res = await csv('?from=2026-01-10&to=2026-01-12&group_by=api_key&format=csv');
      const lines = res.text.split('\r\n');
      expect(lines[0]).toBe(`api_key_id,api_key_name,api_key_prefix,${HEADER}`);
      expect(lines[1]).toMatch(new RegExp(`^${keyAId},ci-pipeline,cfx_\\w+,2,3,`));
      expect(lines[2]).toBe(`${nightly.id},"'=ops, ""nightly""",${nightly.prefix},1,1,200,20,150,0,8,0.5,0.005`);
      expect(lines[3]).toBe(',,,1,1,10,1,0,0,0,0.25,0.0025');
    });

    it('answers CSV to Accept: text/csv, and JSON to */*, to a browser and when format=json', async () => {
      const query = '?from=2026-01-10&to=2026-01-10';
      expect((await csv(query, { accept: 'text/csv' })).headers.get('content-type')).toBe('text/csv; charset=utf-8');
      for (const accept of ['*/*', 'application/json', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
        const res = await csv(query, { accept });
        expect({ accept, type: res.headers.get('content-type') }).toEqual({
          accept,
          type: 'application/json; charset=utf-8',
        });
      }
      const json = await csv(`${query}&format=json`, { accept: 'text/csv' });
      expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    });

    it('answers only a header row for a range without usage', async () => {
      expect((await csv('?from=2020-01-01&to=2020-01-31&group_by=model&format=csv')).text).toBe(`model,${HEADER}\r\n`);
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
      ['an unknown format', '?format=xml', 'format'],
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
      'query:format',
      'query:from',
      'query:group_by',
      'query:to',
    ]);
    expect(JSON.stringify(operation?.responses['200'])).toContain('text/csv');
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
