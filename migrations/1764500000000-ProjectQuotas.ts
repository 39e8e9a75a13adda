import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-project credit budgets and per-key rate limits, owned by the quota module (null = unlimited). */
export class ProjectQuotas1764500000000 implements MigrationInterface {
  name = 'ProjectQuotas1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE project_quotas (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        daily_credits numeric(18, 6) CHECK (daily_credits >= 0),
        monthly_credits numeric(18, 6) CHECK (monthly_credits >= 0),
        rpm integer CHECK (rpm >= 0),
        tpm bigint CHECK (tpm >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS project_quotas`);
  }
}
