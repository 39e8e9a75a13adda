import { Module } from '@nestjs/common';
import { MeteringService } from './metering.service';

/** Tokenizer and pricing. */
@Module({
  providers: [MeteringService],
  exports: [MeteringService],
})
export class MeteringModule {}
