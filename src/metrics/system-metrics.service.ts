import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { AppConfig } from '../config/app-config';
import { withTimeout } from '../common/with-timeout';

/** How often the CPU counters are sampled: `cpu_percent` is the busy share of the last such interval. */
const CPU_SAMPLE_MS = 5_000;
/** Bound of the disk figures' statfs (a hung network mount must not hang the request). */
const STATFS_TIMEOUT_MS = 1_000;

/** Bytes per GB as the replaced services counted it (1024³). */
export const BYTES_PER_GB = 1024 ** 3;

/** The host's CPU, memory and disk, in the units of the Production API's /api/metrics. */
export interface SystemMetrics {
  cpu_percent: number;
  cpu_count: number;
  load_average: number[];
  memory_total_gb: number;
  memory_used_gb: number;
  memory_percent: number;
  disk_total_gb: number | null;
  disk_used_gb: number | null;
  disk_percent: number | null;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? round2((part / whole) * 100) : 0;
}

/** CPU (sampled in the background), memory and load from the OS; disk of DATA_DIR's file system. */
@Injectable()
export class SystemMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private previous = cpuTimes();
  /** Until the first interval ends: the share since boot. */
  private cpuPercent = percent(this.previous.busy, this.previous.total);
  private timer?: NodeJS.Timeout;

  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sampleCpu(), CPU_SAMPLE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async read(): Promise<SystemMetrics> {
    const total = totalmem();
    const used = total - freemem();
    return {
      cpu_percent: this.cpuPercent,
      cpu_count: cpus().length,
      load_average: loadavg().map(round2),
      memory_total_gb: round2(total / BYTES_PER_GB),
      memory_used_gb: round2(used / BYTES_PER_GB),
      memory_percent: percent(used, total),
      ...(await this.disk()),
    };
  }

  /** As df counts it: used of what is not reserved for root; nulls when it cannot be read in time. */
  private async disk(): Promise<Pick<SystemMetrics, 'disk_total_gb' | 'disk_used_gb' | 'disk_percent'>> {
    for (const path of [this.config.DATA_DIR, '/']) {
      try {
        const fs = await withTimeout(statfs(path), STATFS_TIMEOUT_MS, 'statfs');
        const used = (fs.blocks - fs.bfree) * fs.bsize;
        return {
          disk_total_gb: round2((fs.blocks * fs.bsize) / BYTES_PER_GB),
          disk_used_gb: round2(used / BYTES_PER_GB),
          disk_percent: percent(used, used + fs.bavail * fs.bsize),
        };
      } catch {
        // DATA_DIR may not exist (yet): the root file system then.
      }
    }
    return { disk_total_gb: null, disk_used_gb: null, disk_percent: null };
  }

  private sampleCpu(): void {
    const now = cpuTimes();
    this.cpuPercent = percent(now.busy - this.previous.busy, now.total - this.previous.total);
    this.previous = now;
  }
}
