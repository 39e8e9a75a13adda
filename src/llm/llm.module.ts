import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { LedgerModule } from '../ledger/ledger.module';
import { ProvidersModule } from '../providers/providers.module';
import { QuotaModule } from '../quota/quota.module';
import { RoutingModule } from '../routing/routing.module';
import { AnthropicController } from './anthropic.controller';
import { CallerService } from './caller.service';
import { ChatUseCase } from './chat.usecase';
import { EmbeddingsUseCase } from './embeddings.usecase';
import { GatewayStats } from './gateway-stats';
import { GATEWAY_METRIC_PROVIDERS, GatewayMetrics } from './gateway.metrics';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyService } from './idempotency.service';
import { LegacyController } from './legacy.controller';
import { OpenAiController } from './openai.controller';

/** The gateway API: OpenAI- and Anthropic-compatible endpoints and the legacy contracts. */
@Module({
  imports: [AuthModule, ProvidersModule, RoutingModule, QuotaModule, LedgerModule],
  controllers: [OpenAiController, AnthropicController, LegacyController],
  providers: [
    ChatUseCase,
    EmbeddingsUseCase,
    CallerService,
    GatewayStats,
    GatewayMetrics,
    ...GATEWAY_METRIC_PROVIDERS,
    IdempotencyService,
    IdempotencyGuard,
  ],
})
export class LlmModule {}
