import type { UsageGroupDto, UsageReportDto, UsageTotalsDto } from './dto/usage.dto';
import type { UsageGrouping } from './usage-range';

/** The columns that name a group, per grouping, and the group's values for them. */
const LABEL_COLUMNS: Record<UsageGrouping, { header: string; value: (g: UsageGroupDto) => string | null }[]> = {
  day: [{ header: 'day', value: (g) => g.key }],
  model: [{ header: 'model', value: (g) => g.key }],
  provider: [{ header: 'provider', value: (g) => g.key }],
  api_key: [
    { header: 'api_key_id', value: (g) => g.key },
    { header: 'api_key_name', value: (g) => g.api_key_name ?? null },
    { header: 'api_key_prefix', value: (g) => g.api_key_prefix ?? null },
  ],
  day_model: [
    { header: 'day', value: (g) => g.key },
    { header: 'model', value: (g) => g.model ?? null },
  ],
};

/** The figures of every group, in the JSON's order and under its names. */
const NUMBER_COLUMNS: readonly (keyof UsageTotalsDto)[] = [
  'requests',
  'attempts',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_input_tokens',
  'reasoning_tokens',
  'credits',
  'usd',
];

/**
 * A text cell (RFC 4180): quoted when it holds a comma, a quote or a line break. A cell that a
 * spreadsheet would take for a formula (=, +, -, @, tab, CR first) gets a leading apostrophe.
 */
function textCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The groups of a report as CSV: a header row, then one row per group, numbers as in the JSON; CRLF line ends. */
export function usageCsv(report: UsageReportDto): string {
  const labels = LABEL_COLUMNS[report.group_by];
  const header = [...labels.map((c) => c.header), ...NUMBER_COLUMNS].join(',');
  const rows = report.groups.map((group) =>
    [...labels.map((c) => textCell(c.value(group))), ...NUMBER_COLUMNS.map((n) => String(group[n]))].join(','),
  );
  return [header, ...rows].map((line) => `${line}\r\n`).join('');
}

/** `usage-<project>-<from>-<to>.csv`: only UUID and day characters, so safe in a header. */
export function usageCsvFilename(report: UsageReportDto): string {
  return `usage-${report.project_id}-${report.from}-${report.to}.csv`;
}
