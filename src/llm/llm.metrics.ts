import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import type { TokenUsage } from '../providers/dto/chat';

const TOKENS = 'conflux_llm_tokens_total';
const CREDITS = 'conflux_llm_credits_total';
const FALLBACKS = 'conflux_llm_fallbacks_total';

export const LLM_METRIC_PROVIDERS = [
  makeCounterProvider({
    name: TOKENS,
    help: 'Tokens billed, by provider instance, model and direction (input or output)',
    labelNames: ['provider', 'model', 'direction'],
  }),
  makeCounterProvider({
    name: CREDITS,
    help: 'Credits billed, by provider instance and model',
    labelNames: ['provider', 'model'],
  }),
  makeCounterProvider({
    name: FALLBACKS,
    help: 'Attempts that failed and fell through to the next candidate, by provider, model and error class',
    labelNames: ['provider', 'model', 'error_class'],
  }),
];

/** Billing and fallback metrics of the gateway (upstream call metrics live in the providers module). */
@Injectable()
export class LlmMetrics {
  constructor(
    @InjectMetric(TOKENS) private readonly tokens: Counter<string>,
    @InjectMetric(CREDITS) private readonly credits: Counter<string>,
    @InjectMetric(FALLBACKS) private readonly fallbacks: Counter<string>,
  ) {}

  billed(provider: string, model: string, usage: TokenUsage, credits: number): void {
    this.tokens.inc({ provider, model, direction: 'input' }, usage.input_tokens);
    this.tokens.inc({ provider, model, direction: 'output' }, usage.output_tokens);
    this.credits.inc({ provider, model }, credits);
  }

  fellThrough(provider: string, model: string, errorClass: string): void {
    this.fallbacks.inc({ provider, model, error_class: errorClass });
  }
}
