import type { Span } from '@opentelemetry/api';
import type { SpanRequest } from '../tracing/tracing';
import { UpstreamError } from './upstream-error';

/** Per-call options: every upstream call is bounded and abortable. */
export interface CallOptions {
  /** Aborts this call only (client gone, deadline reached). */
  signal?: AbortSignal;
  /** Absolute time (ms since epoch) after which no retry is attempted; no wait of an attempt lasts past it. */
  deadline?: number;
  /** Absolute time at which a stream past its first event is cut, whatever still arrives (default: deadline). */
  streamDeadline?: number;
  /** The span of each attempt, when tracing is on (the caller builds it only then). */
  span?: SpanRequest;
}

type CutReason = 'timeout' | 'deadline' | 'cancelled';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The abort signal of one upstream attempt: its own timeout, its deadline, our own cancellation
 * (the consumer stopped reading) and the caller's signal, so that a timed-out or abandoned attempt
 * is really aborted (undici then destroys the connection). Also decides what a failure was: our
 * timer → timeout, the caller or the consumer → aborted, anything else → network.
 *
 * The caller's signal is followed with a listener removed by dispose(), not AbortSignal.any,
 * which costs a few µs and a weak reference per call on the hot path.
 */
export class CallControl {
  private readonly local = new AbortController();
  readonly signal: AbortSignal = this.local.signal;
  private timer?: NodeJS.Timeout;
  private armedMs: number;
  private cut?: CutReason;
  private readonly follow = (): void => this.local.abort(this.callerSignal?.reason);
  /** The attempt's span (tracing on and asked for by the caller): the HTTP exchange runs below it. */
  span?: Span;

  /**
   * `timeoutMs` bounds each wait (an answer, a gap between chunks), `deadline` (ms since epoch) all
   * of them; `subject` names the far side in failure messages ("the upstream", "the remote worker").
   */
  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    private readonly timeoutMs: number,
    private readonly subject = 'the upstream',
    private deadline?: number,
  ) {
    this.armedMs = timeoutMs;
    this.signal.addEventListener('abort', () => this.clearTimer(), { once: true });
    if (callerSignal?.aborted) this.follow();
    else callerSignal?.addEventListener('abort', this.follow, { once: true });
  }

  /** Starts (or restarts: streams re-arm on every chunk) the timeout, never past the deadline. */
  arm(): void {
    this.clearTimer();
    if (this.signal.aborted) return;
    const left = this.deadline === undefined ? Infinity : this.deadline - Date.now();
    const reason: CutReason = left < this.timeoutMs ? 'deadline' : 'timeout';
    this.armedMs = Math.max(1, Math.min(this.timeoutMs, left));
    this.timer = setTimeout(() => this.abort(reason), this.armedMs);
    this.timer.unref();
  }

  /** Moves the deadline (a stream past its first event runs until its own); a running wait is re-armed. */
  extendDeadline(deadline: number | undefined): void {
    if (deadline === undefined || deadline === this.deadline) return;
    this.deadline = deadline;
    if (this.timer !== undefined) this.arm();
  }

  /** True when the deadline, not the timeout or a cancellation, ended the attempt. */
  get deadlinePassed(): boolean {
    return this.cut === 'deadline';
  }

  abort(reason: CutReason): void {
    if (this.signal.aborted) return;
    this.cut = reason;
    this.local.abort(this.failure(undefined));
  }

  dispose(): void {
    this.clearTimer();
    this.callerSignal?.removeEventListener('abort', this.follow);
  }

  /** The UpstreamError a failure of this attempt stands for. */
  failure(err: unknown): UpstreamError {
    if (err instanceof UpstreamError) return err;
    if (this.cut === 'timeout' || this.cut === 'deadline') {
      return new UpstreamError('timeout', `${this.subject} did not answer within ${this.armedMs} ms`, {
        cause: err,
      });
    }
    if (this.cut === 'cancelled') return new UpstreamError('aborted', 'the call was abandoned', { cause: err });
    if (this.callerSignal?.aborted) return new UpstreamError('aborted', 'the caller aborted the call', { cause: err });
    const code = errorCode(err);
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new UpstreamError('timeout', `${this.subject} stopped answering`, { cause: err });
    }
    return new UpstreamError('network', `${this.subject} is unreachable${code ? ` (${code})` : ''}`, { cause: err });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return errorCode((err as { cause?: unknown }).cause);
}
