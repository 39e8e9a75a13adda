import { Controller, Get, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { ProjectsService } from '../auth/projects.service';
import { UsageQueryDto, UsageReportDto } from './dto/usage.dto';
import { usageCsv, usageCsvFilename } from './usage-csv';
import { resolveUsageRange } from './usage-range';
import { UsageService } from './usage.service';

/** CSV when `format=csv`, or without `format` when the Accept header prefers text/csv to JSON. */
function wantsCsv(query: UsageQueryDto, req: Request): boolean {
  if (query.format !== undefined) return query.format === 'csv';
  return req.headers.accept !== undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

/** A project's usage from the ledger: its members, its API keys and administrators may read it. */
@ApiTags('usage')
@ApiAuthenticated()
@ApiExtraModels(UsageReportDto)
@Controller('projects/:id/usage')
export class UsageController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly usage: UsageService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Usage of a project by day, model, provider, API key, or day and model; JSON or CSV',
    description:
      'Totals and groups over whole UTC days, both ends included (default: the last 30 days, at most 366). ' +
      'Rows reach the ledger within about a second of each attempt. With `format=csv` (or `Accept: text/csv`) ' +
      'the groups come as a CSV attachment named `usage-<project>-<from>-<to>.csv`.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UsageReportDto) } },
      'text/csv': { schema: { type: 'string', example: 'day,requests,attempts,…\r\n2026-01-10,2,3,…\r\n' } },
    },
  })
  async report(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) projectId: string,
    @Query() query: UsageQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UsageReportDto | string> {
    await this.projects.assertAccess(principal, projectId);
    const range = resolveUsageRange(query);
    const report = await this.usage.report(projectId, range, query.group_by ?? 'day');
    if (!wantsCsv(query, req)) return report;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${usageCsvFilename(report)}"`);
    return usageCsv(report);
  }
}
