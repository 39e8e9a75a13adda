import { Injectable } from '@nestjs/common';
import { MeteringService } from '../metering/metering.service';
import type { ChatMessage, ToolDefinition } from '../providers/dto/chat';
import { RoutingService } from '../routing/routing.service';

/**
 * How many input tokens a chat would be counted at: the estimate its budget hold is made with (a real BPE
 * tokenizer; for Anthropic models an approximation of Anthropic's own count). Nothing is called or billed.
 */
@Injectable()
export class CountTokensUseCase {
  constructor(
    private readonly routing: RoutingService,
    private readonly metering: MeteringService,
  ) {}

  /** Throws model_not_found for a model that is not served (by name or alias); `auto` counts as the chat does. */
  count(model: string, messages: readonly ChatMessage[], tools?: readonly ToolDefinition[]): number {
    // model_not_found for a model that no instance serves, as a chat answers.
    if (model !== 'auto') this.routing.servedListing(model);
    return this.metering.countChatTokens(messages, model, tools);
  }
}
