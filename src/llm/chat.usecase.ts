import { extend } from '../common/extend';
import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { LedgerEntry } from '../ledger/dto/ledger-entry';
import { ledgerRow } from './ledger-row';
import { LedgerService } from '../ledger/ledger.service';
import type {
  ChatMessage,
  ChatParameters,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  FinishReason,
  ResponseFormat,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from '../providers/dto/chat';
import { UpstreamError } from '../common/upstream/upstream-error';
import { ProvidersService } from '../providers/providers.service';
import type { Reservation } from '../quota/dto/quota';
import { QuotaService } from '../quota/quota.service';
import type { Cost } from '../metering/metering.api';
import { MeteringService } from '../metering/metering.service';
import type { Candidate, Strategy } from '../routing/routing.api';
import { RoutingService } from '../routing/routing.service';
import type { Caller } from './caller';
import { LlmMetrics } from './llm.metrics';
import { LlmStats } from './llm-stats';
import type { RequestContext } from './request-context';
import { attemptSpan, servedBy } from './request-spans';
import { type AttemptFailure, exhaustedError } from './upstream-failure';

/** One chat request, from any of the chat-shaped endpoints. */
export interface ChatCommand {
  requestId: string;
  caller: Caller;
  /** Route template, recorded in the ledger. */
  endpoint: string;
  /** A model, an alias or `auto`. */
  model: string;
  strategy: Strategy;
  messages: ChatMessage[];
  /** Absent: none is sent, and the hold covers the model's maximum output. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** The other sampling and output parameters, as the client set them. */
  parameters?: ChatParameters;
  /** Unmodelled fields of an OpenAI-style body, for OpenAI-kind upstreams. */
  extra?: Record<string, unknown>;
  vision: boolean;
  idempotencyKey: string | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** The fields of a ChatCommand that a dialect's body gives (the rest come from the request). */
export type ChatCommandFields = Omit<ChatCommand, keyof RequestContext>;

/** A ChatCommand from the request's context and the fields a dialect read from its body. */
export function chatCommand(ctx: RequestContext, fields: ChatCommandFields): ChatCommand {
  return extend(ctx, fields);
}

export interface ChatOutcome {
  text: string;
  toolCalls?: ToolCall[];
  thinking?: ChatResult['thinking'];
  logprobs?: unknown;
  finish: FinishReason;
  usage: TokenUsage;
  cost: Cost;
  candidate: Candidate;
  attempts: number;
  latencyMs: number;
}

/** An upstream stream that has produced its first event: headers can be sent now. */
export interface OpenStream {
  candidate: Candidate;
  attempts: number;
  inputTokens: number;
  /** When the stream is cut, whatever still arrives (ms since epoch). */
  deadline: number;
  /**
   * The events, the first included. Ends by throwing UpstreamError('stream_cut') on a cut, and
   * UpstreamError('deadline_exceeded') when the deadline passed first.
   */
  events: AsyncGenerator<ChatStreamEvent, void, undefined>;
  /** Resolves once the stream is over and billed, with what was billed. */
  settled: Promise<StreamBill>;
}

type StreamBill = { usage: TokenUsage; cost: Cost; finish: FinishReason | null };

interface StreamRun {
  cmd: ChatCommand;
  prep: Prepared;
  candidate: Candidate;
  attempt: number;
  started: number;
  iterator: AsyncIterator<ChatStreamEvent, unknown>;
  first: IteratorResult<ChatStreamEvent, unknown>;
  settle: (bill: StreamBill) => void;
}

interface Prepared {
  inputTokens: number;
  candidates: Candidate[];
  reservation: Reservation;
  deadline: number;
  /** When a stream past its first event is cut. */
  streamDeadline: number;
  started: number;
  /** When the chat flow started (performance.now()), for the gateway's own latency metrics. */
  flowStarted: number;
}

/**
 * The gateway's one long flow: estimate → route → reserve → call with fallbacks →
 * settle → ledger. Every attempt leaves a ledger row; money held for a request is
 * always settled or released, whatever happens.
 */
@Injectable()
export class ChatUseCase {
  private readonly logger = new Logger(ChatUseCase.name);

  constructor(
    private readonly routing: RoutingService,
    private readonly metering: MeteringService,
    private readonly providers: ProvidersService,
    private readonly quota: QuotaService,
    private readonly ledger: LedgerService,
    private readonly stats: LlmStats,
    private readonly metrics: LlmMetrics,
    private readonly config: AppConfig,
  ) {}

  async execute(cmd: ChatCommand): Promise<ChatOutcome> {
    const prep = await this.prepare(cmd);
    const failures: AttemptFailure[] = [];
    let upstreamMs = 0;
    for (const [index, candidate] of prep.candidates.entries()) {
      const attempt = index + 1;
      const started = performance.now();
      try {
        const result = await this.providers.chat(candidate.instanceId, this.upstreamRequest(cmd, candidate), {
          signal: cmd.signal,
          deadline: prep.deadline,
          span: attemptSpan(cmd.caller, attempt),
        });
        const latencyMs = performance.now() - started;
        const usage = result.usage ?? this.countedUsage(prep.inputTokens, producedText(result), candidate);
        const cost = await this.bill(cmd, prep, candidate, attempt, usage, latencyMs, null, 'after_answer');
        const gatewayMs = performance.now() - prep.flowStarted - upstreamMs - latencyMs;
        this.metrics.added(candidate.instanceId, candidate.model.name, gatewayMs / 1000);
        servedBy(cmd.caller, candidate, attempt, cost);
        return {
          text: result.text,
          toolCalls: result.tool_calls,
          thinking: result.thinking,
          logprobs: result.logprobs,
          finish: result.finish_reason,
          usage,
          cost,
          candidate,
          attempts: attempt,
          latencyMs,
        };
      } catch (err) {
        upstreamMs += performance.now() - started;
        await this.failedAttempt(cmd, prep, candidate, attempt, started, err, failures);
      }
    }
    await this.quota.release(prep.reservation);
    throw exhaustedError(failures);
  }

  /**
   * Tries candidates until one stream yields its first event (failures before the
   * first token fall through to the next candidate), then hands the stream over.
   */
  async openStream(cmd: ChatCommand): Promise<OpenStream> {
    const prep = await this.prepare(cmd);
    const failures: AttemptFailure[] = [];
    let upstreamMs = 0;
    for (const [index, candidate] of prep.candidates.entries()) {
      const attempt = index + 1;
      const started = performance.now();
      const upstream = this.providers.chatStream(candidate.instanceId, this.upstreamRequest(cmd, candidate), {
        signal: cmd.signal,
        deadline: prep.deadline,
        streamDeadline: prep.streamDeadline,
        span: attemptSpan(cmd.caller, attempt),
      });
      const iterator = upstream[Symbol.asyncIterator]();
      let first: IteratorResult<ChatStreamEvent, unknown>;
      try {
        first = await iterator.next();
      } catch (err) {
        upstreamMs += performance.now() - started;
        await this.failedAttempt(cmd, prep, candidate, attempt, started, err, failures);
        continue;
      }
      const now = performance.now();
      this.metrics.firstEvent(candidate.instanceId, candidate.model.name, (now - prep.flowStarted) / 1000);
      this.metrics.added(
        candidate.instanceId,
        candidate.model.name,
        (now - prep.flowStarted - upstreamMs - (now - started)) / 1000,
      );
      servedBy(cmd.caller, candidate, attempt);
      return this.handOver(cmd, prep, candidate, attempt, started, iterator, first);
    }
    await this.quota.release(prep.reservation);
    throw exhaustedError(failures);
  }

  /**
   * Records a failed attempt. Returns when the next candidate may be tried; otherwise
   * releases the hold and throws the error to answer with.
   */
  private async failedAttempt(
    cmd: ChatCommand,
    prep: Prepared,
    candidate: Candidate,
    attempt: number,
    started: number,
    err: unknown,
    failures: AttemptFailure[],
  ): Promise<void> {
    const errorClass = err instanceof UpstreamError ? err.errorClass : 'internal';
    failures.push({ provider: candidate.instanceId, model: candidate.model.name, error_class: errorClass });
    const noUsage = { input_tokens: 0, output_tokens: 0 };
    this.recordAttempt(cmd, candidate, attempt, noUsage, 0, performance.now() - started, errorClass);
    if (err instanceof UpstreamError && err.retryable && !cmd.signal.aborted) {
      this.metrics.fellThrough(candidate.instanceId, candidate.model.name, errorClass);
      return;
    }
    await this.quota.release(prep.reservation);
    throw this.clientError(err, failures);
  }

  private handOver(
    cmd: ChatCommand,
    prep: Prepared,
    candidate: Candidate,
    attempt: number,
    started: number,
    iterator: AsyncIterator<ChatStreamEvent, unknown>,
    first: IteratorResult<ChatStreamEvent, unknown>,
  ): OpenStream {
    let resolveSettled!: (v: StreamBill) => void;
    const settled = new Promise<StreamBill>((r) => (resolveSettled = r));
    const run: StreamRun = { cmd, prep, candidate, attempt, started, iterator, first, settle: resolveSettled };
    return {
      candidate,
      attempts: attempt,
      inputTokens: prep.inputTokens,
      deadline: prep.streamDeadline,
      events: this.relay(run),
      settled,
    };
  }

  /** Relays upstream events to the caller; whatever ends the stream, what was produced is billed once. */
  private async *relay(run: StreamRun): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const { cmd, prep, candidate, attempt, started, iterator } = run;
    // Everything the model produced (text, tool calls, thinking), counted when the upstream reports no usage.
    let produced = '';
    let reported: TokenUsage | undefined;
    let finish: FinishReason | null = null;
    let errorClass: string | null = null;
    let current = run.first;
    try {
      while (!current.done) {
        const event = current.value;
        if (event.type === 'delta') produced += event.text;
        else if (event.type === 'tool_call') produced += (event.name ?? '') + event.arguments;
        else if (event.type === 'thinking') produced += event.thinking ?? '';
        else if (event.type === 'usage') reported = event.usage;
        else if (event.type === 'finish') finish = event.finish_reason;
        yield event;
        current = await iterator.next();
      }
    } catch (err) {
      if (cmd.signal.aborted) errorClass = 'client_disconnected';
      else errorClass = err instanceof UpstreamError ? err.errorClass : 'internal';
      throw err;
    } finally {
      if (!current.done) await iterator.return?.(undefined).catch(() => undefined);
      if (errorClass === null && finish === null) errorClass = this.unfinished(cmd, prep);
      // What was produced is billed: the reported usage, else the streamed output counted.
      const usage = reported ?? this.countedUsage(prep.inputTokens, produced, candidate);
      const latencyMs = performance.now() - started;
      const cost = await this.bill(cmd, prep, candidate, attempt, usage, latencyMs, errorClass).catch(
        (err: unknown) => {
          this.logger.error({ err }, 'billing a stream failed');
          return this.metering.usageCost(candidate.model, usage);
        },
      );
      servedBy(cmd.caller, candidate, attempt, cost);
      run.settle({ usage, cost, finish });
    }
  }

  /** Why a stream the caller stopped reading is over: its deadline passed (a client too slow to read it), or it left. */
  private unfinished(cmd: ChatCommand, prep: Prepared): string {
    if (Date.now() >= prep.streamDeadline) return 'deadline_exceeded';
    return cmd.signal.aborted ? 'client_disconnected' : 'incomplete';
  }

  private async prepare(cmd: ChatCommand): Promise<Prepared> {
    const flowStarted = performance.now();
    const started = Date.now();
    const inputTokens = this.metering.countChatTokens(cmd.messages, cmd.model, cmd.tools);
    let plan;
    try {
      plan = this.routing.plan({
        model: cmd.model,
        strategy: cmd.strategy,
        modality: 'chat',
        inputTokens,
        // Without a limit the answer fits in whatever context the input leaves.
        outputTokens: cmd.maxTokens ?? 0,
        vision: cmd.vision,
      });
    } catch (err) {
      this.recordRejection(cmd, err);
      throw err;
    }
    // Without a limit, a model may answer up to its catalog maximum: that is what the hold covers.
    const outputOf = (c: Candidate): number => cmd.maxTokens ?? c.model.max_output_tokens;
    const maxTokens = Math.max(...plan.candidates.map(outputOf));
    // The hold covers the dearest candidate, whichever ends up serving.
    const worst = Math.max(
      ...plan.candidates.map((c) => this.metering.cost(c.model, inputTokens, outputOf(c)).micro_credits),
    );
    let reservation: Reservation;
    try {
      reservation = await this.quota.reserve({
        request_id: cmd.requestId,
        project_id: cmd.caller.projectId,
        api_key_id: cmd.caller.apiKeyId,
        micro_credits: worst,
        tokens: inputTokens + maxTokens,
      });
    } catch (err) {
      this.recordRejection(cmd, err);
      throw err;
    }
    return {
      inputTokens,
      candidates: plan.candidates,
      reservation,
      deadline: started + this.config.GATEWAY_DEADLINE_MS,
      streamDeadline: started + this.config.streamDeadlineMs,
      started,
      flowStarted,
    };
  }

  private upstreamRequest(cmd: ChatCommand, candidate: Candidate): ChatRequest {
    return extend(cmd.parameters ?? {}, {
      model: candidate.upstreamModel,
      messages: cmd.messages,
      max_tokens: cmd.maxTokens,
      max_tokens_field: candidate.model.max_tokens_field,
      max_output_tokens: candidate.model.max_output_tokens,
      temperature: cmd.temperature,
      top_p: cmd.topP,
      stop: cmd.stop,
      tools: cmd.tools,
      tool_choice: cmd.toolChoice,
      parallel_tool_calls: cmd.parallelToolCalls,
      response_format: cmd.responseFormat,
      extra: cmd.extra,
    });
  }

  private countedUsage(inputTokens: number, text: string, candidate: Candidate): TokenUsage {
    return { input_tokens: inputTokens, output_tokens: this.metering.countTextTokens(text, candidate.model.name) };
  }

  /**
   * Settles the hold at the real cost and appends the attempt's ledger row. A JSON answer
   * goes out while the settle is under way (`after_answer`): the hold keeps covering the
   * request until it lands, so no budget can be overspent meanwhile, and a failed write
   * is queued and replayed by the quota store.
   */
  private async bill(
    cmd: ChatCommand,
    prep: Prepared,
    candidate: Candidate,
    attempt: number,
    usage: TokenUsage,
    latencyMs: number,
    errorClass: string | null,
    settle: 'before_answer' | 'after_answer' = 'before_answer',
  ): Promise<Cost> {
    const cost = this.metering.usageCost(candidate.model, usage);
    // The ledger row and the settle leave in the same tick: one write to Redis for both.
    this.recordAttempt(cmd, candidate, attempt, usage, cost.micro_credits, latencyMs, errorClass);
    const settled = this.quota.settle(prep.reservation, cost.micro_credits, usage.input_tokens + usage.output_tokens);
    this.metrics.billed(cmd.caller.projectId, candidate.instanceId, candidate.model.name, usage, cost.credits);
    if (errorClass === null) this.routing.observe(candidate.instanceId, candidate.model.name, latencyMs);
    if (settle === 'before_answer') await settled;
    else settled.catch((err: unknown) => this.logger.error({ err, request_id: cmd.requestId }, 'settle failed'));
    return cost;
  }

  private recordAttempt(
    cmd: ChatCommand,
    candidate: Candidate,
    attempt: number,
    usage: TokenUsage,
    microCredits: number,
    latencyMs: number,
    errorClass: string | null,
  ): void {
    this.stats.observe(candidate.instanceId, errorClass === null, latencyMs, usage);
    const record = {
      attempt,
      provider: candidate.instanceId,
      model: candidate.model.name,
      usage,
      microCredits,
      latencyMs,
      errorClass,
    };
    this.append(ledgerRow(cmd, record, this.config.CREDITS_PER_USD));
  }

  /** A request refused before any upstream call (budget, rate, routing) is recorded as attempt 0. */
  private recordRejection(cmd: ChatCommand, err: unknown): void {
    const record = {
      attempt: 0,
      provider: null,
      model: null,
      usage: { input_tokens: 0, output_tokens: 0 },
      microCredits: 0,
      latencyMs: 0,
      errorClass: err instanceof AppError ? err.code : 'internal',
    };
    this.append(ledgerRow(cmd, record, this.config.CREDITS_PER_USD));
  }

  private append(entry: LedgerEntry): void {
    this.ledger.record(entry).catch((err: unknown) => this.logger.error({ err }, 'ledger append failed'));
  }

  private clientError(err: unknown, failures: object[]): Error {
    if (err instanceof UpstreamError && err.errorClass === 'http_4xx') {
      return new AppError('bad_request', `The upstream refused the request: ${err.message}`, {
        details: { attempts: failures },
      });
    }
    if (err instanceof UpstreamError && err.errorClass === 'aborted') {
      return new AppError('bad_request', 'The request was aborted by the client', { details: { attempts: failures } });
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** What an answer produced, as text to count: its text, tool calls and thinking. */
function producedText(result: ChatResult): string {
  const calls = (result.tool_calls ?? []).map((c) => c.function.name + c.function.arguments);
  const thinking = (result.thinking ?? []).map((t) => (t.type === 'thinking' ? t.thinking : ''));
  return [...thinking, result.text, ...calls].join('');
}
