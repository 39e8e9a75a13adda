import { Logger } from '@nestjs/common';

/**
 * Remembers whether a dependency was last seen up, logging only transitions (a probe
 * every few seconds must not flood the logs), and turns a failure into a public
 * reason that reveals no hosts, ports or driver messages.
 */
export class DependencyState {
  private up = true;
  private readonly logger: Logger;

  constructor(private readonly name: string) {
    this.logger = new Logger(`Health:${name}`);
  }

  markUp(): void {
    if (!this.up) this.logger.log(`${this.name} is reachable again`);
    this.up = true;
  }

  /** Returns the reason to show publicly: `timeout` or `unreachable`. */
  markDown(err: unknown): 'timeout' | 'unreachable' {
    const message = (err as { message?: unknown } | null)?.message;
    const text = typeof message === 'string' ? message : String(err);
    if (this.up) this.logger.warn(`${this.name} is unavailable: ${text}`);
    this.up = false;
    return /timed? ?out/i.test(text) ? 'timeout' : 'unreachable';
  }
}
