import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { clientGone } from '../common/http/client-gone';
import { ForecastBatchRequestDto, ForecastRequestDto, ForecastResponseDto } from './dto/forecast.dto';
import { type BatchResult, ForecastingService } from './forecasting.service';

/** Time-series forecasts: the toto-server contract, a batch form, and engine discovery. */
@ApiTags('forecasting')
@ApiAuthenticated()
@Controller('forecast')
export class ForecastingController {
  constructor(private readonly forecasting: ForecastingService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Forecast the next `horizon` values of one series' })
  @ApiOkResponse({ type: ForecastResponseDto })
  forecast(@Body() body: ForecastRequestDto, @Res({ passthrough: true }) res: Response): Promise<ForecastResponseDto> {
    return this.forecasting.forecast(body, clientGone(res));
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Forecast many series; results in order, a bad item gets its own error' })
  @ApiOkResponse({
    description: '`{results: [...]}`: a forecast (with the item `id`) or `{id, error, message}` per item',
  })
  batch(
    @Body() body: ForecastBatchRequestDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ results: BatchResult[] }> {
    return this.forecasting.forecastBatch(body.items, clientGone(res));
  }

  @Get('engines')
  @ApiOperation({ summary: 'The engines available and the remote worker state' })
  engines(): ReturnType<ForecastingService['describe']> {
    return this.forecasting.describe();
  }
}
