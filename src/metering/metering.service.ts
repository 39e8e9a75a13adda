import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { ChatMessage, TokenUsage, ToolDefinition } from '../providers/dto/chat';
import { Cost, costOf, costOfUsage, Prices } from './pricing';
import { countChatTokens, countTextTokens, decodeTokens, warmTokenizer } from './tokenizer';

/**
 * Token counts and prices: what a call is estimated to need before it runs, and what it
 * costs in credits afterwards (at CREDITS_PER_USD).
 */
@Injectable()
export class MeteringService {
  private readonly creditsPerUsd: number;

  constructor(config: AppConfig) {
    this.creditsPerUsd = config.CREDITS_PER_USD;
    warmTokenizer();
  }

  /** Cost of plain input and output tokens: an estimate or a hold. */
  cost(prices: Prices, inputTokens: number, outputTokens: number): Cost {
    return costOf(prices, inputTokens, outputTokens, this.creditsPerUsd);
  }

  /** Cost of what an upstream reported: cached input at the cache prices, reasoning as output. */
  usageCost(prices: Prices, usage: TokenUsage): Cost {
    return costOfUsage(prices, usage, this.creditsPerUsd);
  }

  /**
   * Estimated prompt tokens of a chat and its tools (real BPE tokenizer); the provider's usage is what is
   * billed. `auto` (a model routing picks later) is counted as gpt-4o.
   */
  countChatTokens(messages: readonly ChatMessage[], model: string, tools?: readonly ToolDefinition[]): number {
    return countChatTokens(messages, countedAs(model), tools);
  }

  /** The text of a token list in the model's encoding (for upstreams that take text only). */
  decodeTokens(tokens: readonly number[], model: string): string {
    return decodeTokens(tokens, model);
  }

  /** Tokens of a text in the model's encoding (`auto` counted as gpt-4o). */
  countTextTokens(text: string, model: string): number {
    return countTextTokens(text, countedAs(model));
  }
}

/** The model whose tokenizer counts for `model`: `auto`, not yet routed, counts as gpt-4o. */
function countedAs(model: string): string {
  return model === 'auto' ? 'gpt-4o' : model;
}
