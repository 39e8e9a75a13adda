import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dieWithParent, makeTempDir, removeDir } from '../support/process';
import { freePort, waitForExit, waitUntil } from '../support/services';

/** Where Debian's `prometheus` package puts the server. */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** One sample of an instant query: the series' labels and its value as Prometheus wrote it. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Sample[] };
}

/**
 * A throwaway Prometheus on a free loopback port, scraping one loopback target every second, with its
 * database in a temporary directory; `stop()` ends it and removes the directory.
 */
export class PrometheusServer {
  private out = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    readonly job: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
  }

  static available(): boolean {
    return existsSync(PROMETHEUS_BINARY);
  }

  /** Starts Prometheus scraping `target` (`127.0.0.1:port`) at `/metrics`, and waits until it answers. */
  static async start(target: string, job = 'conflux'): Promise<PrometheusServer> {
    if (!/^127\.0\.0\.1:\d+$/.test(target)) throw new Error(`only loopback targets are scraped, not ${target}`);
    const dir = makeTempDir('conflux-prometheus-');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        `  - job_name: ${job}`,
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const [command, args] = dieWithParent(PROMETHEUS_BINARY, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`, job);
    const ready = await waitUntil(() => server.answersReady(), 30_000, 200);
    if (!ready || server.exited) {
      await server.stop();
      throw new Error(`Prometheus did not become ready on port ${port}:\n${server.output}`);
    }
    return server;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get output(): string {
    return this.out.trimEnd().split('\n').slice(-30).join('\n');
  }

  /** Evaluates an instant query through the HTTP API; throws on an error answer. */
  async query(expr: string): Promise<Sample[]> {
    const url = `${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const answer = (await res.json()) as QueryAnswer;
    if (answer.status !== 'success' || !answer.data) {
      throw new Error(`query ${expr} failed: ${res.status} ${answer.error ?? ''}`);
    }
    return answer.data.result;
  }

  /** How many scrapes of the target Prometheus has stored (successful or not). */
  async scrapes(): Promise<number> {
    const [sample] = await this.query(`count_over_time(up{job="${this.job}"}[1h])`);
    return sample ? Number(sample.value[1]) : 0;
  }

  /** Waits until at least `count` scrapes are stored; throws with Prometheus's output after `timeoutMs`. */
  async waitForScrapes(count: number, timeoutMs = 30_000): Promise<void> {
    if (await waitUntil(async () => (await this.scrapes()) >= count, timeoutMs, 200)) return;
    throw new Error(`Prometheus stored fewer than ${count} scrapes within ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGTERM (Prometheus shuts down by itself), SIGKILL if it has not after 10 s; removes its directory. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      if (!(await waitForExit(this.child, 10_000))) {
        this.child.kill('SIGKILL');
        await waitForExit(this.child, 5_000);
      }
    }
    await removeDir(this.dir);
  }

  private async answersReady(): Promise<boolean> {
    if (this.exited) return true; // start() reports it
    try {
      const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }
}
