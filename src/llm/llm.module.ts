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
import { EmbeddingsUseCase } from './embeddings.usecase';
import { EstimateUseCase } from './estimate.usecase';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyService } from './idempotency.service';
import { LegacyController } from './legacy.controller';
import { LlmStats } from './llm-stats';
import { LLM_METRIC_PROVIDERS, LlmMetrics } from './llm.metrics';
import { OpenAiController } from './openai.controller';
import { ResponsesController } from './responses.controller';

/** The gateway API: OpenAI- and Anthropic-compatible endpoints and the legacy contracts. */
@Module({
  imports: [AuthModule, ProvidersModule, RoutingModule, MeteringModule, QuotaModule, LedgerModule],
  controllers: [OpenAiController, ResponsesController, AnthropicController, LegacyController],
  providers: [
    ChatUseCase,
    EmbeddingsUseCase,
    EstimateUseCase,
    CallerGuard,
    LlmStats,
    LlmMetrics,
    ...LLM_METRIC_PROVIDERS,
    IdempotencyService,
    IdempotencyGuard,
  ],
})
export class LlmModule {}
