/**
 * The soak's open-loop load: requests start at a fixed rate whatever the answers take (so a stall
 * shows in the latencies instead of slowing the load down), up to a cap of requests in flight.
 * Every request carries its own X-Request-Id, so that its ledger rows can be found afterwards.
 */

export type RequestKind = 'chat' | 'stream' | 'stream_abort' | 'trickle' | 'predict' | 'forecast';

/** Kinds billed through the LLM gateway: each answered one is checked against the ledger. */
export const LLM_KINDS: ReadonlySet<RequestKind> = new Set(['chat', 'stream', 'stream_abort', 'trickle']);
/** Kinds answered with one JSON body: their latency is what the fault windows bound. */
export const SHORT_KINDS: ReadonlySet<RequestKind> = new Set(['chat', 'predict', 'forecast']);

export interface Target {
  /** Instance label, e.g. 'A'. */
  instance: string;
  baseUrl: string;
}

export interface ProjectRef {
  label: string;
  id: string;
  apiKey: string;
}

export interface RequestRecord {
  id: string;
  kind: RequestKind;
  instance: string;
  project: string;
  /** ms since the soak started. */
  start: number;
  /** When the response headers arrived (ms since start). */
  headersAt?: number;
  /** When the answer ended: body read, stream ended or aborted by us, or the request failed. */
  end?: number;
  /** HTTP status; undefined when no answer came (connection refused, client timeout). */
  status?: number;
  /** X-Conflux-Attempts of an LLM answer. */
  attempts?: number;
  /** How a 2xx stream ended. */
  streamEnd?: 'done' | 'error_event' | 'aborted_by_us' | 'cut';
  /** Error code from the body of a non-2xx answer, or the client-side failure. */
  error?: string;
}

export interface LoadMix {
  kind: RequestKind;
  weight: number;
}

export interface LoadOptions {
  rps: number;
  maxInFlight: number;
  targets: Target[];
  /** Projects a kind may bill (the trickling model only on the generous one). */
  projectsFor(kind: RequestKind): ProjectRef[];
  mix: LoadMix[];
  /** Whether a kind is sent at the moment (the trickling model only during its window). */
  enabled(kind: RequestKind): boolean;
  /** Client-side give-up time of one request (well beyond every server-side deadline). */
  clientTimeoutMs: number;
  runId: string;
}

const CHAT_MESSAGES = [{ role: 'user', content: 'Summarise the state of the soak test in one sentence.' }];

export class SoakLoad {
  readonly records: RequestRecord[] = [];
  /** Requests not sent because `maxInFlight` were already waiting. */
  skipped = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private counter = 0;
  private readonly epoch: number;
  private carry = 0;

  constructor(
    private readonly options: LoadOptions,
    epoch: number,
  ) {
    this.epoch = epoch;
  }

  now(): number {
    return Date.now() - this.epoch;
  }

  start(): void {
    const tickMs = 50;
    let last = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      this.carry += ((now - last) / 1000) * this.options.rps;
      last = now;
      while (this.carry >= 1) {
        this.carry -= 1;
        this.launch();
      }
    }, tickMs);
  }

  /** Stops starting requests and waits for those in flight (each is bounded by the client timeout). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private launch(): void {
    if (this.inFlight.size >= this.options.maxInFlight) {
      this.skipped += 1;
      return;
    }
    this.counter += 1;
    const kind = this.pickKind();
    const target = this.options.targets[this.counter % this.options.targets.length];
    const projects = this.options.projectsFor(kind);
    const project = projects[Math.floor(this.counter / this.options.targets.length) % projects.length];
    const record: RequestRecord = {
      id: `soak-${this.options.runId}-${this.counter}`,
      kind,
      instance: target.instance,
      project: project.label,
      start: this.now(),
    };
    this.records.push(record);
    const running = this.send(record, target, project).finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  private pickKind(): RequestKind {
    const mix = this.options.mix.filter((entry) => this.options.enabled(entry.kind));
    let roll = Math.random() * mix.reduce((sum, entry) => sum + entry.weight, 0);
    for (const entry of mix) {
      roll -= entry.weight;
      if (roll < 0) return entry.kind;
    }
    return mix[0].kind;
  }

  private async send(record: RequestRecord, target: Target, project: ProjectRef): Promise<void> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error('client_timeout')), this.options.clientTimeoutMs);
    try {
      const { path, body } = requestFor(record.kind);
      const res = await fetch(`${target.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': project.apiKey, 'x-request-id': record.id },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      record.headersAt = this.now();
      record.status = res.status;
      const attempts = res.headers.get('x-conflux-attempts');
      if (attempts !== null) record.attempts = Number(attempts);
      const streamed = res.status < 300 && (res.headers.get('content-type') ?? '').includes('text/event-stream');
      if (streamed) await this.readStream(record, res, controller);
      else {
        const text = await res.text();
        if (res.status >= 300) record.error = errorCode(text);
      }
    } catch (error: unknown) {
      if (record.streamEnd === undefined && record.status !== undefined && record.status < 300) {
        record.streamEnd = 'cut';
      } else if (record.status === undefined) {
        record.error = controller.signal.aborted ? 'client_timeout' : failureCode(error);
      }
    } finally {
      clearTimeout(timeout);
      record.end = this.now();
    }
  }

  private async readStream(record: RequestRecord, res: Response, controller: AbortController): Promise<void> {
    const reader = res.body?.getReader();
    if (!reader) return;
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value as Uint8Array, { stream: true });
      if (record.kind === 'stream_abort' && text.includes('"content"')) {
        record.streamEnd = 'aborted_by_us';
        controller.abort(new Error('aborted_by_us'));
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
    if (/^data: \[DONE\]/m.test(text)) record.streamEnd = 'done';
    else if (/"error"/.test(text)) record.streamEnd = 'error_event';
    else record.streamEnd = 'cut';
  }
}

function requestFor(kind: RequestKind): { path: string; body: unknown } {
  switch (kind) {
    case 'chat':
      return { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: CHAT_MESSAGES, max_tokens: 300 } };
    case 'stream':
    case 'stream_abort':
      return {
        path: '/v1/chat/completions',
        body: { model: 'gpt-4o-mini', messages: CHAT_MESSAGES, max_tokens: 300, stream: true },
      };
    case 'trickle':
      return {
        path: '/v1/chat/completions',
        body: { model: 'gpt-4o', messages: CHAT_MESSAGES, max_tokens: 100, stream: true },
      };
    case 'predict':
      return {
        path: '/predict',
        body: { symbol: 'SOAK', features: Array.from({ length: 12 }, () => (Math.random() - 0.5) / 50) },
      };
    case 'forecast':
      return {
        path: '/forecast',
        body: {
          series: Array.from({ length: 48 }, (_, i) => 10 + Math.sin(i / 3) + Math.random() / 10),
          horizon: 6,
        },
      };
  }
}

/** Our code from an error body, in the envelope or OpenAI's shape. */
function errorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
    const nested = body.error as { code?: unknown } | undefined;
    return typeof nested?.code === 'string' ? nested.code : 'unknown';
  } catch {
    return 'not_json';
  }
}

function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error);
}
