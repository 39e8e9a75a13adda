import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { request } from 'undici';
import { AppConfig } from '../config/app-config';
import { type GpuReport, gpuReportOf } from './gpu-report';
import { parsePrometheusText } from './prometheus-text';

/** Largest exposition read from a worker (dcgm-exporter's is a few hundred KiB on an 8-GPU box). */
const BODY_LIMIT = 8 * 1024 * 1024;

/** The GPUs of the workers that answered their last poll, summed. */
export interface GpuSnapshot {
  /** Workers configured in GPU_METRICS_URLS, and those whose last poll answered in time. */
  workers: number;
  reporting: number;
  gpus: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  /** Mean utilisation of the reported GPUs (0–100), null when none reports it. */
  utilizationPercent: number | null;
}

interface Worker {
  /** Origin and path: what logs may show (no credentials, no query). */
  shown: string;
  url: string;
  headers: Record<string, string>;
  secrets: string[];
  polling: boolean;
  failing: string | null;
  last?: { report: GpuReport; at: number };
}

function workerOf(raw: string): Worker {
  const url = new URL(raw);
  const headers: Record<string, string> = { accept: 'text/plain' };
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (user !== '' || password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  return {
    shown: `${url.origin}${url.pathname}`,
    url: url.toString(),
    headers,
    secrets: [user, password, url.search].filter((s) => s.length > 1),
    polling: false,
    failing: null,
  };
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error(`answered more than ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Polls the GPU workers' Prometheus endpoints (GPU_METRICS_URLS) in the background, every
 * GPU_METRICS_INTERVAL_MS, each poll bounded by GPU_METRICS_TIMEOUT_MS. A worker whose poll fails, or
 * that has not answered for three intervals, is not reporting. Requests read the last reports; they
 * never wait for a worker.
 */
@Injectable()
export class GpuMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GpuMetrics');
  private readonly workers: Worker[];
  private readonly closing = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(private readonly config: AppConfig) {
    this.workers = config.gpuMetricsUrls.map(workerOf);
  }

  snapshot(): GpuSnapshot {
    const freshSince = Date.now() - 3 * this.config.GPU_METRICS_INTERVAL_MS;
    const reports = this.workers.flatMap((w) => (w.last && w.last.at >= freshSince ? [w.last.report] : []));
    const snapshot: GpuSnapshot = {
      workers: this.workers.length,
      reporting: reports.length,
      gpus: 0,
      memoryTotalBytes: 0,
      memoryUsedBytes: 0,
      utilizationPercent: null,
    };
    let utilizationSum = 0;
    let utilizationGpus = 0;
    for (const report of reports) {
      snapshot.gpus += report.gpus;
      snapshot.memoryTotalBytes += report.memoryTotalBytes;
      snapshot.memoryUsedBytes += report.memoryUsedBytes;
      if (report.utilizationPercent !== null) {
        utilizationSum += report.utilizationPercent * report.gpus;
        utilizationGpus += report.gpus;
      }
    }
    if (utilizationGpus > 0) snapshot.utilizationPercent = utilizationSum / utilizationGpus;
    return snapshot;
  }

  onApplicationBootstrap(): void {
    if (this.workers.length === 0) return;
    this.pollAll();
    this.timer = setInterval(() => this.pollAll(), this.config.GPU_METRICS_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.closing.abort();
  }

  /** One poll in flight per worker: a worker still answering the previous one is skipped. */
  private pollAll(): void {
    for (const worker of this.workers) {
      if (worker.polling) continue;
      worker.polling = true;
      void this.poll(worker).finally(() => {
        worker.polling = false;
      });
    }
  }

  private async poll(worker: Worker): Promise<void> {
    const timeout = this.config.GPU_METRICS_TIMEOUT_MS;
    try {
      const res = await request(worker.url, {
        method: 'GET',
        headers: worker.headers,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeout)]),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`answered HTTP ${res.statusCode}`);
      }
      const report = gpuReportOf(parsePrometheusText(await readText(res.body)));
      worker.last = { report, at: Date.now() };
      if (worker.failing !== null) this.logger.log(`GPU metrics of ${worker.shown} answer again`);
      worker.failing = null;
    } catch (err) {
      if (this.closing.signal.aborted) return;
      worker.last = undefined;
      const reason = this.reasonOf(err, worker, timeout);
      // Once a failure, not at every poll while it lasts.
      if (reason !== worker.failing) this.logger.warn(`GPU metrics of ${worker.shown} not read: ${reason}`);
      worker.failing = reason;
    }
  }

  private reasonOf(err: unknown, worker: Worker, timeout: number): string {
    // The timeout signal's reason is a DOMException (not always an Error of this realm).
    const { name, message } = (typeof err === 'object' && err !== null ? err : {}) as {
      name?: unknown;
      message?: unknown;
    };
    if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeout} ms`;
    let reason = typeof message === 'string' ? message : String(err);
    for (const secret of worker.secrets) reason = reason.split(secret).join('***');
    return reason;
  }
}
