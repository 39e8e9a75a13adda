import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import {
  findPostgresBinaries,
  initdb,
  PG_SERVER_SETTINGS,
  postgresRunner,
  type PostgresRunner,
} from '../support/global-setup';
import { freePort, signal, startRedisServer, type RedisServer } from '../support/services';

const execFileAsync = promisify(execFile);

/**
 * The soak's own PostgreSQL, driven through pg_ctl so that it can be stopped (fast shutdown) and
 * started again on the same port and data directory, or frozen with SIGSTOP. Never the machine's
 * own server: a fresh cluster in a temp dir on a free loopback port.
 */
export class SoakPostgres {
  private exitHook = (): void => this.killNow();

  private constructor(
    private readonly pgCtl: string,
    private readonly runner: PostgresRunner,
    private readonly dir: string,
    readonly port: number,
  ) {
    process.once('exit', this.exitHook);
  }

  static async create(): Promise<SoakPostgres> {
    const binaries = findPostgresBinaries();
    const runner = await postgresRunner();
    const dir = await mkdtemp(join(tmpdir(), 'conflux-soak-pg-'));
    if (runner.owner) await chown(dir, runner.owner.uid, runner.owner.gid);
    await initdb(binaries.initdb, runner, dir);
    const server = new SoakPostgres(join(dirname(binaries.postgres), 'pg_ctl'), runner, dir, await freePort());
    await server.start();
    return server;
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** `pg_ctl start -w`: returns once the server accepts connections. */
  async start(): Promise<void> {
    const options = ['-p', String(this.port), '-k', this.dir, ...PG_SERVER_SETTINGS.flatMap((s) => ['-c', s])];
    await this.pgCtlRun(['start', '-w', '-t', '60', '-l', join(this.dir, 'postgres.log'), '-o', options.join(' ')]);
  }

  /** `pg_ctl stop -m fast`: sessions are ended and the server exits. */
  async stop(): Promise<void> {
    await this.pgCtlRun(['stop', '-w', '-t', '60', '-m', 'fast']);
  }

  /** SIGSTOP to the postmaster first (no new backends), then to every child. */
  freeze(): void {
    const pid = this.postmasterPid();
    signal(pid, 'SIGSTOP');
    for (const child of childrenOf(pid)) signal(child, 'SIGSTOP');
  }

  /** SIGCONT to the children first, then the postmaster. */
  thaw(): void {
    const pid = this.postmasterPid();
    for (const child of childrenOf(pid)) signal(child, 'SIGCONT');
    signal(pid, 'SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.pgCtlRun(['stop', '-w', '-t', '30', '-m', 'immediate']).catch(() => undefined);
    process.removeListener('exit', this.exitHook);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** For an 'exit' hook: nothing asynchronous runs there. */
  killNow(): void {
    try {
      this.thaw();
      const [command, args] = this.runner.wrap(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'immediate', '-w']);
      execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already stopped
    }
  }

  private postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private async pgCtlRun(args: string[]): Promise<void> {
    const [command, commandArgs] = this.runner.wrap(this.pgCtl, ['-D', this.dataDir, ...args]);
    await execFileAsync(command, commandArgs, { cwd: this.dir, timeout: 90_000 });
  }
}

/** Pids whose parent is `pid` (Postgres backends and auxiliary processes of a postmaster). */
function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * The soak's own redis-server (no persistence), which it may freeze (SIGSTOP), or kill and start
 * again empty on the same port.
 */
export class SoakRedis {
  private constructor(
    private readonly server: RedisServer,
    private pid: number,
  ) {}

  static async create(): Promise<SoakRedis> {
    const server = await startRedisServer();
    return new SoakRedis(server, await redisPid(server.url));
  }

  get url(): string {
    return this.server.url;
  }

  freeze(): void {
    signal(this.pid, 'SIGSTOP');
  }

  thaw(): void {
    signal(this.pid, 'SIGCONT');
  }

  /** SIGKILL: everything in memory is lost (there is nothing on disk). */
  kill(): void {
    signal(this.pid, 'SIGKILL');
  }

  /** Starts an empty redis-server on the same port after `kill()`. */
  async restartEmpty(): Promise<void> {
    await this.server.stop();
    await this.server.start();
    this.pid = await redisPid(this.server.url);
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.server.stop();
  }
}

async function redisPid(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    const match = /process_id:(\d+)/.exec(info);
    if (!match) throw new Error('redis-server did not report its process_id');
    return Number(match[1]);
  } finally {
    client.disconnect();
  }
}
