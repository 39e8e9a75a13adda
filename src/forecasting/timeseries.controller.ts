import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { NativeErrors } from '../common/errors/all-exceptions.filter';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { clientGone } from '../common/http/client-gone';
import {
  TimeSeriesErrorResponseDto,
  TimeSeriesForecastRequestDto,
  TimeSeriesForecastResponseDto,
} from './dto/timeseries.dto';
import { TimeSeriesService } from './timeseries.service';

/** KServe's time-series forecast protocol, served by the local engines (and the remote worker). */
@ApiTags('forecasting')
@ApiAuthenticated()
@ApiDefaultResponse({ description: "KServe's error body", type: TimeSeriesErrorResponseDto })
@NativeErrors('kserve')
@Controller('v1/timeseries')
export class TimeSeriesController {
  constructor(private readonly timeSeries: TimeSeriesService) {}

  @Post('forecast')
  @HttpCode(200)
  @ApiOperation({
    summary: "Forecast one or more series (KServe's time-series protocol); `model` names the engine",
  })
  @ApiOkResponse({ type: TimeSeriesForecastResponseDto })
  forecast(
    @Body() body: TimeSeriesForecastRequestDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TimeSeriesForecastResponseDto> {
    return this.timeSeries.forecast(body, clientGone(res));
  }
}
