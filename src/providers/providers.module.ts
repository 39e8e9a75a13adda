import { Module } from '@nestjs/common';
import { ProviderMetrics, providerMetricProviders } from './providers.metrics';
import { ProvidersService } from './providers.service';

/**
 * Upstream provider instances (PROVIDERS_FILE): translation per kind, one transport, breaker and
 * retry policy for all. Exports ProvidersService only; its contracts live in dto/.
 */
@Module({
  providers: [...providerMetricProviders, ProviderMetrics, ProvidersService],
  exports: [ProvidersService],
})
export class ProvidersModule {}
