import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { ProjectsService } from '../auth/projects.service';
import { UsageQueryDto, UsageReportDto } from './dto/usage.dto';
import { resolveUsageRange } from './usage-range';
import { UsageRepository } from './usage.repository';

/** A project's usage from the ledger: its members, its API keys and administrators may read it. */
@ApiTags('usage')
@ApiAuthenticated()
@Controller('projects/:id/usage')
export class UsageController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly usage: UsageRepository,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Usage of a project by day, model or provider',
    description:
      'Totals and groups over whole UTC days, both ends included (default: the last 30 days, at most 366). ' +
      'Rows reach the ledger within about a second of each attempt.',
  })
  @ApiOkResponse({ type: UsageReportDto })
  async report(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) projectId: string,
    @Query() query: UsageQueryDto,
  ): Promise<UsageReportDto> {
    await this.projects.assertAccess(principal, projectId);
    const range = resolveUsageRange(query);
    const groupBy = query.group_by ?? 'day';
    const { totals, groups } = await this.usage.report(projectId, range, groupBy);
    return { project_id: projectId, from: range.from, to: range.to, group_by: groupBy, totals, groups };
  }
}
