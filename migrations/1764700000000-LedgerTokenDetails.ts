import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token details of each ledger row: input read from or written to the provider's prompt cache
 * (part of input_tokens) and reasoning output (part of output_tokens). Rows written before
 * this migration hold 0. Adding columns is not an UPDATE: the append-only trigger allows it.
 */
export class LedgerTokenDetails1764700000000 implements MigrationInterface {
  name = 'LedgerTokenDetails1764700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE usage_ledger
        ADD COLUMN cached_input_tokens integer NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0),
        ADD COLUMN cache_write_input_tokens integer NOT NULL DEFAULT 0 CHECK (cache_write_input_tokens >= 0),
        ADD COLUMN reasoning_tokens integer NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE usage_ledger
        DROP COLUMN cached_input_tokens,
        DROP COLUMN cache_write_input_tokens,
        DROP COLUMN reasoning_tokens`);
  }
}
