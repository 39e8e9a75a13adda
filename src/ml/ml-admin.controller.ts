import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { AnyCaller, Roles, UserOnly } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import {
  AbStatsDto,
  CreateModelDto,
  ModelDto,
  ModelListDto,
  ModelVersionDto,
  ReloadResultDto,
  SetSplitDto,
  SetStageDto,
  UploadVersionBodyDto,
  UploadVersionDto,
} from './dto/admin.dto';
import { MlAdminService, type UploadedModelFile } from './ml-admin.service';

/**
 * The model registry: models, versions, stages, A/B splits, reloads. Every change (and the A/B
 * statistics) is for signed-in administrators; the list and a model (signature, versions, stages) are
 * readable by every authenticated caller, API keys included, so that programs discover what to call.
 */
@ApiTags('ml-admin')
@ApiAuthenticated()
@UserOnly()
@Roles('admin')
@Controller('api/ml/models')
export class MlAdminController {
  constructor(private readonly admin: MlAdminService) {}

  @Get()
  @AnyCaller()
  @ApiOperation({
    summary: 'Models with their versions, stages, loaded state and A/B split',
    description: 'Readable with an API key or by any signed-in user; every change needs a signed-in administrator.',
  })
  @ApiOkResponse({ type: ModelListDto })
  list(): Promise<ModelListDto> {
    return this.admin.list();
  }

  @Post()
  @ApiOperation({ summary: 'Register a model (its input signature and output mapping); versions are uploaded next' })
  @ApiCreatedResponse({ type: ModelDto })
  create(@Body() body: CreateModelDto): Promise<ModelDto> {
    return this.admin.createModel(body);
  }

  @Get(':name')
  @AnyCaller()
  @ApiOperation({
    summary: 'One model: its input signature, output mapping, versions and stages',
    description: 'Readable with an API key or by any signed-in user.',
  })
  @ApiOkResponse({ type: ModelDto })
  get(@Param('name') name: string): Promise<ModelDto> {
    return this.admin.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a model and its versions (refused while one is in production or in a split)' })
  @ApiNoContentResponse()
  async remove(@Param('name') name: string): Promise<void> {
    await this.admin.deleteModel(name);
  }

  @Post(':name/versions')
  @UseInterceptors(FileInterceptor('file'))
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadVersionBodyDto })
  @ApiOperation({
    summary: 'Upload a new version (.onnx)',
    description:
      'The file is loaded once and its inputs and outputs checked against the model signature; a file ' +
      'that does not load or does not fit is refused with 400 and nothing is stored.',
  })
  @ApiCreatedResponse({ type: ModelVersionDto })
  upload(
    @Param('name') name: string,
    @UploadedFile() file: UploadedModelFile | undefined,
    @Body() body: UploadVersionDto,
  ): Promise<ModelVersionDto> {
    return this.admin.uploadVersion(name, file, body);
  }

  @Patch(':name/versions/:version')
  @ApiOperation({
    summary: 'Change the stage of a version',
    description:
      'Promoting to production demotes the current production version. A version about to serve is loaded first.',
  })
  @ApiOkResponse({ type: ModelVersionDto })
  setStage(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: SetStageDto,
  ): Promise<ModelVersionDto> {
    return this.admin.setStage(name, version, body);
  }

  @Delete(':name/versions/:version')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a version and its artifact (refused while it is in production or in the split)' })
  @ApiNoContentResponse()
  async removeVersion(@Param('name') name: string, @Param('version') version: string): Promise<void> {
    await this.admin.deleteVersion(name, version);
  }

  @Put(':name/split')
  @ApiOperation({ summary: 'Set the A/B split: versions and their weights (assignment is sticky by routing key)' })
  @ApiOkResponse({ type: ModelDto })
  setSplit(@Param('name') name: string, @Body() body: SetSplitDto): Promise<ModelDto> {
    return this.admin.setSplit(name, body);
  }

  @Delete(':name/split')
  @ApiOperation({ summary: 'Remove the A/B split (production serves everything)' })
  @ApiOkResponse({ type: ModelDto })
  clearSplit(@Param('name') name: string): Promise<ModelDto> {
    return this.admin.clearSplit(name);
  }

  @Get(':name/ab')
  @ApiOperation({ summary: 'Per-arm prediction counts, latency and outcome statistics' })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601 start of the window (default: all time)' })
  @ApiOkResponse({ type: AbStatsDto })
  ab(@Param('name') name: string, @Query('since') since?: string): Promise<AbStatsDto> {
    let from: Date | undefined;
    if (since !== undefined) {
      from = new Date(since);
      if (Number.isNaN(from.getTime()))
        throw new AppError('validation_failed', 'Request is invalid: since must be an ISO 8601 time');
    }
    return this.admin.abStats(name, from);
  }

  @Post(':name/reload')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reload the served versions from the store',
    description:
      'New copies are loaded, then swapped in; requests in flight finish on the old ones. A failed reload changes nothing.',
  })
  @ApiOkResponse({ type: ReloadResultDto })
  reload(@Param('name') name: string): Promise<ReloadResultDto> {
    return this.admin.reload(name);
  }
}
