import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The usage ledger: one row per attempt of one request, append-only.
 *
 * No foreign keys to users, projects or API keys, on purpose: the ledger is a record
 * of what happened and must accept (and keep) rows whose project, user or key is
 * deleted later, or was deleted while the row waited in the write buffer.
 *
 * UNIQUE (request_id, attempt) makes writes idempotent: the writer inserts with
 * `ON CONFLICT (request_id, attempt) DO NOTHING`, so a batch written twice (a retry
 * after an ambiguous commit, two instances draining one stream) leaves one row each.
 *
 * A trigger refuses UPDATE, DELETE and TRUNCATE. A future retention job would drop
 * old partitions or disable the trigger inside its own reviewed migration.
 */
export class UsageLedger1764400000000 implements MigrationInterface {
  name = 'UsageLedger1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE usage_ledger (
        id bigserial PRIMARY KEY,
        request_id varchar(128) NOT NULL,
        attempt integer NOT NULL CHECK (attempt >= 0),
        user_id uuid,
        project_id uuid,
        api_key_id uuid,
        endpoint varchar(255) NOT NULL,
        provider varchar(128),
        model varchar(255),
        input_tokens integer NOT NULL CHECK (input_tokens >= 0),
        output_tokens integer NOT NULL CHECK (output_tokens >= 0),
        micro_credits bigint NOT NULL CHECK (micro_credits >= 0),
        usd numeric(20, 10) NOT NULL CHECK (usd >= 0),
        latency_ms integer NOT NULL CHECK (latency_ms >= 0),
        status varchar(16) NOT NULL CHECK (status IN ('success', 'error')),
        error_class varchar(32),
        idempotency_key varchar(255),
        created_at timestamptz NOT NULL,
        CONSTRAINT usage_ledger_request_attempt_key UNIQUE (request_id, attempt)
      )`);
    await db.query(`CREATE INDEX usage_ledger_project_created_idx ON usage_ledger (project_id, created_at)`);

    await db.query(`
      CREATE FUNCTION usage_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'usage_ledger is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'restrict_violation';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER usage_ledger_no_update_delete
        BEFORE UPDATE OR DELETE ON usage_ledger
        FOR EACH ROW EXECUTE FUNCTION usage_ledger_append_only()`);
    await db.query(`
      CREATE TRIGGER usage_ledger_no_truncate
        BEFORE TRUNCATE ON usage_ledger
        FOR EACH STATEMENT EXECUTE FUNCTION usage_ledger_append_only()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE usage_ledger`);
    await db.query(`DROP FUNCTION usage_ledger_append_only()`);
  }
}
