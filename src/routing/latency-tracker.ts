/** Exponentially weighted moving average of latency per (instance, model). */
export class LatencyTracker {
  private readonly averages = new Map<string, number>();

  constructor(private readonly alpha = 0.3) {}

  observe(instanceId: string, model: string, latencyMs: number): void {
    const key = `${instanceId}\u0000${model}`;
    const previous = this.averages.get(key);
    this.averages.set(key, previous === undefined ? latencyMs : previous + this.alpha * (latencyMs - previous));
  }

  get(instanceId: string, model: string): number | null {
    return this.averages.get(`${instanceId}\u0000${model}`) ?? null;
  }
}
