/**
 * `npm run soak`: two Conflux instances (the built server, as deployed) on one Postgres and one
 * Redis that this run owns, under an open-loop mix of JSON chat, streams, streams the client
 * aborts, trickling streams, ML predictions and forecasts, through scheduled faults: upstream 5xx
 * bursts, Redis frozen, Redis restarted empty, Postgres stopped, Postgres frozen, trickling streams.
 * At the end it prints the figures of every fault window and fails on any broken invariant.
 *
 * Settings (environment): SOAK_SECONDS (600), SOAK_RPS (30), SOAK_FAULT_SCALE (fault durations
 * relative to their nominal length; SOAK_SECONDS/600, at most 1), SOAK_DEADLINE_MS (the gateway
 * deadline given to the instances, 10000), SOAK_SLACK_MS (latency slack on a shared machine, 500),
 * SOAK_OUT_DIR (where the instances' logs and the records are written).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { Api } from '../support/http';
import { killAllServers, minimalEnv, ServerProcess } from '../support/process';
import { delay, randomHex, withClient } from '../support/services';
import { LLM_KINDS, SoakLoad, type ProjectRef, type RequestKind } from './soak-load';
import {
  checkTable,
  ledgerViolations,
  logDigest,
  mb,
  spendByPhase,
  seconds,
  statusMix,
  table,
  windowFigures,
  windowTable,
  type Check,
  type EnvSample,
  type LedgerRowLite,
  type SoakWindow,
} from './soak-report';
import {
  ledgerSpend,
  ledgerTimeline,
  openHolds,
  rssKb,
  soakLedger,
  soakProject,
  startTime,
  type QuotaStatus,
} from './soak-data';
import { SoakPostgres, SoakRedis } from './soak-services';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

const SOAK_SECONDS = setting('SOAK_SECONDS', 600);
const RPS = setting('SOAK_RPS', 30);
const SCALE = setting('SOAK_FAULT_SCALE', Math.min(1, SOAK_SECONDS / 600));
const DEADLINE_MS = setting('SOAK_DEADLINE_MS', 10_000);
const SLACK_MS = setting('SOAK_SLACK_MS', 500);
const RUN_ID = randomHex(3);
const OUT_DIR = process.env.SOAK_OUT_DIR || join(tmpdir(), `conflux-soak-${RUN_ID}`);

/** The README's bounds, as the instances are configured here. */
const QUOTA_REDIS_TIMEOUT_MS = 75; // "each decision is bounded (75 ms per Redis call)"
const REDIS_CALLS_ON_THE_PATH = 2; // the rate-limit windows, then the budget hold
const REBUILD_WAIT_MS = 5_000;
/** Around a Redis loss, what the rebuilt counters may count twice (README): ledger spend in this margin of it. */
const LOSS_MARGIN_MS = 5_000;
const OUTAGE_ALLOWANCE_CREDITS = 1; // QUOTA_OUTAGE_ALLOWANCE_CREDITS, "per project and instance"
const INSTANCES = ['A', 'B'] as const;
/** A daily budget the load exhausts within seconds, and one it never reaches. */
const TIGHT_DAILY_CREDITS = 3;
const GENEROUS_DAILY_CREDITS = 1_000_000;
const RSS_GROWTH_LIMIT = 0.1;
const CALM = 'calm (baseline)';
const REDIS_PREFIX = 'soak:';
/** The first administrator, created by the first instance on the empty database. */
const ADMIN = { email: 'admin@conflux.soak', password: 'soak-admin-password-0123456789' };
const JWT_SECRET = `soak-jwt-secret-${randomHex(16)}`;

const WARM_UP_MS = Math.max(30_000, SOAK_SECONDS * 100);
const TAIL_MS = Math.max(10_000, SOAK_SECONDS * 100);
const DRAIN_MS = 90_000;

const out = (text: string): boolean => process.stdout.write(`${text}\n`);

interface Fault {
  name: string;
  action: string;
  /** Nominal duration (ms), scaled by SCALE. */
  nominalMs: number;
  measure: SoakWindow['measure'];
  bound(baselineP99: number | undefined): { boundMs?: number; basis: string };
  begin(): Promise<void> | void;
  finish(): Promise<void> | void;
}

describe('soak', () => {
  let pg: SoakPostgres;
  let redis: SoakRedis;
  let fakeA: FakeUpstream;
  let fakeB: FakeUpstream;
  let trickle: FakeUpstream;
  let dir: string;
  const servers = new Map<string, ServerProcess>();

  beforeAll(async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'conflux-soak-'));
    [pg, redis] = await Promise.all([SoakPostgres.create(), SoakRedis.create()]);
    await withClient(pg.adminUrl, (client) => client.query('CREATE DATABASE conflux_soak'));
    const words = (n: number): string => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    const usage = { input_tokens: 8, output_tokens: 1000 };
    const reply = { text: words(24), usage, chunkDelayMs: 15 };
    fakeA = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply });
    fakeB = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply });
    // The trickling upstream: a chunk a second, for longer than the gateway deadline.
    const trickleReply = {
      text: words(Math.ceil((DEADLINE_MS * 3) / 1000)),
      usage: { input_tokens: 8, output_tokens: 30 },
    };
    trickle = await startFakeUpstream('openai', { models: ['gpt-4o'], reply: { ...trickleReply, chunkDelayMs: 1000 } });

    const retry = { max_attempts: 2, base_delay_ms: 50, max_delay_ms: 500 };
    const breaker = {
      error_threshold_percentage: 50,
      reset_timeout_ms: 5000,
      volume_threshold: 5,
      rolling_window_ms: 10000,
    };
    const declare = (id: string, fake: FakeUpstream): Record<string, unknown> => ({
      id,
      kind: 'openai',
      base_url: fake.baseUrl,
      models: fake.models,
      timeout_ms: 5000,
      retry,
      breaker,
    });
    const providersFile = join(dir, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify({ providers: [declare('up-a', fakeA), declare('up-b', fakeB), declare('up-trickle', trickle)] }),
    );
    const modelStore = join(dir, 'models');
    mkdirSync(modelStore);
    for (const name of INSTANCES) {
      const dataDir = join(dir, `data-${name}`);
      mkdirSync(dataDir);
      const server = await ServerProcess.start({
        env: minimalEnv({
          DATABASE_URL: pg.url('conflux_soak'),
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: REDIS_PREFIX,
          JWT_SECRET,
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
          PROVIDERS_FILE: providersFile,
          PROVIDER_PROBE_INTERVAL_MS: '15000',
          DATA_DIR: dataDir,
          MODEL_STORE_DIR: modelStore,
          ML_WORKER_THREADS: '1',
          RATE_LIMIT_PER_MINUTE: '1000000',
          RATE_LIMIT_PER_HOUR: '10000000',
          GATEWAY_DEADLINE_MS: String(DEADLINE_MS),
          QUOTA_OUTAGE_ALLOWANCE_CREDITS: String(OUTAGE_ALLOWANCE_CREDITS),
          QUOTA_REDIS_TIMEOUT_MS: String(QUOTA_REDIS_TIMEOUT_MS),
          LOG_LEVEL: 'warn',
        }),
      });
      servers.set(name, server);
      // One after the other: the first applies the migrations and registers the shipped model.
      await server.waitForLive(120_000);
    }
  }, 300_000);

  afterAll(async () => {
    for (const [name, server] of servers) {
      writeFileSync(join(OUT_DIR, `instance-${name}.stdout.log`), server.stdout);
      writeFileSync(join(OUT_DIR, `instance-${name}.stderr.log`), server.stderr);
    }
    await killAllServers();
    await Promise.all([fakeA?.close(), fakeB?.close(), trickle?.close()]);
    await redis?.destroy();
    await pg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(`keeps its invariants through ${SOAK_SECONDS} s of load and faults`, async () => {
    const a = servers.get('A') as ServerProcess;
    const api = new Api(a.url);
    const { access_token: admin } = await api.login(ADMIN.email, ADMIN.password);
    const tight = await soakProject(api, admin, 'tight', TIGHT_DAILY_CREDITS);
    const generous = await soakProject(api, admin, 'generous', GENEROUS_DAILY_CREDITS);
    const pids = new Map(
      [...servers].map(([name, s]) => [name, { pid: s.child.pid, started: startTime(s.child.pid) }]),
    );

    // ------------------------------------------------------------ the load
    let trickleOn = false;
    const epoch = Date.now();
    const load = new SoakLoad(
      {
        rps: RPS,
        maxInFlight: 400,
        targets: [...servers].map(([instance, s]) => ({ instance, baseUrl: s.url })),
        projectsFor: (kind: RequestKind): ProjectRef[] => (kind === 'trickle' ? [generous] : [tight, generous]),
        mix: [
          { kind: 'chat', weight: 35 },
          { kind: 'stream', weight: 12 },
          { kind: 'stream_abort', weight: 6 },
          { kind: 'trickle', weight: 4 },
          { kind: 'predict', weight: 22 },
          { kind: 'forecast', weight: 21 },
        ],
        enabled: (kind: RequestKind): boolean => kind !== 'trickle' || trickleOn,
        clientTimeoutMs: DEADLINE_MS + 60_000,
        runId: RUN_ID,
      },
      epoch,
    );

    // ------------------------------------------------------------ the faults
    const redisBound = (base: number | undefined): { boundMs?: number; basis: string } => ({
      boundMs: base === undefined ? undefined : base + REDIS_CALLS_ON_THE_PATH * QUOTA_REDIS_TIMEOUT_MS + SLACK_MS,
      basis: `calm p99 + ${REDIS_CALLS_ON_THE_PATH} x ${QUOTA_REDIS_TIMEOUT_MS} ms Redis bound + ${SLACK_MS} ms`,
    });
    const postgresBound = (base: number | undefined): { boundMs?: number; basis: string } => ({
      boundMs: base === undefined ? undefined : base + SLACK_MS,
      basis: `calm p99 + ${SLACK_MS} ms (keys and limits served from cache)`,
    });
    // README: after a Redis loss, paid requests wait up to 5 s for the counters' rebuild.
    const rebuildBound = (base: number | undefined): { boundMs?: number; basis: string } => ({
      boundMs: base === undefined ? undefined : base + REBUILD_WAIT_MS + SLACK_MS,
      basis: `calm p99 + ${REBUILD_WAIT_MS} ms rebuild wait + ${SLACK_MS} ms`,
    });
    const deadlineBound = (): { boundMs?: number; basis: string } => ({
      boundMs: DEADLINE_MS + 2000,
      basis: `GATEWAY_DEADLINE_MS ${DEADLINE_MS} + 2 s`,
    });
    const faults: Fault[] = [
      {
        name: 'upstream-5xx-one',
        action: 'up-a answers 500',
        nominalMs: 15_000,
        measure: 'short',
        bound: deadlineBound,
        begin: () => void fakeA.status(500),
        finish: () => void fakeA.ok(),
      },
      {
        name: 'redis-frozen',
        action: 'SIGSTOP redis',
        nominalMs: 30_000,
        measure: 'short',
        bound: redisBound,
        begin: () => redis.freeze(),
        finish: () => redis.thaw(),
      },
      {
        name: 'trickling-streams',
        action: 'a chunk a second',
        nominalMs: 30_000,
        measure: 'trickle',
        bound: deadlineBound,
        begin: () => void (trickleOn = true),
        finish: () => void (trickleOn = false),
      },
      {
        name: 'postgres-stopped',
        action: 'pg_ctl stop -m fast',
        nominalMs: 30_000,
        measure: 'short',
        bound: postgresBound,
        begin: () => pg.stop(),
        finish: () => pg.start(),
      },
      {
        name: 'redis-restarted-empty',
        action: 'SIGKILL, start empty',
        nominalMs: 5_000,
        measure: 'short',
        bound: rebuildBound,
        begin: () => redis.kill(),
        finish: () => redis.restartEmpty(),
      },
      {
        name: 'postgres-frozen',
        action: 'SIGSTOP postgres',
        nominalMs: 20_000,
        measure: 'short',
        bound: postgresBound,
        begin: () => pg.freeze(),
        finish: () => pg.thaw(),
      },
      {
        name: 'upstream-5xx-all',
        action: 'every upstream 503',
        nominalMs: 10_000,
        measure: 'short',
        bound: deadlineBound,
        begin: () => {
          fakeA.status(503);
          fakeB.status(503);
        },
        finish: () => {
          fakeA.ok();
          fakeB.ok();
        },
      },
    ];
    const totalMs = SOAK_SECONDS * 1000;
    const slotMs = (totalMs - WARM_UP_MS - TAIL_MS) / faults.length;
    if (slotMs < 5_000) throw new Error(`SOAK_SECONDS=${SOAK_SECONDS} leaves no room for the faults (at least 100 s)`);

    const rss = new Map<string, number[]>(INSTANCES.map((name) => [name, []]));
    const sampleRss = (): void => {
      for (const [name, s] of servers) rss.get(name)?.push(rssKb(s.child.pid));
    };
    const sampler = setInterval(sampleRss, 5_000);
    const env: EnvSample[] = [];
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const envSampler = setInterval(() => {
      env.push({ at: Date.now() - epoch, load1: loadavg()[0], clientLagMs: lag.max / 1e6 });
      lag.reset();
    }, 1_000);
    const cleanup = setInterval(() => {
      for (const fake of [fakeA, fakeB, trickle]) fake.requests.length = 0;
    }, 30_000);

    out(
      `\nsoak ${RUN_ID}: ${SOAK_SECONDS} s at ${RPS} req/s over instances ${INSTANCES.join(', ')}; ` +
        `faults scaled x${SCALE}; logs in ${OUT_DIR}`,
    );
    load.start();
    const windows: SoakWindow[] = [];
    let baseRss = new Map<string, number>();
    let active: Fault | undefined;
    try {
      await delay(WARM_UP_MS);
      baseRss = new Map([...servers].map(([name, s]) => [name, rssKb(s.child.pid)]));
      const calmWindow: SoakWindow = {
        name: CALM,
        action: 'none',
        start: WARM_UP_MS / 2,
        end: WARM_UP_MS,
        until: WARM_UP_MS,
        measure: 'short',
        basis: 'second half of the warm-up',
      };
      windows.push(calmWindow);
      const calm = windowFigures(calmWindow, load.records, env);
      for (const [index, fault] of faults.entries()) {
        const slotStart = WARM_UP_MS + index * slotMs;
        await delay(Math.max(0, slotStart - load.now()));
        const durationMs = Math.min(fault.nominalMs * SCALE, slotMs * 0.6);
        const start = load.now();
        out(`  ${seconds(start)} ${fault.name}: ${fault.action} for ${seconds(durationMs)}`);
        active = fault;
        await fault.begin();
        await delay(Math.max(0, start + durationMs - load.now()));
        active = undefined;
        await fault.finish();
        const end = load.now();
        // Trickling streams started at the end still run for the deadline; others get a short recovery.
        const recovery = fault.measure === 'trickle' ? 0 : Math.min(5_000, slotMs - (end - slotStart));
        windows.push({
          name: fault.name,
          action: fault.action,
          start,
          end,
          until: end + recovery,
          measure: fault.measure,
          ...fault.bound(calm.p99),
        });
      }
      await delay(Math.max(0, totalMs - load.now()));
    } finally {
      // A run cut short (an error) still leaves every dependency running.
      await Promise.resolve(active?.finish()).catch(() => undefined);
      out(`  ${seconds(load.now())} load stops; waiting for the answers in flight`);
      await load.stop();
      clearInterval(sampler);
      clearInterval(envSampler);
      clearInterval(cleanup);
      lag.disable();
    }

    // ------------------------------------------------------------ the invariants
    const checks: Check[] = [];
    const records = load.records;
    const dbUrl = pg.url('conflux_soak');

    // Every answered LLM request and its ledger rows (written off the hot path: wait for the writer).
    let violations = new Map<string, string[]>();
    let rows: LedgerRowLite[] = [];
    const drainUntil = Date.now() + DRAIN_MS;
    for (;;) {
      rows = await soakLedger(dbUrl);
      violations = ledgerViolations(records, rows);
      if (!violations.has('2xx answer without its ledger row') || Date.now() > drainUntil) break;
      await delay(2_000);
    }
    const llmAnswered = records.filter((r) => LLM_KINDS.has(r.kind) && r.status !== undefined);
    const llmOk = llmAnswered.filter((r) => (r.status ?? 0) < 300);
    const violationCount = [...violations.values()].reduce((n, ids) => n + ids.length, 0);
    checks.push({
      name: 'ledger: one row per answered LLM request',
      figure: `${llmOk.length} 2xx + ${llmAnswered.length - llmOk.length} other answers; ${violationCount} violations`,
      bound: '0 violations',
      pass: violationCount === 0,
      detail: [...violations]
        .map(([kind, ids]) => `${kind}: ${ids.length} (e.g. ${ids.slice(0, 5).join(', ')})`)
        .join('; '),
    });

    // Spend against the budget, and what the quota API says was spent and is still held.
    const quotaOf = async (project: ProjectRef): Promise<QuotaStatus> => {
      const res = await api.get<QuotaStatus>(`/projects/${project.id}/quota`, { apiKey: project.apiKey });
      if (res.status !== 200) throw new Error(`GET quota of ${project.label}: ${res.status} ${res.text}`);
      return res.body;
    };
    const spent = await ledgerSpend(dbUrl);
    const tightSpend = (spent.get(tight.id) ?? 0) / 1e6;
    const spendBound = TIGHT_DAILY_CREDITS + OUTAGE_ALLOWANCE_CREDITS * INSTANCES.length;
    checks.push({
      name: 'spend of the tight project',
      figure: `${tightSpend.toFixed(4)} credits (ledger)`,
      bound: `<= ${TIGHT_DAILY_CREDITS} budget + ${OUTAGE_ALLOWANCE_CREDITS} x ${INSTANCES.length} allowance = ${spendBound}`,
      pass: tightSpend <= spendBound,
    });
    let quotas = new Map<string, QuotaStatus>();
    const settleUntil = Date.now() + 30_000;
    for (;;) {
      quotas = new Map(await Promise.all([tight, generous].map(async (p) => [p.label, await quotaOf(p)] as const)));
      const held = [...quotas.values()].some((q) => q.daily.reserved !== 0 || q.monthly.reserved !== 0);
      if (!held || Date.now() > settleUntil) break;
      await delay(1_000);
    }
    const loss = windows.find((w) => w.name === 'redis-restarted-empty');
    for (const project of [tight, generous]) {
      const q = quotas.get(project.label) as QuotaStatus;
      const ledger = (spent.get(project.id) ?? 0) / 1e6;
      // Rebuilt counters never under-count; they may count twice what was billed around the loss.
      const aroundLoss =
        loss === undefined
          ? 0
          : (await ledgerTimeline(dbUrl, project.id, epoch))
              .filter((b) => b.at >= loss.start - LOSS_MARGIN_MS && b.at < loss.end + LOSS_MARGIN_MS)
              .reduce((sum, b) => sum + b.micro, 0) / 1e6;
      checks.push({
        name: `reservations of ${project.label} back to 0`,
        figure: `daily ${q.daily.reserved}, monthly ${q.monthly.reserved} reserved`,
        bound: '0',
        pass: q.daily.reserved === 0 && q.monthly.reserved === 0,
      });
      checks.push({
        name: `quota API spend of ${project.label} vs ledger`,
        figure: `${q.daily.spent.toFixed(4)} (quota) vs ${ledger.toFixed(4)} (ledger)`,
        bound: `ledger <= quota <= ledger + ${aroundLoss.toFixed(4)} (billed within ${LOSS_MARGIN_MS / 1000} s of the Redis loss)`,
        pass: q.daily.spent >= ledger - 0.0001 && q.daily.spent <= ledger + aroundLoss + 0.0001,
      });
    }
    const holds = await openHolds(redis.url, REDIS_PREFIX);
    checks.push({ name: 'holds left in Redis', figure: String(holds), bound: '0', pass: holds === 0 });

    // The instances: never restarted, memory flat.
    for (const [name, server] of servers) {
      const before = pids.get(name);
      const same =
        !server.exited && server.child.pid === before?.pid && startTime(server.child.pid) === before?.started;
      checks.push({
        name: `instance ${name} never restarted`,
        figure: server.exited ? 'exited' : `pid ${server.child.pid}`,
        bound: `pid ${before?.pid}, running`,
        pass: same,
      });
      const base = baseRss.get(name) ?? 0;
      const end = rssKb(server.child.pid);
      const growth = base > 0 ? (end - base) / base : Infinity;
      const peak = Math.max(...(rss.get(name) ?? [0]));
      checks.push({
        name: `RSS of instance ${name}`,
        figure: `${mb(base)} after warm-up -> ${mb(end)} at the end (${(growth * 100).toFixed(1)} %, peak ${mb(peak)})`,
        bound: `< ${RSS_GROWTH_LIMIT * 100} % growth`,
        pass: growth < RSS_GROWTH_LIMIT,
      });
    }

    // Latency of every fault window against its bound.
    const figures = windows.map((w) => windowFigures(w, records, env));
    for (const f of figures.filter((f) => f.window.boundMs !== undefined)) {
      checks.push({
        name: `${f.window.name}: ${f.window.measure === 'short' ? 'p99 of short answers' : 'longest trickling stream'}`,
        figure: `${Math.round(f.judged ?? 0)} ms over ${f.requests} requests`,
        bound: `<= ${Math.round(f.window.boundMs ?? 0)} ms (${f.window.basis})`,
        pass: f.pass,
      });
    }
    const internal = records.filter((r) => r.status === 500);
    checks.push({
      name: 'no 500 answer',
      figure: String(internal.length),
      bound: '0',
      pass: internal.length === 0,
      detail: internal
        .slice(0, 5)
        .map((r) => `${r.id} ${r.kind} ${r.error ?? ''}`)
        .join(', '),
    });

    // ------------------------------------------------------------ the report
    writeFileSync(join(OUT_DIR, 'records.json'), JSON.stringify({ windows, records }, null, 0));
    const answered = records.filter((r) => r.status !== undefined).length;
    out(`\n${records.length} requests (${answered} answered, ${load.skipped} not sent: ${400} in flight)`);
    out(
      `\nFault windows (latency of chat JSON, /predict and /forecast answers started in the window; ` +
        `trickling streams from request to end):\n`,
    );
    out(windowTable(figures));
    const busiest = Math.max(...figures.map((f) => f.load ?? 0));
    if (busiest > cpus().length) {
      out(
        `\nNote: the machine's load average reached ${busiest.toFixed(1)} on ${cpus().length} CPUs during the run: ` +
          'latencies include waiting for a CPU (run the soak on a quiet machine for figures to compare).',
      );
    }
    const timeline = await ledgerTimeline(dbUrl, tight.id, epoch);
    out(
      `\nLedger spend of the tight project (budget ${TIGHT_DAILY_CREDITS} credits) by phase, from each phase's start to the next:\n`,
    );
    out(
      table(
        ['phase', 'from-to', 'billed rows', 'credits'],
        spendByPhase(
          timeline,
          [{ name: 'warm-up', start: 0 }, ...windows.filter((w) => w.name !== CALM)],
          totalMs,
          DRAIN_MS,
        ),
      ),
    );
    out(`\nAnswers by kind, status and error:\n  ${statusMix(records).join('\n  ')}`);
    out(`\nServer log lines worth reading:`);
    for (const [name, server] of servers) out(`  ${name}: ${logDigest(server.stdout + server.stderr)}`);
    out(`\nAssertions:\n`);
    out(checkTable(checks));
    for (const c of checks.filter((c) => !c.pass && c.detail)) out(`  ${c.name}: ${c.detail}`);
    const failed = checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.figure} (bound ${c.bound})`);
    out(`\n${checks.length - failed.length} of ${checks.length} assertions passed; records and logs in ${OUT_DIR}\n`);
    expect(failed).toEqual([]);
  });
});
