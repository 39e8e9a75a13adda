import type { LedgerEntry } from './dto/ledger-entry';

/** An entry that cannot become a ledger row: a programming error of the caller. */
export class LedgerEntryError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid ledger entry: ${problems.join('; ')}`);
    this.name = 'LedgerEntryError';
  }
}

/** Column widths of usage_ledger: free text longer than this is cut, never refused. */
const TEXT_LIMITS = {
  endpoint: 255,
  provider: 128,
  model: 255,
  error_class: 32,
  idempotency_key: 255,
} as const;

const INT32_MAX = 2_147_483_647;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** numeric(20,10), non-negative. */
const USD = /^\d{1,10}(\.\d{1,10})?$/;

type Fields = Record<string, unknown>;

class Checker {
  readonly problems: string[] = [];

  constructor(private readonly fields: Fields) {}

  requestId(): string {
    const value = this.fields.request_id;
    if (typeof value === 'string' && value.length >= 1 && value.length <= 128 && !value.includes('\u0000')) {
      return value;
    }
    return this.fail('request_id', 'must be a string of 1 to 128 characters', '');
  }

  int(key: string, min: number, max: number): number {
    const value = this.fields[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
    return this.fail(key, `must be an integer from ${min} to ${max}`, 0);
  }

  /** A count that entries written before it existed lack: absent is 0. */
  count(key: string): number {
    return this.fields[key] === undefined ? 0 : this.int(key, 0, INT32_MAX);
  }

  uuidOrNull(key: string): string | null {
    const value = this.fields[key];
    if (value === null || value === undefined) return null;
    if (typeof value === 'string' && UUID.test(value)) return value.toLowerCase();
    return this.fail(key, 'must be a UUID or null', null);
  }

  text(key: keyof typeof TEXT_LIMITS): string {
    const value = this.fields[key];
    if (typeof value === 'string') return clean(value, TEXT_LIMITS[key]);
    return this.fail(key, 'must be a string', '');
  }

  textOrNull(key: keyof typeof TEXT_LIMITS): string | null {
    const value = this.fields[key];
    if (value === null || value === undefined) return null;
    return this.text(key);
  }

  usd(): string {
    const value = this.fields.usd;
    if (typeof value === 'string' && USD.test(value)) return value;
    return this.fail('usd', 'must be a non-negative decimal string, at most 10 digits either side of the point', '');
  }

  status(): LedgerEntry['status'] {
    const value = this.fields.status;
    if (value === 'success' || value === 'error') return value;
    return this.fail<LedgerEntry['status']>('status', "must be 'success' or 'error'", 'error');
  }

  createdAt(): string {
    const value = this.fields.created_at;
    const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(time)) return new Date(time).toISOString();
    return this.fail('created_at', 'must be an ISO 8601 time', '');
  }

  /** Records a problem; returns a placeholder so that checking goes on and lists every problem. */
  private fail<T>(key: string, message: string, placeholder: T): T {
    this.problems.push(`${key} ${message}`);
    return placeholder;
  }
}

/** Removes NUL characters (Postgres text refuses them) and cuts to `limit` characters. */
function clean(value: string, limit: number): string {
  const text = value.replaceAll('\u0000', '');
  return text.length > limit ? text.slice(0, limit) : text;
}

/**
 * Checks an entry (from a caller, or read back from the buffer) against the columns
 * of usage_ledger and returns a normalised copy that Postgres will accept: free text
 * is cut to its column, ids lower-cased, `created_at` rewritten as ISO UTC. Anything
 * that cannot be stored faithfully (a bad id, count, amount or time) throws.
 */
export function normalizeLedgerEntry(input: unknown): LedgerEntry {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LedgerEntryError(['entry must be an object']);
  }
  const check = new Checker(input as Fields);
  const entry: LedgerEntry = {
    request_id: check.requestId(),
    attempt: check.int('attempt', 0, INT32_MAX),
    user_id: check.uuidOrNull('user_id'),
    project_id: check.uuidOrNull('project_id'),
    api_key_id: check.uuidOrNull('api_key_id'),
    endpoint: check.text('endpoint'),
    provider: check.textOrNull('provider'),
    model: check.textOrNull('model'),
    input_tokens: check.int('input_tokens', 0, INT32_MAX),
    output_tokens: check.int('output_tokens', 0, INT32_MAX),
    cached_input_tokens: check.count('cached_input_tokens'),
    cache_write_input_tokens: check.count('cache_write_input_tokens'),
    reasoning_tokens: check.count('reasoning_tokens'),
    micro_credits: check.int('micro_credits', 0, Number.MAX_SAFE_INTEGER),
    usd: check.usd(),
    latency_ms: check.int('latency_ms', 0, INT32_MAX),
    status: check.status(),
    error_class: check.textOrNull('error_class'),
    idempotency_key: check.textOrNull('idempotency_key'),
    created_at: check.createdAt(),
  };
  if (check.problems.length > 0) throw new LedgerEntryError(check.problems);
  return entry;
}
