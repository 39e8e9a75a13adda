import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Fake upstream LLM servers on 127.0.0.1 speaking each kind's real wire format (JSON, SSE for
 * OpenAI and Anthropic, NDJSON for Ollama), recording what they receive, with switchable faults.
 *
 *   const fake = await startFakeUpstream('openai', { models: ['gpt-4o-mini'] });
 *   // declare { id, kind: 'openai', base_url: fake.baseUrl, models: fake.models, ... }
 *   fake.status(500);                  // every request from now on
 *   fake.enqueue(faults.status(429, undefined, { 'retry-after': '1' }));  // the next POST only
 *   fake.requests[0].body              // parsed JSON the client sent
 *   await fake.close();
 *
 * Routes: openai `POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models`; anthropic
 * `POST /v1/messages`, `GET /v1/models`; ollama `POST /api/chat`, `POST /api/embed`, `GET /api/tags`,
 * `POST /api/show` (what /api/tags and /api/show say of each model: `ollamaModels`, by default a 3.2B
 * llama chat model). The persistent fault applies to every request; queued faults only to the POSTs of
 * chat and embeddings (so background status probes and model questions never consume them).
 */

export type FakeKind = 'openai' | 'anthropic' | 'ollama';

/** What a fake answers, fixed or made from the request it answers (e.g. to echo a header back). */
export type Echoed<T> = T | ((req: RecordedRequest) => T);

export type Fault =
  | { type: 'ok' }
  | { type: 'status'; status: number; body?: Echoed<unknown>; headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { type: 'hang' }
  /** Answers normally after `ms`. */
  | { type: 'delay'; ms: number }
  /** 200 with an invalid JSON body, or an invalid first chunk when streaming. */
  | { type: 'malformed' }
  /** Streams `chunks` content deltas, then destroys the socket. */
  | { type: 'cutStreamAfter'; chunks: number }
  /** Streams `chunks` content deltas, then sends nothing more (the connection stays open). */
  | { type: 'stallStreamAfter'; chunks: number }
  /**
   * Streams `chunks` content deltas, then the kind's in-stream error event with `message` (of the type
   * the kind gives an HTTP `status`; OpenAI-compatible servers put it in `code`), and ends.
   */
  | { type: 'streamErrorAfter'; chunks: number; message: Echoed<string>; status: number };

export const faults = {
  ok: (): Fault => ({ type: 'ok' }),
  status: (status: number, body?: Echoed<unknown>, headers?: Record<string, string>): Fault => ({
    type: 'status',
    status,
    body,
    headers,
  }),
  hang: (): Fault => ({ type: 'hang' }),
  delay: (ms: number): Fault => ({ type: 'delay', ms }),
  malformed: (): Fault => ({ type: 'malformed' }),
  cutStreamAfter: (chunks: number): Fault => ({ type: 'cutStreamAfter', chunks }),
  stallStreamAfter: (chunks: number): Fault => ({ type: 'stallStreamAfter', chunks }),
  streamErrorAfter: (chunks: number, message: Echoed<string>, status = 500): Fault => ({
    type: 'streamErrorAfter',
    chunks,
    message,
    status,
  }),
};

/** A function call the openai fake answers with; `arguments` is JSON text, as OpenAI writes it. */
export interface OpenAIFakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What only the openai fake answers with. */
export interface OpenAIScript {
  /** Tool calls (parallel when several) after any text; finish_reason becomes tool_calls. Streamed as
   * delta.tool_calls fragments: id and name first, then the arguments in pieces. */
  toolCalls?: OpenAIFakeToolCall[];
  /** usage.prompt_tokens_details.cached_tokens and completion_tokens_details.reasoning_tokens (0 by default). */
  cachedTokens?: number;
  reasoningTokens?: number;
}

/** What only the ollama fake answers with. */
export interface OllamaScript {
  /** message.tool_calls (no ids, arguments as an object); streamed one line per call before the done line. */
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** message.thinking; streamed in pieces (split after each space) before the content's lines. */
  thinking?: string;
}

export interface FakeReply {
  text: string;
  usage: { input_tokens: number; output_tokens: number };
  openai?: OpenAIScript;
  ollama?: OllamaScript;
  /** Canonical finish reason; each kind's fake writes its own spelling. */
  finishReason: 'stop' | 'length';
  /** Stream pieces; by default the text split after each space. */
  chunks?: string[];
  /** Pause between streamed chunks. */
  chunkDelayMs: number;
  /** Pause between a stream's end marker and the end of the response body. */
  endDelayMs: number;
  /** Model named in answers; by default the one requested. */
  model?: string;
  /** What only the anthropic fake answers with. */
  anthropic?: AnthropicScript;
}

/**
 * Anthropic content blocks as the Messages API writes them. Streamed with the documented
 * deltas: text_delta, thinking_delta then signature_delta, input_json_delta pieces of the
 * tool input; redacted_thinking arrives whole in its content_block_start.
 */
export type AnthropicFakeBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicScript {
  /** The content blocks instead of one text block of `text`; stop_reason becomes tool_use when one is a tool_use. */
  content?: AnthropicFakeBlock[];
  /** usage.cache_read_input_tokens and usage.cache_creation_input_tokens (0 by default). */
  cacheRead?: number;
  cacheWrite?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when none or not JSON). */
  body: unknown;
  rawBody: string;
  /** Client port: the same port for two requests means one kept-alive connection. */
  remotePort: number | undefined;
  /** Date.now() when the request was received (for backoff assertions). */
  receivedAt: number;
  /** True once the client closed the connection before the answer was complete. */
  readonly abortedByClient: boolean;
  /** True once the whole answer was handed to the connection. */
  readonly answered: boolean;
  /** Resolves when the client closes the connection before the answer was complete. */
  readonly aborted: Promise<void>;
}

/**
 * What the ollama fake says of one model in /api/tags and /api/show; each field left out takes the
 * default (a 3.2B llama chat model with tools, 2019393189 bytes, Q4_K_M, a digest made from the name).
 */
export interface FakeOllamaModel {
  size?: number;
  digest?: string;
  family?: string;
  parameter_size?: string;
  quantization_level?: string;
  /** Ollama's prompt template (Go template text). */
  template?: string;
  /** e.g. ['completion', 'tools'] or ['embedding']. */
  capabilities?: string[];
  context_length?: number;
}

export interface FakeUpstreamOptions {
  models?: string[];
  /** ollama: what it says of its models, by listed name (e.g. 'bge-m3:latest', or 'bge-m3'). */
  ollamaModels?: Record<string, FakeOllamaModel>;
  /** When set, requests without this key get the kind's 401. */
  apiKey?: string;
  reply?: Partial<FakeReply>;
}

export interface FakeUpstream {
  readonly kind: FakeKind;
  /** What to declare as `base_url` (OpenAI's includes /v1, as in real declarations). */
  readonly baseUrl: string;
  readonly origin: string;
  readonly models: string[];
  /** ollama: what it says of its models, by name (changeable, e.g. a new digest after a pull). */
  readonly ollamaModels: Record<string, FakeOllamaModel>;
  readonly requests: RecordedRequest[];
  /** Requests to paths ending with `suffix` (e.g. '/chat/completions'). */
  requestsTo(suffix: string): RecordedRequest[];
  reply: FakeReply;
  /** The persistent fault (default ok). */
  fault: Fault;
  ok(): this;
  status(status: number, body?: Echoed<unknown>, headers?: Record<string, string>): this;
  hang(): this;
  delay(ms: number): this;
  malformed(): this;
  cutStreamAfter(chunks: number): this;
  stallStreamAfter(chunks: number): this;
  /** Faults for the next POSTs, one each, before the persistent one applies again. */
  enqueue(...queued: Fault[]): this;
  /** Back to ok, default reply, nothing queued, nothing recorded. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY: FakeReply = {
  text: 'Hello from the fake upstream.',
  usage: { input_tokens: 12, output_tokens: 6 },
  finishReason: 'stop',
  chunkDelayMs: 0,
  endDelayMs: 0,
};

const DEFAULT_MODELS: Record<FakeKind, string[]> = {
  openai: ['gpt-4o-mini', 'text-embedding-3-small'],
  anthropic: ['claude-3-5-haiku-20241022'],
  ollama: ['llama3.2', 'nomic-embed-text'],
};

export async function startFakeUpstream(kind: FakeKind, options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const fake = new FakeServer(kind, options);
  await fake.listen();
  return fake;
}

// ---------------------------------------------------------------- the server

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  body: Record<string, unknown>;
  fault: Fault;
}

class FakeServer implements FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  readonly models: string[];
  readonly ollamaModels: Record<string, FakeOllamaModel>;
  reply: FakeReply;
  fault: Fault = faults.ok();
  private queue: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private port = 0;
  private counter = 0;

  constructor(
    readonly kind: FakeKind,
    private readonly options: FakeUpstreamOptions,
  ) {
    this.models = options.models ?? DEFAULT_MODELS[kind];
    this.ollamaModels = { ...options.ollamaModels };
    this.reply = { ...DEFAULT_REPLY, ...options.reply };
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get baseUrl(): string {
    return this.kind === 'openai' ? `${this.origin}/v1` : this.origin;
  }

  requestsTo(suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix));
  }

  ok(): this {
    return this.set(faults.ok());
  }
  status(status: number, body?: Echoed<unknown>, headers?: Record<string, string>): this {
    return this.set(faults.status(status, body, headers));
  }
  hang(): this {
    return this.set(faults.hang());
  }
  delay(ms: number): this {
    return this.set(faults.delay(ms));
  }
  malformed(): this {
    return this.set(faults.malformed());
  }
  cutStreamAfter(chunks: number): this {
    return this.set(faults.cutStreamAfter(chunks));
  }
  stallStreamAfter(chunks: number): this {
    return this.set(faults.stallStreamAfter(chunks));
  }

  enqueue(...queued: Fault[]): this {
    this.queue.push(...queued);
    return this;
  }

  reset(): void {
    this.fault = faults.ok();
    this.queue = [];
    this.requests.length = 0;
    this.reply = { ...DEFAULT_REPLY, ...this.options.reply };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private set(fault: Fault): this {
    this.fault = fault;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const record = recordRequest(req, res, rawBody);
    this.requests.push(record);
    const queued = req.method === 'POST' && record.path !== '/api/show';
    const fault = (queued ? this.queue.shift() : undefined) ?? this.fault;
    const body = isObject(record.body) ? record.body : {};
    const exchange: Exchange = { req, res, record, body, fault };
    if (fault.type === 'hang') return;
    if (fault.type === 'delay') await sleep(fault.ms);
    if (gone(res)) return;
    if (fault.type === 'status') return this.sendStatus(exchange, fault);
    if (!this.authorized(req)) return sendJson(res, 401, errorBody(this.kind, 401, 'invalid x-api-key'));
    this.route(exchange);
  }

  private route(x: Exchange): void {
    const key = `${x.req.method} ${(x.req.url ?? '').split('?')[0]}`;
    const routes: Record<FakeKind, Record<string, () => void>> = {
      openai: {
        'POST /v1/chat/completions': () => this.chat(x, x.body.stream === true),
        'POST /v1/embeddings': () => this.embeddings(x),
        'GET /v1/models': () => sendJson(x.res, 200, openaiModels(this.models)),
      },
      anthropic: {
        'POST /v1/messages': () => this.chat(x, x.body.stream === true),
        'GET /v1/models': () => sendJson(x.res, 200, anthropicModels(this.models)),
      },
      ollama: {
        'POST /api/chat': () => this.chat(x, x.body.stream !== false),
        'POST /api/embed': () => this.embeddings(x),
        'GET /api/tags': () => sendJson(x.res, 200, ollamaTags(this.models, this.ollamaModels)),
        'POST /api/show': () => this.show(x),
      },
    };
    const handler = routes[this.kind][key];
    if (handler) handler();
    else sendJson(x.res, 404, errorBody(this.kind, 404, `no route ${key}`));
  }

  /** Ollama's `POST /api/show {model}` (older clients send `name`); 404 for a model it does not have. */
  private show(x: Exchange): void {
    const asked = typeof x.body.model === 'string' ? x.body.model : typeof x.body.name === 'string' ? x.body.name : '';
    const name = this.models.find((m) => tagged(m) === tagged(asked));
    if (name === undefined) return sendJson(x.res, 404, errorBody('ollama', 404, `model '${asked}' not found`));
    sendJson(x.res, 200, ollamaShow(describedModel(name, this.ollamaModels)));
  }

  private authorized(req: IncomingMessage): boolean {
    const key = this.options.apiKey;
    if (!key) return true;
    // Anthropic takes x-api-key (what Conflux sends); its newer SDKs send a bearer token.
    if (this.kind === 'anthropic' && req.headers['x-api-key'] === key) return true;
    return req.headers.authorization === `Bearer ${key}`;
  }

  private sendStatus(x: Exchange, fault: Extract<Fault, { type: 'status' }>): void {
    const body =
      echoed(fault.body, x.record) ?? errorBody(this.kind, fault.status, `fake upstream answered ${fault.status}`);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    x.res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
    x.res.end(text);
  }

  private chat(x: Exchange, stream: boolean): void {
    const model = this.reply.model ?? (typeof x.body.model === 'string' ? x.body.model : 'unknown');
    const id = ++this.counter;
    if (!stream) {
      if (x.fault.type === 'malformed') return sendRaw(x.res, 200, 'application/json', '{"id": "broken", "choices": [');
      return sendJson(x.res, 200, chatResponse(this.kind, this.reply, model, id));
    }
    const frames = streamFrames(this.kind, this.reply, model, id, includeUsage(x.body));
    void this.stream(x, frames);
  }

  private async stream(x: Exchange, frames: StreamFrames): Promise<void> {
    const contentType = this.kind === 'ollama' ? 'application/x-ndjson' : 'text/event-stream';
    x.res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
    if (x.fault.type === 'malformed') {
      x.res.end(this.kind === 'ollama' ? '{"model": broken\n' : 'data: {"broken": \n\n');
      return;
    }
    const stopAfter =
      x.fault.type === 'cutStreamAfter' || x.fault.type === 'stallStreamAfter' || x.fault.type === 'streamErrorAfter'
        ? x.fault.chunks
        : Infinity;
    for (const frame of frames.head) x.res.write(frame);
    let sent = 0;
    for (const frame of frames.deltas) {
      if (sent >= stopAfter || gone(x.res)) break;
      if (this.reply.chunkDelayMs > 0) await sleep(this.reply.chunkDelayMs);
      if (gone(x.res)) return;
      x.res.write(frame);
      sent++;
    }
    if (x.fault.type === 'stallStreamAfter') return;
    if (x.fault.type === 'streamErrorAfter') {
      x.res.end(streamErrorFrame(this.kind, x.fault.status, echoed(x.fault.message, x.record)));
      return;
    }
    if (x.fault.type === 'cutStreamAfter') {
      await new Promise<void>((resolve) => x.res.write('', () => resolve()));
      serverCuts.add(x.res);
      x.res.socket?.destroy();
      return;
    }
    if (gone(x.res)) return;
    for (const frame of frames.tail) x.res.write(frame);
    if (this.reply.endDelayMs > 0) await sleep(this.reply.endDelayMs);
    x.res.end();
  }

  private embeddings(x: Exchange): void {
    const raw: unknown[] = Array.isArray(x.body.input) ? x.body.input : [x.body.input ?? ''];
    // OpenAI takes token lists too (one, or a list of them), and counts their tokens as sent.
    const items = typeof raw[0] === 'number' ? [raw] : raw;
    const input = items.map(asText);
    const model = typeof x.body.model === 'string' ? x.body.model : 'unknown';
    const tokens = items.reduce<number>(
      (n, item, i) =>
        n + (Array.isArray(item) ? item.length : Math.max(1, input[i].split(/\s+/).filter(Boolean).length)),
      0,
    );
    if (x.fault.type === 'malformed') return sendRaw(x.res, 200, 'application/json', '{"data": [');
    if (this.kind === 'ollama') {
      return sendJson(x.res, 200, {
        model,
        embeddings: input.map(fakeVector),
        total_duration: 14143917,
        load_duration: 1019500,
        prompt_eval_count: tokens,
      });
    }
    sendJson(x.res, 200, {
      object: 'list',
      data: input.map((text, index) => ({ object: 'embedding', index, embedding: openaiEmbedding(text, x.body) })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }
}

// ---------------------------------------------------------------- wire formats

/** A deterministic 4-dimensional vector for a text. */
export function fakeVector(text: string): number[] {
  const codes = [...text].map((c) => c.charCodeAt(0));
  const sum = codes.reduce((a, b) => a + b, 0);
  return [text.length / 100, (sum % 97) / 97, (codes[0] ?? 0) / 255, 0.5];
}

/** OpenAI's SDKs ask for `encoding_format: 'base64'`: little-endian float32 values, base64-encoded. */
function openaiEmbedding(text: string, body: Record<string, unknown>): number[] | string {
  const vector = fakeVector(text);
  if (body.encoding_format !== 'base64') return vector;
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function includeUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options;
  return isObject(options) && options.include_usage === true;
}

function chunksOf(reply: FakeReply): string[] {
  return reply.chunks ?? reply.text.match(/\S+\s*|\s+/g) ?? [];
}

const OPENAI_FINISH = { stop: 'stop', length: 'length' } as const;
const ANTHROPIC_STOP = { stop: 'end_turn', length: 'max_tokens' } as const;

function chatResponse(kind: FakeKind, reply: FakeReply, model: string, n: number): unknown {
  const { input_tokens, output_tokens } = reply.usage;
  switch (kind) {
    case 'openai':
      return openaiChatResponse(reply, model, n);
    case 'anthropic':
      return {
        id: `msg_fake${n}`,
        type: 'message',
        role: 'assistant',
        model,
        content: anthropicContent(reply),
        stop_reason: anthropicStopReason(reply),
        stop_sequence: null,
        usage: { ...anthropicUsage(reply), output_tokens, service_tier: 'standard' },
      };
    case 'ollama':
      return {
        model,
        created_at: new Date().toISOString(),
        message: {
          role: 'assistant',
          content: reply.text,
          ...(reply.ollama?.thinking ? { thinking: reply.ollama.thinking } : {}),
          ...ollamaToolCalls(reply),
        },
        done_reason: reply.finishReason,
        done: true,
        total_duration: 4883583458,
        load_duration: 1334875,
        prompt_eval_count: input_tokens,
        prompt_eval_duration: 342546000,
        eval_count: output_tokens,
        eval_duration: 4535599000,
      };
  }
}

/** A stream as written on the wire: preamble, one frame per content delta, closing frames. */
interface StreamFrames {
  head: string[];
  deltas: string[];
  tail: string[];
}

const sse = (data: unknown, event?: string): string =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

function streamFrames(kind: FakeKind, reply: FakeReply, model: string, n: number, usage: boolean): StreamFrames {
  const pieces = chunksOf(reply);
  switch (kind) {
    case 'openai':
      return openaiFrames(reply, pieces, model, n, usage);
    case 'anthropic':
      return anthropicFrames(reply, pieces, model, n);
    case 'ollama':
      return ollamaFrames(reply, pieces, model);
  }
}

function openaiChatResponse(reply: FakeReply, model: string, n: number): unknown {
  const calls = reply.openai?.toolCalls ?? [];
  const toolCalls = calls.map((c) => ({
    id: c.id,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
  return {
    id: `chatcmpl-fake${n}`,
    object: 'chat.completion',
    created: 1_731_000_000 + n,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI answers a turn of tool calls only with a null content
          content: calls.length > 0 && reply.text === '' ? null : reply.text,
          ...(calls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
          annotations: [],
        },
        logprobs: null,
        finish_reason: openaiFinish(reply),
      },
    ],
    usage: openaiUsage(reply),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

function openaiFinish(reply: FakeReply): string {
  return reply.openai?.toolCalls?.length ? 'tool_calls' : OPENAI_FINISH[reply.finishReason];
}

function openaiUsage(reply: FakeReply): object {
  const { input_tokens, output_tokens } = reply.usage;
  return {
    prompt_tokens: input_tokens,
    completion_tokens: output_tokens,
    total_tokens: input_tokens + output_tokens,
    prompt_tokens_details: { cached_tokens: reply.openai?.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reply.openai?.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** A tool call's JSON arguments in three pieces, split anywhere (as OpenAI's tool_calls and Anthropic's input_json_delta stream them). */
function argumentPieces(json: string): string[] {
  const third = Math.ceil(json.length / 3);
  return [json.slice(0, third), json.slice(third, 2 * third), json.slice(2 * third)].filter(Boolean);
}

function openaiFrames(reply: FakeReply, pieces: string[], model: string, n: number, usage: boolean): StreamFrames {
  const base = { id: `chatcmpl-fake${n}`, object: 'chat.completion.chunk', created: 1_731_000_000 + n, model };
  const chunk = (delta: object, finish: string | null) => ({
    ...base,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(usage ? { usage: null } : {}),
  });
  const usageChunk = { ...base, system_fingerprint: 'fp_fake', choices: [], usage: openaiUsage(reply) };
  const toolCalls = (reply.openai?.toolCalls ?? []).flatMap((call, index) => [
    chunk(
      { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
      null,
    ),
    ...argumentPieces(call.arguments).map((args) =>
      chunk({ tool_calls: [{ index, function: { arguments: args } }] }, null),
    ),
  ]);
  return {
    head: [sse(chunk({ role: 'assistant', content: '', refusal: null }, null))],
    deltas: [...pieces.map((text) => chunk({ content: text }, null)), ...toolCalls].map((c) => sse(c)),
    tail: [sse(chunk({}, openaiFinish(reply))), ...(usage ? [sse(usageChunk)] : []), sse('[DONE]')],
  };
}

function anthropicContent(reply: FakeReply): AnthropicFakeBlock[] {
  return reply.anthropic?.content ?? [{ type: 'text', text: reply.text }];
}

function anthropicStopReason(reply: FakeReply): string {
  if (anthropicContent(reply).some((b) => b.type === 'tool_use')) return 'tool_use';
  return ANTHROPIC_STOP[reply.finishReason];
}

function anthropicUsage(reply: FakeReply): Record<string, number> {
  return {
    input_tokens: reply.usage.input_tokens,
    cache_creation_input_tokens: reply.anthropic?.cacheWrite ?? 0,
    cache_read_input_tokens: reply.anthropic?.cacheRead ?? 0,
  };
}

/** One content block's frames: start, deltas, stop. The default text block uses the reply's chunks. */
function anthropicBlockFrames(block: AnthropicFakeBlock, index: number, pieces: string[]): string[] {
  const delta = (d: object): string => sse({ type: 'content_block_delta', index, delta: d }, 'content_block_delta');
  const start = (content_block: object): string =>
    sse({ type: 'content_block_start', index, content_block }, 'content_block_start');
  const stop = sse({ type: 'content_block_stop', index }, 'content_block_stop');
  switch (block.type) {
    case 'text':
      return [start({ type: 'text', text: '' }), ...pieces.map((text) => delta({ type: 'text_delta', text })), stop];
    case 'thinking':
      return [
        start({ type: 'thinking', thinking: '' }),
        ...splitText(block.thinking).map((thinking) => delta({ type: 'thinking_delta', thinking })),
        delta({ type: 'signature_delta', signature: block.signature }),
        stop,
      ];
    case 'redacted_thinking':
      return [start(block), stop];
    case 'tool_use':
      return [
        start({ type: 'tool_use', id: block.id, name: block.name, input: {} }),
        delta({ type: 'input_json_delta', partial_json: '' }),
        ...argumentPieces(JSON.stringify(block.input)).map((partial_json) =>
          delta({ type: 'input_json_delta', partial_json }),
        ),
        stop,
      ];
  }
}

function anthropicFrames(reply: FakeReply, pieces: string[], model: string, n: number): StreamFrames {
  const message = {
    id: `msg_fake${n}`,
    type: 'message',
    role: 'assistant',
    content: [],
    model,
    stop_reason: null,
    stop_sequence: null,
    usage: { ...anthropicUsage(reply), output_tokens: 1 },
  };
  const close = [
    sse(
      {
        type: 'message_delta',
        delta: { stop_reason: anthropicStopReason(reply), stop_sequence: null },
        usage: { output_tokens: reply.usage.output_tokens },
      },
      'message_delta',
    ),
    sse({ type: 'message_stop' }, 'message_stop'),
  ];
  const start = [sse({ type: 'message_start', message }, 'message_start')];
  const scripted = reply.anthropic?.content;
  if (scripted) {
    // Every frame of every block counts as a delta for the cut and stall faults.
    const blocks = scripted.map((block, index) => anthropicBlockFrames(block, index, splitText(textIn(block))));
    return { head: [...start, sse({ type: 'ping' }, 'ping')], deltas: blocks.flat(), tail: close };
  }
  const [open, ...rest] = anthropicBlockFrames({ type: 'text', text: reply.text }, 0, pieces);
  return {
    head: [...start, open, sse({ type: 'ping' }, 'ping')],
    deltas: rest.slice(0, -1),
    tail: [...rest.slice(-1), ...close],
  };
}

/** A scripted text or thinking split after each space, as the default reply is. */
const splitText = (text: string): string[] => chunksOf({ ...DEFAULT_REPLY, text });

const textIn = (block: AnthropicFakeBlock): string => (block.type === 'text' ? block.text : '');

function ollamaFrames(reply: FakeReply, pieces: string[], model: string): StreamFrames {
  const line = (value: object): string => `${JSON.stringify(value)}\n`;
  const at = (): string => new Date().toISOString();
  return {
    head: [],
    deltas: [
      ...(reply.ollama?.thinking ? splitText(reply.ollama.thinking) : []).map((thinking) => ({
        role: 'assistant',
        content: '',
        thinking,
      })),
      ...pieces.map((text) => ({ role: 'assistant', content: text })),
      // Ollama streams each tool call whole, in a line of its own
      ...(reply.ollama?.toolCalls ?? []).map((call) => ({
        role: 'assistant',
        content: '',
        tool_calls: [{ function: call }],
      })),
    ].map((message) => line({ model, created_at: at(), message, done: false })),
    tail: [
      line({
        model,
        created_at: at(),
        message: { role: 'assistant', content: '' },
        done_reason: reply.finishReason,
        done: true,
        total_duration: 4883583458,
        load_duration: 1334875,
        prompt_eval_count: reply.usage.input_tokens,
        prompt_eval_duration: 342546000,
        eval_count: reply.usage.output_tokens,
        eval_duration: 4535599000,
      }),
    ],
  };
}

/** message.tool_calls as Ollama writes them: no ids, the arguments an object. */
function ollamaToolCalls(reply: FakeReply): object {
  const calls = reply.ollama?.toolCalls ?? [];
  return calls.length > 0 ? { tool_calls: calls.map((call) => ({ function: call })) } : {};
}

function echoed<T>(value: Echoed<T>, req: RecordedRequest): T {
  return typeof value === 'function' ? (value as (req: RecordedRequest) => T)(req) : value;
}

/** An error reported inside a stream, as each kind writes it. */
function streamErrorFrame(kind: FakeKind, status: number, message: string): string {
  const error = errorBody(kind, status, message);
  const body = JSON.stringify(
    kind === 'openai' ? { error: { ...(error as { error: object }).error, code: status } } : error,
  );
  if (kind === 'anthropic') return `event: error\ndata: ${body}\n\n`;
  return kind === 'ollama' ? `${body}\n` : `data: ${body}\n\n`;
}

function errorBody(kind: FakeKind, status: number, message: string): unknown {
  switch (kind) {
    case 'openai':
      return {
        error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null },
      };
    case 'anthropic': {
      const types: Record<number, string> = {
        400: 'invalid_request_error',
        401: 'authentication_error',
        403: 'permission_error',
        404: 'not_found_error',
        429: 'rate_limit_error',
        529: 'overloaded_error',
      };
      return { type: 'error', error: { type: types[status] ?? 'api_error', message } };
    }
    case 'ollama':
      return { error: message };
  }
}

function openaiModels(models: string[]): unknown {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 1_715_367_049, owned_by: 'system' })),
  };
}

function anthropicModels(models: string[]): unknown {
  return {
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2024-10-22T00:00:00Z' })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models[models.length - 1] ?? null,
  };
}

/** Ollama's name with its tag: `llama3.2` is `llama3.2:latest`. */
function tagged(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

const CHAT_TEMPLATE =
  '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}' +
  '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n';

/** A model with every field of FakeOllamaModel, the defaults filled in. */
function describedModel(name: string, described: Record<string, FakeOllamaModel>): Required<FakeOllamaModel> {
  const given = described[name] ?? described[tagged(name)] ?? {};
  return {
    size: 2019393189,
    digest: createHash('sha256').update(tagged(name)).digest('hex'),
    family: 'llama',
    parameter_size: '3.2B',
    quantization_level: 'Q4_K_M',
    template: CHAT_TEMPLATE,
    capabilities: ['completion', 'tools'],
    context_length: 131072,
    ...given,
  };
}

function ollamaDetails(model: Required<FakeOllamaModel>): object {
  return {
    parent_model: '',
    format: 'gguf',
    family: model.family,
    families: [model.family],
    parameter_size: model.parameter_size,
    quantization_level: model.quantization_level,
  };
}

function ollamaTags(models: string[], described: Record<string, FakeOllamaModel>): unknown {
  return {
    models: models.map((name) => {
      const model = describedModel(name, described);
      return {
        name: tagged(name),
        model: tagged(name),
        modified_at: '2024-10-22T10:00:00.000000+00:00',
        size: model.size,
        digest: model.digest,
        details: ollamaDetails(model),
      };
    }),
  };
}

/** `POST /api/show` as Ollama answers it (without `verbose`: model_info has no tokenizer arrays). */
function ollamaShow(model: Required<FakeOllamaModel>): unknown {
  const chat = model.capabilities.includes('completion');
  return {
    license: 'LICENSE TEXT',
    modelfile: `# Modelfile generated by "ollama show"\nFROM /models/blobs/sha256-${model.digest}\nTEMPLATE ${JSON.stringify(model.template)}\n`,
    ...(chat
      ? {
          parameters:
            'stop                           "<|start_header_id|>"\nstop                           "<|eot_id|>"',
        }
      : {}),
    template: model.template,
    details: ollamaDetails(model),
    model_info: {
      'general.architecture': model.family,
      'general.file_type': 15,
      'general.parameter_count': 3212749888,
      'general.quantization_version': 2,
      [`${model.family}.context_length`]: model.context_length,
      [`${model.family}.embedding_length`]: 1024,
    },
    capabilities: model.capabilities,
    modified_at: '2024-10-22T10:00:00.000000+00:00',
  };
}

// ---------------------------------------------------------------- plumbing

/** Answers the fake cut on purpose (not the client's doing). */
const serverCuts = new WeakSet<ServerResponse>();

function gone(res: ServerResponse): boolean {
  return res.destroyed || !res.socket || res.socket.destroyed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function recordRequest(req: IncomingMessage, res: ServerResponse, rawBody: string): RecordedRequest {
  let body: unknown;
  try {
    body = rawBody ? (JSON.parse(rawBody) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  let abortedByClient = false;
  let answered = false;
  res.once('finish', () => {
    answered = true;
  });
  const aborted = new Promise<void>((resolve) => {
    res.once('close', () => {
      if (res.writableFinished || serverCuts.has(res)) return;
      abortedByClient = true;
      resolve();
    });
  });
  return {
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0],
    headers: req.headers,
    body,
    rawBody,
    remotePort: req.socket.remotePort,
    receivedAt: Date.now(),
    get abortedByClient() {
      return abortedByClient;
    },
    get answered() {
      return answered;
    },
    aborted,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, 'application/json', JSON.stringify(body));
}

function sendRaw(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
