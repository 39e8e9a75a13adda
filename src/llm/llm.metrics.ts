import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import type { TokenUsage } from '../providers/dto/chat';

const TOKENS = 'conflux_llm_tokens_total';
const CREDITS = 'conflux_llm_credits_total';
const REQUESTS = 'conflux_llm_requests_total';
const FALLBACKS = 'conflux_llm_fallbacks_total';
const TIME_TO_FIRST_TOKEN = 'conflux_llm_time_to_first_token_seconds';
const OVERHEAD = 'conflux_llm_overhead_seconds';

/** Gateway-side times: from sub-millisecond to the seconds a slow quota store or tokenizer could add. */
const GATEWAY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/**
 * Label values are provider instance ids, catalog model names and project ids (bounded by what
 * administrators create), never request ids, keys or anything a caller chooses freely.
 */
export const LLM_METRIC_PROVIDERS = [
  makeCounterProvider({
    name: TOKENS,
    help:
      'Tokens billed, by provider instance, model, direction and project. direction: input, output (totals); ' +
      'cached_input, cache_write_input (parts of input), reasoning (part of output): never sum all directions',
    labelNames: ['provider', 'model', 'direction', 'project'],
  }),
  makeCounterProvider({
    name: CREDITS,
    help: 'Credits billed, by provider instance, model and project',
    labelNames: ['provider', 'model', 'project'],
  }),
  makeCounterProvider({
    name: REQUESTS,
    help: 'Chat requests served (billed once each, streams included), by provider instance, model and project',
    labelNames: ['provider', 'model', 'project'],
  }),
  makeCounterProvider({
    name: FALLBACKS,
    help: 'Attempts that failed and fell through to the next candidate, by provider, model and error class',
    labelNames: ['provider', 'model', 'error_class'],
  }),
  makeHistogramProvider({
    name: TIME_TO_FIRST_TOKEN,
    help: 'Streamed chats: time from the start of the chat flow to the first upstream event, by serving instance and model',
    labelNames: ['provider', 'model'],
    buckets: FIRST_TOKEN_BUCKETS,
  }),
  makeHistogramProvider({
    name: OVERHEAD,
    help:
      'Time the gateway added to a chat: the chat flow until the answer (streams: the first event) minus the ' +
      'time spent waiting on upstream attempts, by serving instance and model',
    labelNames: ['provider', 'model'],
    buckets: GATEWAY_BUCKETS,
  }),
];

/** Parts of the billed usage exported besides input and output (0 when the upstream reported none). */
const USAGE_PARTS = [
  ['cached_input', 'cached_input_tokens'],
  ['cache_write_input', 'cache_write_input_tokens'],
  ['reasoning', 'reasoning_tokens'],
] as const;

/** Billing, fallback and latency metrics of the gateway (upstream call metrics live in the providers module). */
@Injectable()
export class LlmMetrics {
  constructor(
    @InjectMetric(TOKENS) private readonly tokens: Counter<string>,
    @InjectMetric(CREDITS) private readonly credits: Counter<string>,
    @InjectMetric(REQUESTS) private readonly requests: Counter<string>,
    @InjectMetric(FALLBACKS) private readonly fallbacks: Counter<string>,
    @InjectMetric(TIME_TO_FIRST_TOKEN) private readonly firstToken: Histogram<string>,
    @InjectMetric(OVERHEAD) private readonly overhead: Histogram<string>,
  ) {}

  billed(project: string, provider: string, model: string, usage: TokenUsage, credits: number): void {
    this.tokens.inc({ provider, model, direction: 'input', project }, usage.input_tokens);
    this.tokens.inc({ provider, model, direction: 'output', project }, usage.output_tokens);
    for (const [direction, field] of USAGE_PARTS) {
      this.tokens.inc({ provider, model, direction, project }, usage[field] ?? 0);
    }
    this.credits.inc({ provider, model, project }, credits);
    this.requests.inc({ provider, model, project });
  }

  fellThrough(provider: string, model: string, errorClass: string): void {
    this.fallbacks.inc({ provider, model, error_class: errorClass });
  }

  /** A stream's first event, `seconds` after the chat flow started. */
  firstEvent(provider: string, model: string, seconds: number): void {
    this.firstToken.observe({ provider, model }, seconds);
  }

  /** What the gateway added to a chat, in seconds (never below zero). */
  added(provider: string, model: string, seconds: number): void {
    this.overhead.observe({ provider, model }, Math.max(0, seconds));
  }
}
