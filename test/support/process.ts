import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findExecutable, freePort, hasExited, signal, waitForPidSync, waitUntil } from './services';

const ROOT = resolve(__dirname, '..', '..');
/** The compiled entry point: `npm test` (or `npm run build`) produces it. */
export const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'main.js');

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the process exited. */
  at: number;
  /** The end of stderr, so that a failed assertion on the exit shows why. */
  stderrTail: string;
}

export interface SpawnServerOptions {
  /** The whole environment of the child (nothing is inherited); PORT is added when missing. */
  env: Record<string, string>;
}

/** Every server started by this worker that has not exited yet. */
const running = new Set<ServerProcess>();
let exitHookInstalled = false;

/** If the worker ends without its afterAll (a crash, a timeout), still leave no server behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of running) server.killNow();
  });
}

/** The bare minimum a child needs to run node: the rest of the environment is up to each test. */
export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

/** A fresh temporary directory (e.g. a DATA_DIR); remove it with `removeDir`. */
export function makeTempDir(prefix = 'conflux-proc-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** `node dist/src/main.js` as a child process, with its output collected. */
export class ServerProcess {
  private out = '';
  private err = '';
  private exit: ExitResult | undefined;
  private readonly exitPromise: Promise<ExitResult>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    this.exitPromise = new Promise((resolveExit) => {
      // 'close' rather than 'exit': by then stdout and stderr have been read to their end.
      child.once('close', (code, signalName) => {
        this.exit = { code, signal: signalName, at: Date.now(), stderrTail: tail(this.err) };
        running.delete(this);
        resolveExit(this.exit);
      });
    });
  }

  /** Starts the server; PORT defaults to a free port. Does not wait for it to answer. */
  static async start(options: SpawnServerOptions): Promise<ServerProcess> {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first.`);
    installExitHook();
    const env = { ...options.env };
    env.PORT ??= String(await freePort());
    const port = Number(env.PORT);
    const [command, args] = dieWithParent(process.execPath, [SERVER_ENTRY]);
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(child, port);
    running.add(server);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get exited(): boolean {
    return this.exit !== undefined || hasExited(this.child);
  }

  /** Resolves with how the process ended, or undefined if it is still running after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<ExitResult | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout(undefined), timeoutMs);
    });
    return Promise.race([this.exitPromise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Waits until the application (not the startup answer) serves `GET /health/live`; throws (with the output) if it exits or times out first. */
  async waitForLive(timeoutMs = 60_000): Promise<void> {
    const live = await waitUntil(async () => this.exited || (await this.answersLive()), timeoutMs, 200);
    if (live && !this.exited) return;
    const reason = this.exited ? `exited (${JSON.stringify(this.exit)})` : `did not answer within ${timeoutMs} ms`;
    throw new Error(
      `server on port ${this.port} ${reason}\n--- stdout\n${tail(this.out)}\n--- stderr\n${tail(this.err)}`,
    );
  }

  /** Polls stdout until it matches `pattern` (not global); the match, or undefined after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray | undefined> {
    await waitUntil(() => Promise.resolve(pattern.test(this.out) || this.exited), timeoutMs, 50);
    return pattern.exec(this.out) ?? undefined;
  }

  /** Sends `signalName` and waits for the exit; undefined if the process is still running after `timeoutMs`. */
  stop(signalName: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitResult | undefined> {
    this.signal(signalName);
    return this.waitForExit(timeoutMs);
  }

  signal(signalName: NodeJS.Signals): void {
    if (!this.exited) signal(this.child.pid, signalName);
  }

  /** SIGKILL unless already gone, and wait for it: for afterEach/afterAll. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.signal('SIGKILL');
    await this.waitForExit(10_000);
  }

  /** Synchronous SIGKILL, for an 'exit' hook. */
  killNow(): void {
    if (this.exited || this.child.pid === undefined) return;
    signal(this.child.pid, 'SIGKILL');
    waitForPidSync(this.child.pid, 2_000);
  }

  private async answersLive(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      // While still starting the process answers live too, with {"status": "starting"}.
      return res.status === 200 && !body.includes('"starting"');
    } catch {
      return false;
    }
  }
}

/** Kills every server this worker started that is still running. */
export async function killAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.kill()));
}

/**
 * The kernel kills the child if this worker dies (`setpriv --pdeathsig`), when
 * util-linux's setpriv is available. setpriv execs node: the pid stays the same.
 */
export function dieWithParent(command: string, args: readonly string[]): [string, string[]] {
  const setpriv = findExecutable('setpriv', ['/usr/bin', '/bin']);
  return setpriv === undefined ? [command, [...args]] : [setpriv, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
