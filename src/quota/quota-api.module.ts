import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { QuotaController } from './quota.controller';
import { QuotaModule } from './quota.module';

/**
 * The quota HTTP API. Apart from QuotaModule because AuthModule imports QuotaModule
 * (failed-authentication limits) while this controller needs ProjectsService.
 */
@Module({
  imports: [QuotaModule, AuthModule],
  controllers: [QuotaController],
})
export class QuotaApiModule {}
