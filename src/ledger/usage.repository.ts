import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { UsageGroupDto, UsageTotalsDto } from './dto/usage.dto';
import type { UsageGrouping, UsageRange } from './usage-range';

/** The SQL key of each grouping: a fixed list, never built from input. */
const GROUP_KEYS: Record<UsageGrouping, { key: string; order: string }> = {
  day: { key: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, order: 'key ASC' },
  model: { key: 'model', order: 'sum(micro_credits) DESC, key ASC NULLS LAST' },
  provider: { key: 'provider', order: 'sum(micro_credits) DESC, key ASC NULLS LAST' },
};

/** Sums come back as text (bigint, numeric) and are turned into numbers here. */
const SUMS = `
  count(DISTINCT request_id)::text AS requests,
  count(*)::text AS attempts,
  coalesce(sum(input_tokens), 0)::text AS input_tokens,
  coalesce(sum(output_tokens), 0)::text AS output_tokens,
  coalesce(sum(cached_input_tokens), 0)::text AS cached_input_tokens,
  coalesce(sum(cache_write_input_tokens), 0)::text AS cache_write_input_tokens,
  coalesce(sum(reasoning_tokens), 0)::text AS reasoning_tokens,
  coalesce(sum(micro_credits), 0)::text AS micro_credits,
  coalesce(sum(usd), 0)::text AS usd`;

const SCOPE = 'FROM usage_ledger WHERE project_id = $1 AND created_at >= $2 AND created_at < $3';

interface SumsRow {
  requests: string;
  attempts: string;
  input_tokens: string;
  output_tokens: string;
  cached_input_tokens: string;
  cache_write_input_tokens: string;
  reasoning_tokens: string;
  micro_credits: string;
  usd: string;
}

interface GroupRow extends SumsRow {
  key: string | null;
}

function toTotals(row: SumsRow | undefined): UsageTotalsDto {
  return {
    requests: Number(row?.requests ?? 0),
    attempts: Number(row?.attempts ?? 0),
    input_tokens: Number(row?.input_tokens ?? 0),
    output_tokens: Number(row?.output_tokens ?? 0),
    cached_input_tokens: Number(row?.cached_input_tokens ?? 0),
    cache_write_input_tokens: Number(row?.cache_write_input_tokens ?? 0),
    reasoning_tokens: Number(row?.reasoning_tokens ?? 0),
    credits: Number(row?.micro_credits ?? 0) / 1_000_000,
    usd: Number(row?.usd ?? 0),
  };
}

/** Usage of one project over a range of days, from usage_ledger (index on project_id, created_at). */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async report(
    projectId: string,
    range: UsageRange,
    groupBy: UsageGrouping,
  ): Promise<{ totals: UsageTotalsDto; groups: UsageGroupDto[] }> {
    const params = [projectId, range.start.toISOString(), range.end.toISOString()];
    const { key, order } = GROUP_KEYS[groupBy];
    const [totals, groups] = await Promise.all([
      this.dataSource.query<SumsRow[]>(`SELECT ${SUMS} ${SCOPE}`, params),
      this.dataSource.query<GroupRow[]>(`SELECT ${key} AS key, ${SUMS} ${SCOPE} GROUP BY 1 ORDER BY ${order}`, params),
    ]);
    return { totals: toTotals(totals[0]), groups: groups.map((row) => ({ key: row.key, ...toTotals(row) })) };
  }

  /** Micro-credits of the project's rows created since `dayStart`, and since `monthStart`. */
  async spend(projectId: string, dayStart: Date, monthStart: Date): Promise<{ day: number; month: number }> {
    const [row] = await this.dataSource.query<{ day: string; month: string }[]>(
      `SELECT coalesce(sum(micro_credits) FILTER (WHERE created_at >= $2), 0)::text AS day,
              coalesce(sum(micro_credits), 0)::text AS month
         FROM usage_ledger WHERE project_id = $1 AND created_at >= $3`,
      [projectId, dayStart.toISOString(), monthStart.toISOString()],
    );
    return { day: Number(row?.day ?? 0), month: Number(row?.month ?? 0) };
  }
}
