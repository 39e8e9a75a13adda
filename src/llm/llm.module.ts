import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LedgerModule } from '../ledger/ledger.module';
import { MeteringModule } from '../metering/metering.module';
import { ProvidersModule } from '../providers/providers.module';
import { QuotaModule } from '../quota/quota.module';
import { RoutingModule } from '../routing/routing.module';
import { AnthropicController } from './anthropic.controller';
import { CallerGuard } from './caller.guard';
import { ChatUseCase } from './chat.usecase';
import { CountTokensUseCase } from './count-tokens.usecase';
import { EmbeddingsUseCase } from './embeddings.usecase';
import { EstimateUseCase } from './estimate.usecase';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyService } from './idempotency.service';
import { LlmStats } from './llm-stats';
import { LLM_METRIC_PROVIDERS, LlmMetrics } from './llm.metrics';
import { OpenAiController } from './openai.controller';
import { ResponsesController } from './responses.controller';

/** The gateway API: the OpenAI- and Anthropic-compatible endpoints; its use cases serve the compat routes too. */
@Module({
  imports: [AuthModule, ProvidersModule, RoutingModule, MeteringModule, QuotaModule, LedgerModule],
  controllers: [OpenAiController, ResponsesController, AnthropicController],
  providers: [
    ChatUseCase,
    CountTokensUseCase,
    EmbeddingsUseCase,
    EstimateUseCase,
    CallerGuard,
    LlmStats,
    LlmMetrics,
    ...LLM_METRIC_PROVIDERS,
    IdempotencyService,
    IdempotencyGuard,
  ],
  exports: [ChatUseCase, EstimateUseCase, LlmStats, CallerGuard, IdempotencyService, IdempotencyGuard],
})
export class LlmModule {}
