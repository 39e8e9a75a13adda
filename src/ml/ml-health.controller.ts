import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/decorators';
import { NoRateLimit } from '../rate-limit/rate-limit.guard';
import { MlHealthDto } from './dto/predict.dto';
import { MlService } from './ml.service';

/** The ML Model Server's health route: public, like every probe. */
@ApiTags('ml')
@Public()
@NoRateLimit()
@Controller()
export class MlHealthController {
  constructor(private readonly ml: MlService) {}

  @Get('api/ml/health')
  @ApiOperation({ summary: 'Model serving health: status, models loaded, uptime' })
  @ApiOkResponse({ type: MlHealthDto })
  health(): MlHealthDto {
    return this.ml.health();
  }
}
