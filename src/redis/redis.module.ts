import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from './redis.health';
import { REDIS_METRIC_PROVIDERS, RedisService } from './redis.service';

@Global()
@Module({
  imports: [TerminusModule],
  providers: [RedisService, RedisHealthIndicator, ...REDIS_METRIC_PROVIDERS],
  exports: [RedisService, RedisHealthIndicator],
})
export class RedisModule {}
