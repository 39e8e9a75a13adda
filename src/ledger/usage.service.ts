import { Injectable } from '@nestjs/common';
import { ApiKeysService } from '../auth/api-keys.service';
import type { UsageGroupDto, UsageReportDto } from './dto/usage.dto';
import type { UsageGrouping, UsageRange } from './usage-range';
import { UsageRepository } from './usage.repository';

/** A project's usage report: the ledger's sums, with the API keys' names for the api_key grouping. */
@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async report(projectId: string, range: UsageRange, groupBy: UsageGrouping): Promise<UsageReportDto> {
    const { totals, groups } = await this.usage.report(projectId, range, groupBy);
    return {
      project_id: projectId,
      from: range.from,
      to: range.to,
      group_by: groupBy,
      totals,
      groups: groupBy === 'api_key' ? await this.withKeyLabels(projectId, groups) : groups,
    };
  }

  private async withKeyLabels(projectId: string, groups: UsageGroupDto[]): Promise<UsageGroupDto[]> {
    const ids = groups.flatMap((g) => (g.key === null ? [] : [g.key]));
    const labels = await this.apiKeys.labels(projectId, ids);
    return groups.map(({ key, ...numbers }) => {
      const label = key === null ? undefined : labels.get(key);
      return {
        key,
        api_key_id: key,
        api_key_name: label?.name ?? null,
        api_key_prefix: label?.prefix ?? null,
        ...numbers,
      };
    });
  }
}
