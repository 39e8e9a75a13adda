import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { clientGoneWhenAsked } from '../common/http/client-gone';
import {
  FeedbackRequestDto,
  FeedbackResponseDto,
  PredictBatchItemErrorDto,
  PredictBatchRequestDto,
  PredictBatchResponseDto,
  PredictRequestDto,
  PredictResponseDto,
} from './dto/predict.dto';
import { type BatchItemResult, MlService } from './ml.service';

/** Trading-signal predictions (the bots' /predict contract), their batch form, and outcomes. */
@ApiTags('ml')
@ApiAuthenticated()
@ApiExtraModels(PredictResponseDto, PredictBatchItemErrorDto)
@Controller()
export class PredictController {
  constructor(private readonly ml: MlService) {}

  @Post(['predict', 'api/ml/predict'])
  @HttpCode(200)
  @ApiOperation({
    summary: 'Predict the direction of one instrument from its feature vector',
    description:
      'Routed to the A/B split of the model (sticky by `symbol`), else its production version, unless ' +
      '`model_version` names one. The answer names the version that served it.',
  })
  @ApiOkResponse({ type: PredictResponseDto })
  predict(
    @Body() body: PredictRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PredictResponseDto> {
    return this.ml.predict(body, principal, clientGoneWhenAsked(res));
  }

  @Post('api/ml/predict/batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Many predictions; results in order, a bad item gets its own `{error, message}`' })
  @ApiOkResponse({ type: PredictBatchResponseDto })
  batch(
    @Body() body: PredictBatchRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ results: BatchItemResult[] }> {
    return this.ml.predictBatch(body.items, principal, clientGoneWhenAsked(res));
  }

  @Post('api/ml/feedback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Record what happened after a prediction (for per-version hit rate and error)',
    description:
      'Allowed for the caller that made the prediction (same user, or an API key of the same project) and administrators.',
  })
  @ApiOkResponse({ type: FeedbackResponseDto })
  feedback(@Body() body: FeedbackRequestDto, @CurrentPrincipal() principal: Principal): Promise<FeedbackResponseDto> {
    return this.ml.feedback(body, principal);
  }
}
