import { Body, Controller, Get, HttpCode, Param, Post, Res, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal } from '../../common/auth/decorators';
import type { Principal } from '../../common/auth/principal';
import { ApiAuthenticated } from '../../common/http/api-docs.decorators';
import { clientGone } from '../../common/http/client-gone';
import {
  V2ErrorDto,
  V2InferRequestDto,
  V2InferResponseDto,
  V2ModelMetadataDto,
  V2ServerMetadataDto,
} from '../dto/v2.dto';
import { V2ErrorFilter } from './v2-error.filter';
import { V2Service } from './v2.service';

/** HTTP status of a health answer: 200 for true, a 4xx for false (as the protocol says). */
function healthStatus(res: Response, ok: boolean): void {
  res.status(ok ? 200 : 400);
}

/**
 * The Open Inference Protocol (KServe V2 REST) for the registered models: health, metadata and
 * inference with JSON tensors. Authenticated like every other route (send the API key).
 */
@ApiTags('ml-v2')
@ApiAuthenticated()
@UseFilters(V2ErrorFilter)
@ApiBadRequestResponse({ description: 'Protocol error body', type: V2ErrorDto })
@Controller('v2')
export class V2Controller {
  constructor(private readonly v2: V2Service) {}

  @Get()
  @ApiOperation({ summary: 'Server metadata' })
  @ApiOkResponse({ type: V2ServerMetadataDto })
  server(): V2ServerMetadataDto {
    return this.v2.serverMetadata();
  }

  @Get('health/live')
  @ApiOperation({ summary: 'Server liveness: 200 when live' })
  @ApiOkResponse({ schema: { example: { live: true } } })
  live(@Res({ passthrough: true }) res: Response): { live: boolean } {
    const live = this.v2.live();
    healthStatus(res, live);
    return { live };
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'Server readiness: 200 when every served version is loaded, 400 otherwise' })
  @ApiOkResponse({ schema: { example: { ready: true } } })
  ready(@Res({ passthrough: true }) res: Response): { ready: boolean } {
    const ready = this.v2.ready();
    healthStatus(res, ready);
    return { ready };
  }

  @Get('models/:name')
  @ApiOperation({ summary: 'Model metadata (of the default version: production, else the first A/B arm)' })
  @ApiOkResponse({ type: V2ModelMetadataDto })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  metadata(@Param('name') name: string): V2ModelMetadataDto {
    return this.v2.modelMetadata(name);
  }

  @Get('models/:name/versions/:version')
  @ApiOperation({ summary: 'Metadata of one model version' })
  @ApiOkResponse({ type: V2ModelMetadataDto })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  versionMetadata(@Param('name') name: string, @Param('version') version: string): V2ModelMetadataDto {
    return this.v2.modelMetadata(name, version);
  }

  @Get('models/:name/ready')
  @ApiOperation({ summary: 'Model readiness: 200 when its routed versions can answer, 400 otherwise' })
  @ApiOkResponse({ schema: { example: { name: 'trading-signal', ready: true } } })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  modelReady(@Param('name') name: string, @Res({ passthrough: true }) res: Response): { name: string; ready: boolean } {
    const ready = this.v2.modelReady(name);
    healthStatus(res, ready);
    return { name, ready };
  }

  @Get('models/:name/versions/:version/ready')
  @ApiOperation({ summary: 'Readiness of one model version' })
  @ApiOkResponse({ schema: { example: { name: 'trading-signal', version: '1', ready: true } } })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  versionReady(
    @Param('name') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) res: Response,
  ): { name: string; version: string; ready: boolean } {
    const ready = this.v2.modelReady(name, version);
    healthStatus(res, ready);
    return { name, version, ready };
  }

  @Post('models/:name/infer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Inference with JSON tensors; the version is chosen like /predict (A/B split, else production)',
  })
  @ApiBody({ type: V2InferRequestDto })
  @ApiOkResponse({ type: V2InferResponseDto })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  infer(
    @Param('name') name: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<V2InferResponseDto> {
    return this.v2.infer(name, undefined, body, principal, clientGone(res));
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference on one model version' })
  @ApiBody({ type: V2InferRequestDto })
  @ApiOkResponse({ type: V2InferResponseDto })
  @ApiNotFoundResponse({ type: V2ErrorDto })
  inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<V2InferResponseDto> {
    return this.v2.infer(name, version, body, principal, clientGone(res));
  }
}
