import type { Response } from 'express';
import type { Cost } from '../metering/metering.api';
import type { Candidate } from '../routing/routing.api';

/** What served a request: named in its response headers. */
export interface Served {
  candidate: Candidate;
  attempts: number;
  /** What the answer was billed, when known before the headers go out (JSON answers). */
  cost?: Pick<Cost, 'credits'>;
}

/** The header of a JSON answer that names the credits it was billed (the ledger row's credits). */
export const CREDITS_HEADER = 'X-Conflux-Credits';

/** The route headers of an answer, for the OpenAPI document (`@ApiOkResponse({ headers })`). */
export const SERVED_HEADERS_DOC = {
  'X-Conflux-Provider': { description: 'The provider instance that answered', schema: { type: 'string' } },
  'X-Conflux-Model': { description: 'The model that answered', schema: { type: 'string' } },
  'X-Conflux-Attempts': { description: 'Attempts made (fallbacks included)', schema: { type: 'integer' } },
  [CREDITS_HEADER]: {
    description:
      'JSON answers only: the credits billed for the answer, as in the usage ledger. A stream carries them in ' +
      'its last usage event instead (`usage.credits`).',
    schema: { type: 'number', example: 0.0125 },
  },
};

/** One server-sent event: its data (JSON unless a string) and, for dialects that name events, its name. */
export interface SseFrame {
  data: object | string;
  event?: string;
}

function setRouteHeaders(res: Response, served: Served): void {
  res.setHeader('X-Conflux-Provider', served.candidate.instanceId);
  res.setHeader('X-Conflux-Model', served.candidate.model.name);
  res.setHeader('X-Conflux-Attempts', String(served.attempts));
  if (served.cost) res.setHeader(CREDITS_HEADER, String(served.cost.credits));
}

/**
 * A JSON answer with its route headers. Through res.json, where IdempotencyGuard stores the
 * answer of an idempotent request.
 */
export function sendJson(res: Response, served: Served, body: object): void {
  setRouteHeaders(res, served);
  res.status(200).json(body);
}

/** How long past a stream's deadline a client that stopped reading is waited for before it is cut. */
const SLOW_READER_GRACE_MS = 1_000;

/**
 * An SSE answer with its route headers, written as the frames come and as fast as the client
 * reads. A client that goes away ends the frames early (their generators' finally blocks run), and
 * so does one still not reading once the stream's `deadline` (ms since epoch) is past.
 */
export async function sendStream(
  res: Response,
  served: Served,
  frames: AsyncIterable<SseFrame>,
  deadline?: number,
): Promise<void> {
  res.status(200);
  setRouteHeaders(res, served);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  try {
    for await (const frame of frames) {
      if (closed(res)) break;
      await send(res, frame, deadline);
    }
  } finally {
    if (!closed(res)) res.end();
  }
}

function closed(res: Response): boolean {
  return res.writableEnded || res.destroyed;
}

/** Writes `data:` (and `event:` when named); waits when the client reads slowly, not past the deadline. */
async function send(res: Response, frame: SseFrame, deadline?: number): Promise<void> {
  const payload = typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data);
  const text = `${frame.event ? `event: ${frame.event}\n` : ''}data: ${payload}\n\n`;
  if (!res.write(text)) {
    await new Promise<void>((resolve) => {
      const cut =
        deadline === undefined
          ? undefined
          : setTimeout(() => res.destroy(), Math.max(0, deadline + SLOW_READER_GRACE_MS - Date.now()));
      const done = (): void => {
        clearTimeout(cut);
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
    });
  }
}
