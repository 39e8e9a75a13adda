import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { ChatMessage, ToolDefinition } from '../providers/dto/chat';
import { Cost, costOf, Prices } from './pricing';
import { countChatTokens, countTextTokens, warmTokenizer } from './tokenizer';

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

  cost(prices: Prices, inputTokens: number, outputTokens: number): Cost {
    return costOf(prices, inputTokens, outputTokens, this.creditsPerUsd);
  }

  /** Estimated prompt tokens of a chat and its tools (real BPE tokenizer); the provider's usage is what is billed. */
  countChatTokens(messages: readonly ChatMessage[], model: string, tools?: readonly ToolDefinition[]): number {
    return countChatTokens(messages, model, tools);
  }

  countTextTokens(text: string, model: string): number {
    return countTextTokens(text, model);
  }
}
