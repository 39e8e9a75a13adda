import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ForecastingModule } from '../forecasting/forecasting.module';
import { MlModule } from '../ml/ml.module';
import { ProvidersModule } from '../providers/providers.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { READINESS_METRIC_PROVIDERS, ReadinessService } from './readiness.service';

@Module({
  imports: [
    TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
    ProvidersModule,
    MlModule,
    ForecastingModule,
  ],
  controllers: [HealthController],
  providers: [HealthService, ReadinessService, ...READINESS_METRIC_PROVIDERS],
  exports: [HealthService],
})
export class HealthModule {}
