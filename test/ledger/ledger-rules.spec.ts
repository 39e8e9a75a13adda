import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import { LedgerEntryError, normalizeLedgerEntry } from '../../src/ledger/ledger-entry.rules';
import {
  compareIds,
  parseAutoClaim,
  parseConsumers,
  parsePendingIds,
  parseReadGroup,
} from '../../src/ledger/ledger-stream';
import { isRowError, MAX_BATCH_ROWS } from '../../src/ledger/ledger.repository';
import { staleAfterMs } from '../../src/ledger/ledger-writer';
import { MemoryLedgerBuffer } from '../../src/ledger/memory-ledger.buffer';
import { parseDay, resolveUsageRange } from '../../src/ledger/usage-range';
import { AppError } from '../../src/common/errors/app-error';
import { loadConfig } from '../../src/config/app-config';

const ENTRY: LedgerEntry = {
  request_id: 'req-1',
  attempt: 1,
  user_id: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  project_id: null,
  api_key_id: null,
  endpoint: '/v1/chat/completions',
  provider: 'openai',
  model: 'gpt-4o',
  input_tokens: 1,
  output_tokens: 2,
  cached_input_tokens: 0,
  cache_write_input_tokens: 0,
  reasoning_tokens: 0,
  micro_credits: 3,
  usd: '0.0000000300',
  latency_ms: 4,
  status: 'success',
  error_class: null,
  idempotency_key: null,
  created_at: '2026-01-01T12:00:00+02:00',
};

function problemsOf(input: unknown): string[] {
  try {
    normalizeLedgerEntry(input);
    return [];
  } catch (err) {
    if (!(err instanceof LedgerEntryError)) throw err;
    return err.problems;
  }
}

describe('normalizeLedgerEntry', () => {
  it('keeps a valid entry, lower-casing ids and writing the time in UTC', () => {
    expect(normalizeLedgerEntry(ENTRY)).toEqual({
      ...ENTRY,
      user_id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      created_at: '2026-01-01T10:00:00.000Z',
    });
  });

  it('cuts free text to its column and drops NUL characters', () => {
    const entry = normalizeLedgerEntry({ ...ENTRY, model: 'm'.repeat(300), error_class: 'a\u0000b', provider: 'p' });
    expect(entry.model).toHaveLength(255);
    expect(entry.error_class).toBe('ab');
  });

  it('lists every problem of an entry that cannot be stored faithfully', () => {
    const problems = problemsOf({
      ...ENTRY,
      request_id: 'r'.repeat(129),
      attempt: -1,
      project_id: 'nope',
      input_tokens: 1.5,
      output_tokens: -1,
      micro_credits: Number.MAX_SAFE_INTEGER + 2,
      usd: '1e-5',
      status: 'ok',
      created_at: 'soon',
      endpoint: 42,
    });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(
      [
        'attempt',
        'created_at',
        'endpoint',
        'input_tokens',
        'micro_credits',
        'output_tokens',
        'project_id',
        'request_id',
        'status',
        'usd',
      ].sort(),
    );
  });

  it('reads the token details of an entry buffered before they existed as 0', () => {
    const { cached_input_tokens, cache_write_input_tokens, reasoning_tokens, ...older } = {
      ...ENTRY,
      cached_input_tokens: 7,
      cache_write_input_tokens: 8,
      reasoning_tokens: 9,
    };
    expect([cached_input_tokens, cache_write_input_tokens, reasoning_tokens]).toEqual([7, 8, 9]);
    expect(normalizeLedgerEntry(older)).toMatchObject({
      cached_input_tokens: 0,
      cache_write_input_tokens: 0,
      reasoning_tokens: 0,
    });
    expect(
      normalizeLedgerEntry({ ...ENTRY, cached_input_tokens: 7, cache_write_input_tokens: 8, reasoning_tokens: 9 }),
    ).toMatchObject({ cached_input_tokens: 7, cache_write_input_tokens: 8, reasoning_tokens: 9 });
  });

  it('refuses token details that are not counts', () => {
    const problems = problemsOf({
      ...ENTRY,
      cached_input_tokens: -1,
      cache_write_input_tokens: 1.5,
      reasoning_tokens: null,
    });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual([
      'cache_write_input_tokens',
      'cached_input_tokens',
      'reasoning_tokens',
    ]);
  });

  it.each([
    ['null', null],
    ['an array', [ENTRY]],
    ['a string', 'entry'],
  ])('refuses %s', (_label, input) => {
    expect(() => normalizeLedgerEntry(input)).toThrow(LedgerEntryError);
  });

  it.each([
    ['12345678901.0', false],
    ['1.12345678901', false],
    ['-0.1', false],
    ['0', true],
    ['9999999999.9999999999', true],
  ])('usd %s is valid: %s', (usd, valid) => {
    expect(problemsOf({ ...ENTRY, usd }).length === 0).toBe(valid);
  });
});

describe('usage range', () => {
  const now = new Date('2026-03-15T23:30:00Z');

  it('parses only real calendar days', () => {
    expect(parseDay('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    for (const bad of ['2025-02-29', '2026-13-01', '2026-00-10', '2026-1-01', ' 2026-01-01', 20260101, undefined]) {
      expect(parseDay(bad)).toBeNull();
    }
  });

  it('defaults to the 30 days ending today (UTC)', () => {
    const range = resolveUsageRange({}, now);
    expect([range.from, range.to]).toEqual(['2026-02-14', '2026-03-15']);
    expect([range.start.toISOString(), range.end.toISOString()]).toEqual([
      '2026-02-14T00:00:00.000Z',
      '2026-03-16T00:00:00.000Z',
    ]);
  });

  it('takes 30 days before `to`, and today as `to` when only `from` is given', () => {
    expect(resolveUsageRange({ to: '2026-01-30' }, now).from).toBe('2026-01-01');
    expect(resolveUsageRange({ from: '2026-03-01' }, now).to).toBe('2026-03-15');
  });

  it('allows 366 days and one day, refuses 367 days and a reversed range', () => {
    expect(resolveUsageRange({ from: '2025-03-15', to: '2026-03-15' }, now).from).toBe('2025-03-15');
    expect(resolveUsageRange({ from: '2026-03-15', to: '2026-03-15' }, now).to).toBe('2026-03-15');
    expect(() => resolveUsageRange({ from: '2025-03-14', to: '2026-03-15' }, now)).toThrow(/367 days/);
    expect(() => resolveUsageRange({ from: '2026-03-16' }, now)).toThrow(AppError);
  });
});

describe('stream replies and ids', () => {
  it('orders ids numerically, not as text', () => {
    expect(compareIds('999-0', '1000-0')).toBe(-1);
    expect(compareIds('1000-10', '1000-9')).toBe(1);
    expect(compareIds('1000-1', '1000-1')).toBe(0);
  });

  it('reads XREADGROUP, XAUTOCLAIM, XPENDING and XINFO CONSUMERS replies', () => {
    expect(parseReadGroup(null)).toEqual([]);
    expect(
      parseReadGroup([
        [
          'k',
          [
            ['1-0', ['e', '{}']],
            ['2-0', null],
          ],
        ],
      ]),
    ).toEqual([
      { id: '1-0', payload: '{}' },
      { id: '2-0', payload: null },
    ]);
    expect(parseAutoClaim(['5-0', [['3-0', ['x', 'y', 'e', 'z']]], []])).toEqual({
      cursor: '5-0',
      items: [{ id: '3-0', payload: 'z' }],
    });
    expect(parsePendingIds([['1-0', 'c', 10, 1]])).toEqual(['1-0']);
    expect(parseConsumers([['name', 'c1', 'pending', 2, 'idle', 30]])).toEqual([
      { name: 'c1', pending: 2, idleMs: 30 },
    ]);
  });
});

describe('writer settings', () => {
  it("treats data and constraint errors as the row's fault, anything else as retryable", () => {
    expect(isRowError({ code: '22P02' })).toBe(true);
    expect(isRowError({ code: '23514' })).toBe(true);
    expect(isRowError({ code: '57P01' })).toBe(false);
    expect(isRowError({ code: 'ECONNREFUSED' })).toBe(false);
    expect(isRowError(new Error('Connection terminated'))).toBe(false);
  });

  it('keeps a batch within the bind-parameter limit of Postgres', () => {
    expect(MAX_BATCH_ROWS * 17).toBeLessThanOrEqual(65_535);
  });

  it('waits longer than one failed attempt before claiming pending entries', () => {
    expect(staleAfterMs(loadConfig({}))).toBe(60_000);
    const slow = loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '60000', DATABASE_CONNECT_TIMEOUT_MS: '10000' });
    expect(staleAfterMs(slow)).toBe(2 * (60_000 + 10_000 + 1_000 + 5_000));
  });
});

describe('MemoryLedgerBuffer', () => {
  const entry = (n: number): LedgerEntry => ({ ...ENTRY, request_id: `r${n}` });

  it('hands out batches oldest first and forgets them only once acknowledged', async () => {
    const buffer = new MemoryLedgerBuffer();
    for (let n = 0; n < 5; n += 1) await buffer.append(entry(n));
    const first = await buffer.take(3);
    expect(first.entries.map((e) => e.request_id)).toEqual(['r0', 'r1', 'r2']);
    // Not acknowledged (the write failed): the same batch again.
    expect((await buffer.take(3)).entries.map((e) => e.request_id)).toEqual(['r0', 'r1', 'r2']);
    await first.ack([]);
    expect((await buffer.take(3)).entries.map((e) => e.request_id)).toEqual(['r3', 'r4']);
    expect((await buffer.stats()).depth).toBe(2);
  });

  it('stays correct across compactions of a long queue', async () => {
    const buffer = new MemoryLedgerBuffer();
    for (let n = 0; n < 10_000; n += 1) await buffer.append(entry(n));
    const seen: string[] = [];
    for (let batch = await buffer.take(700); batch.size > 0; batch = await buffer.take(700)) {
      seen.push(...batch.entries.map((e) => e.request_id));
      await batch.ack([]);
    }
    expect(seen).toHaveLength(10_000);
    expect(seen[9_999]).toBe('r9999');
    expect(buffer.hasOwnBacklog()).toBe(false);
  });

  it('ignores an acknowledgement that comes after the queue moved on', async () => {
    const buffer = new MemoryLedgerBuffer();
    for (let n = 0; n < 3; n += 1) await buffer.append(entry(n));
    const late = await buffer.take(2);
    const again = await buffer.take(2);
    await again.ack([]);
    await expect(late.ack([])).rejects.toThrow(/no longer at the front/);
    expect((await buffer.take(5)).entries.map((e) => e.request_id)).toEqual(['r2']);
  });

  it('reports what is left as lost at hand-off, and takes nothing after it', async () => {
    const buffer = new MemoryLedgerBuffer();
    await buffer.append(entry(1));
    expect(await buffer.handOff()).toEqual({ kept: 0, lost: 1 });
    await buffer.append(entry(2));
    expect(buffer.depth).toBe(0);
  });
});
