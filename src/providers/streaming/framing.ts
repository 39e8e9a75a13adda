import type { StreamFraming } from '../kinds/kind-mapper';

/**
 * Splits a text stream into payloads, whatever the network chunk boundaries: the `data` of
 * each server-sent event, or each non-empty NDJSON line. Feed text with `push`, then `end`.
 */
export interface FrameDecoder {
  push(text: string): string[];
  end(): string[];
}

/** Lines end in \n, \r\n or \r; a trailing \r waits for the next chunk (it may be half of \r\n). */
function splitLines(buffer: string): { lines: string[]; rest: string } {
  const lines = buffer.split(/\r\n|\r(?!$)|\n/);
  const rest = lines.pop() ?? '';
  return { lines, rest };
}

/** Server-sent events (WHATWG): `data:` lines joined by \n, dispatched on a blank line; comments ignored. */
export class SseDecoder implements FrameDecoder {
  private buffer = '';
  private data: string[] = [];

  push(text: string): string[] {
    const { lines, rest } = splitLines(this.buffer + text);
    this.buffer = rest;
    const out: string[] = [];
    for (const line of lines) this.line(line, out);
    return out;
  }

  /** At the end of the body: a last event without its blank line is still delivered. */
  end(): string[] {
    const out: string[] = [];
    const last = this.buffer.replace(/\r$/, '');
    this.buffer = '';
    if (last !== '') this.line(last, out);
    this.line('', out);
    return out;
  }

  private line(line: string, out: string[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return; // event, id and retry are not needed: payloads carry their type
    const value = colon < 0 ? '' : line.slice(colon + 1);
    this.data.push(value.startsWith(' ') ? value.slice(1) : value);
  }
}

/** Newline-delimited JSON: one payload per non-blank line. */
export class NdjsonDecoder implements FrameDecoder {
  private buffer = '';

  push(text: string): string[] {
    const { lines, rest } = splitLines(this.buffer + text);
    this.buffer = rest;
    return lines.filter((line) => line.trim() !== '');
  }

  end(): string[] {
    const last = this.buffer.trim();
    this.buffer = '';
    return last === '' ? [] : [last];
  }
}

export function frameDecoder(framing: StreamFraming): FrameDecoder {
  return framing === 'sse' ? new SseDecoder() : new NdjsonDecoder();
}
