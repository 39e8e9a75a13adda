import type { Sample } from './prometheus-text';

/** What one GPU worker reported at one poll. */
export interface GpuReport {
  gpus: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  /** Mean utilisation of its GPUs (0–100), when it exports one. */
  utilizationPercent: number | null;
}

const MIB = 1024 * 1024;

/** Sum of one metric over its series (one series a GPU), and how many series there were. */
function total(samples: readonly Sample[], name: string): { sum: number; series: number } {
  const series = new Map<string, number>();
  for (const s of samples) if (s.name === name) series.set(s.labels, s.value);
  let sum = 0;
  for (const value of series.values()) sum += value;
  return { sum, series: series.size };
}

function mean({ sum, series }: { sum: number; series: number }, scale: number): number | null {
  return series === 0 ? null : (sum / series) * scale;
}

/**
 * Reads Triton's GPU metrics (`nv_gpu_memory_total_bytes`, `nv_gpu_memory_used_bytes`,
 * `nv_gpu_utilization` as a fraction) or, without them, dcgm-exporter's (`DCGM_FI_DEV_FB_USED`,
 * `DCGM_FI_DEV_FB_FREE` and `DCGM_FI_DEV_FB_RESERVED` in MiB, `DCGM_FI_DEV_GPU_UTIL` in percent). No
 * GPU metric at all: zero GPUs.
 */
export function gpuReportOf(samples: readonly Sample[]): GpuReport {
  const tritonTotal = total(samples, 'nv_gpu_memory_total_bytes');
  if (tritonTotal.series > 0) {
    return {
      gpus: tritonTotal.series,
      memoryTotalBytes: tritonTotal.sum,
      memoryUsedBytes: total(samples, 'nv_gpu_memory_used_bytes').sum,
      utilizationPercent: mean(total(samples, 'nv_gpu_utilization'), 100),
    };
  }
  const used = total(samples, 'DCGM_FI_DEV_FB_USED');
  const free = total(samples, 'DCGM_FI_DEV_FB_FREE');
  const reserved = total(samples, 'DCGM_FI_DEV_FB_RESERVED');
  return {
    gpus: Math.max(used.series, free.series),
    memoryTotalBytes: (used.sum + free.sum + reserved.sum) * MIB,
    memoryUsedBytes: used.sum * MIB,
    utilizationPercent: mean(total(samples, 'DCGM_FI_DEV_GPU_UTIL'), 1),
  };
}
