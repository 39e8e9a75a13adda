import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';

export const LEDGER_BUFFER_DEPTH = 'conflux_ledger_buffer_depth';
export const LEDGER_WRITE_LAG = 'conflux_ledger_write_lag_seconds';
export const LEDGER_ROWS_WRITTEN = 'conflux_ledger_rows_written_total';
export const LEDGER_WRITE_ERRORS = 'conflux_ledger_write_errors_total';
export const LEDGER_STREAM_FULL = 'conflux_ledger_stream_full';
export const LEDGER_DEAD_LETTERS = 'conflux_ledger_dead_letters_total';

/** `reason` of a dead letter: Postgres refused the row, or the buffered entry could not be parsed. */
export const LEDGER_DEAD_LETTER_REASONS = ['rejected_row', 'unreadable'] as const;

/** `stage` of a write error: Postgres refused or could not take a batch, the buffer could not be read, a row was refused. */
export const LEDGER_ERROR_STAGES = ['insert', 'buffer', 'rejected_row'] as const;
export type LedgerErrorStage = (typeof LEDGER_ERROR_STAGES)[number];

export const LEDGER_METRIC_PROVIDERS = [
  makeGaugeProvider({
    name: LEDGER_BUFFER_DEPTH,
    help: 'Ledger entries recorded but not yet in Postgres (the whole shared stream with Redis)',
  }),
  makeGaugeProvider({
    name: LEDGER_WRITE_LAG,
    help: 'Age in seconds of the oldest ledger entry not yet in Postgres (0 when none)',
  }),
  makeGaugeProvider({
    name: LEDGER_STREAM_FULL,
    help: '1 while the Redis ledger stream is at LEDGER_STREAM_MAX_ENTRIES (paid requests refused), else 0',
  }),
  makeCounterProvider({
    name: LEDGER_ROWS_WRITTEN,
    help: 'Ledger rows inserted into Postgres (duplicates skipped by ON CONFLICT not counted)',
  }),
  makeCounterProvider({
    name: LEDGER_WRITE_ERRORS,
    help: 'Failed ledger writes by stage: insert (batch retried), buffer (stream unreadable), rejected_row (dead-lettered)',
    labelNames: ['stage'],
  }),
  makeCounterProvider({
    name: LEDGER_DEAD_LETTERS,
    help: 'Ledger entries moved to the dead letters (never retried), by reason: rejected_row, unreadable',
    labelNames: ['reason'],
  }),
];
