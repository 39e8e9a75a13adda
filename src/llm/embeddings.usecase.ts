import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { LedgerService } from '../ledger/ledger.service';
import { UpstreamError } from '../common/upstream/upstream-error';
import { ProvidersService } from '../providers/providers.service';
import { QuotaService } from '../quota/quota.service';
import type { Cost } from '../metering/metering.api';
import { MeteringService } from '../metering/metering.service';
import type { Candidate } from '../routing/routing.api';
import { RoutingService } from '../routing/routing.service';
import { ledgerRow } from './ledger-row';
import type { Caller } from './caller';
import { attemptSpan, servedBy } from './request-spans';
import { type AttemptFailure, exhaustedError } from './upstream-failure';

export interface EmbeddingsCommand {
  requestId: string;
  caller: Caller;
  model: string;
  /** Texts, or token lists (as LangChain sends them by default). */
  inputs: string[] | number[][];
  /** The length of the vectors, for models that can shorten them. */
  dimensions?: number;
  idempotencyKey: string | null;
  signal: AbortSignal;
}

export interface EmbeddingsOutcome {
  vectors: number[][];
  inputTokens: number;
  candidate: Candidate;
  attempts: number;
  cost: Cost;
}

function isTokenLists(inputs: string[] | number[][]): inputs is number[][] {
  return inputs.length > 0 && Array.isArray(inputs[0]);
}

/** Embeddings: route → reserve → call with fallbacks → settle → ledger, like chat without output. */
@Injectable()
export class EmbeddingsUseCase {
  private readonly logger = new Logger(EmbeddingsUseCase.name);

  constructor(
    private readonly routing: RoutingService,
    private readonly metering: MeteringService,
    private readonly providers: ProvidersService,
    private readonly quota: QuotaService,
    private readonly ledger: LedgerService,
    private readonly config: AppConfig,
  ) {}

  async execute(cmd: EmbeddingsCommand): Promise<EmbeddingsOutcome> {
    const estimateModel = cmd.model === 'auto' ? 'text-embedding-3-small' : cmd.model;
    const tokens = isTokenLists(cmd.inputs) ? cmd.inputs : undefined;
    const texts = tokens
      ? tokens.map((list) => this.metering.decodeTokens(list, estimateModel))
      : (cmd.inputs as string[]);
    const inputTokens = tokens
      ? tokens.reduce((n, list) => n + list.length, 0)
      : texts.reduce((n, text) => n + this.metering.countTextTokens(text, estimateModel), 0);
    const plan = this.routing.plan({
      model: cmd.model,
      strategy: 'cost_optimized',
      modality: 'embeddings',
      inputTokens,
      outputTokens: 0,
      vision: false,
    });
    const worst = Math.max(...plan.candidates.map((c) => this.metering.cost(c.model, inputTokens, 0).micro_credits));
    const reservation = await this.quota.reserve({
      request_id: cmd.requestId,
      project_id: cmd.caller.projectId,
      api_key_id: cmd.caller.apiKeyId,
      micro_credits: worst,
      tokens: inputTokens,
    });
    const failures: AttemptFailure[] = [];
    for (const [index, candidate] of plan.candidates.entries()) {
      const started = performance.now();
      try {
        const result = await this.providers.embed(
          candidate.instanceId,
          { model: candidate.upstreamModel, input: texts, tokens, dimensions: cmd.dimensions },
          {
            signal: cmd.signal,
            deadline: Date.now() + this.config.GATEWAY_DEADLINE_MS,
            span: attemptSpan(cmd.caller, index + 1),
          },
        );
        const used = result.usage?.input_tokens ?? inputTokens;
        const cost = this.metering.cost(candidate.model, used, 0);
        await this.quota.settle(reservation, cost.micro_credits, used);
        this.record(cmd, candidate, index + 1, used, cost.micro_credits, performance.now() - started, null);
        servedBy(cmd.caller, candidate, index + 1, cost);
        return { vectors: result.vectors, inputTokens: used, candidate, attempts: index + 1, cost };
      } catch (err) {
        const errorClass = err instanceof UpstreamError ? err.errorClass : 'internal';
        failures.push({ provider: candidate.instanceId, model: candidate.model.name, error_class: errorClass });
        this.record(cmd, candidate, index + 1, 0, 0, performance.now() - started, errorClass);
        if (err instanceof UpstreamError && err.retryable && !cmd.signal.aborted) continue;
        await this.quota.release(reservation);
        if (err instanceof UpstreamError && err.errorClass === 'http_4xx') {
          throw new AppError('bad_request', `The upstream refused the request: ${err.message}`);
        }
        throw err;
      }
    }
    await this.quota.release(reservation);
    throw exhaustedError(failures);
  }

  private record(
    cmd: EmbeddingsCommand,
    candidate: Candidate,
    attempt: number,
    inputTokens: number,
    microCredits: number,
    latencyMs: number,
    errorClass: string | null,
  ): void {
    const ref = { ...cmd, endpoint: '/v1/embeddings' };
    const record = {
      attempt,
      provider: candidate.instanceId,
      model: candidate.model.name,
      usage: { input_tokens: inputTokens, output_tokens: 0 },
      microCredits,
      latencyMs,
      errorClass,
    };
    this.ledger
      .record(ledgerRow(ref, record, this.config.CREDITS_PER_USD))
      .catch((err: unknown) => this.logger.error({ err }, 'ledger append failed'));
  }
}
