import { Body, Controller, Get, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ProjectsService } from '../auth/projects.service';
import { CurrentPrincipal, Roles, UserOnly } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import type { ProjectQuotaStatus } from './dto/quota';
import { ProjectQuotaStatusDto, UpdateProjectQuotaDto } from './dto/quota.dto';
import { QuotaService } from './quota.service';

@ApiTags('quota')
@ApiAuthenticated()
@Controller('projects/:id/quota')
export class QuotaController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly quota: QuotaService,
  ) {}

  @Get()
  @ApiOkResponse({
    type: ProjectQuotaStatusDto,
    description: 'Limits, and spent/reserved/remaining credits per window',
  })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ProjectQuotaStatus> {
    await this.projects.assertAccess(principal, id);
    return this.quota.status(id);
  }

  @UserOnly()
  @Roles('admin')
  @Put()
  @ApiOkResponse({
    type: ProjectQuotaStatusDto,
    description: 'Administrator only. Absent fields are kept, null removes a limit',
  })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateProjectQuotaDto,
  ): Promise<ProjectQuotaStatus> {
    await this.projects.assertAccess(principal, id);
    return this.quota.setLimits(id, body);
  }
}
