import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { READINESS_METRIC_PROVIDERS, ReadinessService } from './readiness.service';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [ReadinessService, ...READINESS_METRIC_PROVIDERS],
})
export class HealthModule {}
