import { Injectable } from '@nestjs/common';
import type { Cost } from '../metering/metering.api';
import { MeteringService } from '../metering/metering.service';
import type { Candidate, Strategy } from '../routing/routing.api';
import { RoutingService } from '../routing/routing.service';

export interface EstimateQuery {
  /** A model, an alias or `auto`. */
  model: string;
  strategy: Strategy;
  modality: 'chat' | 'embeddings' | 'vision';
  /** Counted from `prompt` when absent. */
  inputTokens?: number;
  prompt?: string;
  /** The primary model's max_output_tokens for chat, 0 for embeddings, when absent. */
  outputTokens?: number;
}

export interface QuotedCandidate {
  candidate: Candidate;
  cost: Cost;
}

export interface Quote {
  inputTokens: number;
  outputTokens: number;
  primary: QuotedCandidate;
  fallbacks: QuotedCandidate[];
}

/**
 * What a request would cost: the plan it would get and the price of each candidate, without
 * calling anything. A model no instance serves (or every model, when none is configured) is
 * priced from the catalog; its candidates name no provider.
 */
@Injectable()
export class EstimateUseCase {
  constructor(
    private readonly routing: RoutingService,
    private readonly metering: MeteringService,
  ) {}

  quote(query: EstimateQuery): Quote {
    const inputTokens = query.inputTokens ?? this.metering.countTextTokens(query.prompt ?? '', query.model);
    const plan = this.routing.catalogPlan({
      model: query.model,
      strategy: query.strategy,
      modality: query.modality === 'embeddings' ? 'embeddings' : 'chat',
      inputTokens,
      outputTokens: query.outputTokens ?? 0,
      vision: query.modality === 'vision',
    });
    const outputTokens =
      query.outputTokens ?? (query.modality === 'embeddings' ? 0 : plan.candidates[0].model.max_output_tokens);
    const [primary, ...fallbacks] = plan.candidates.map((candidate) => ({
      candidate,
      cost: this.metering.cost(candidate.model, inputTokens, outputTokens),
    }));
    return { inputTokens, outputTokens, primary, fallbacks };
  }
}
