import type { Response } from 'express';

/** Server-sent events on an Express response, respecting backpressure. */
export class SseWriter {
  constructor(private readonly res: Response) {}

  open(headers: Record<string, string>): void {
    this.res.status(200);
    for (const [name, value] of Object.entries(headers)) this.res.setHeader(name, value);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache, no-transform');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    this.res.flushHeaders();
  }

  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  /** Writes `data:` (and `event:` when named); waits when the client reads slowly. */
  async send(data: object | string, event?: string): Promise<void> {
    if (this.closed) return;
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    const frame = `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
    if (!this.res.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    }
  }

  end(): void {
    if (!this.closed) this.res.end();
  }
}
