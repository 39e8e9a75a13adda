import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { UsageGroupDto, UsageTotalsDto } from './dto/usage.dto';
import type { UsageGrouping, UsageRange } from './usage-range';

const DAY = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
const BY_CREDITS = 'sum(micro_credits) DESC, key ASC NULLS LAST';

/**
 * The SQL of each grouping: what it selects (`key`, and `model` for day_model), how many leading
 * columns it groups by, its order. A fixed list, never built from input.
 */
const GROUPINGS: Record<UsageGrouping, { select: string; columns: number; order: string }> = {
  day: { select: `${DAY} AS key`, columns: 1, order: 'key ASC' },
  model: { select: 'model AS key', columns: 1, order: BY_CREDITS },
  provider: { select: 'provider AS key', columns: 1, order: BY_CREDITS },
  api_key: { select: 'api_key_id::text AS key', columns: 1, order: BY_CREDITS },
  day_model: {
    select: `${DAY} AS key, model`,
    columns: 2,
    order: 'key ASC, sum(micro_credits) DESC, model ASC NULLS LAST',
  },
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
  model?: string | null;
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
    const { select, columns, order } = GROUPINGS[groupBy];
    const groupColumns = columns === 2 ? '1, 2' : '1';
    const [totals, groups] = await Promise.all([
      this.dataSource.query<SumsRow[]>(`SELECT ${SUMS} ${SCOPE}`, params),
      this.dataSource.query<GroupRow[]>(
        `SELECT ${select}, ${SUMS} ${SCOPE} GROUP BY ${groupColumns} ORDER BY ${order}`,
        params,
      ),
    ]);
    return {
      totals: toTotals(totals[0]),
      groups: groups.map((row) =>
        row.model === undefined
          ? { key: row.key, ...toTotals(row) }
          : { key: row.key, model: row.model, ...toTotals(row) },
      ),
    };
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
