import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model registry of the ml module, its A/B splits, and the record of predictions and their outcomes.
 *
 * - ml_models: a named model with its input signature and output mapping (JSON).
 * - ml_model_versions: immutable versions (artifact file in the model store, sha256, metrics); the
 *   stage is a movable alias. The partial unique index allows at most one production version per model.
 * - ml_ab_arms: the versions a model's traffic is split between, with integer weights. An arm cannot
 *   point at a version of another model (the composite foreign key), nor at a deleted one.
 * - ml_predictions: one row per answered prediction, written in batches off the request path. No
 *   foreign key to the versions: a record outlives the version that produced it.
 * - ml_feedback: the observed outcome of a prediction (at most one; a later one replaces it).
 */
export class MlRegistry1764600000000 implements MigrationInterface {
  name = 'MlRegistry1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ml_models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
        task varchar(500) NOT NULL,
        input_signature jsonb NOT NULL,
        output_mapping jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE ml_model_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id uuid NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
        version varchar(100) NOT NULL CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND version <> 'latest'),
        artifact_path varchar(500) NOT NULL,
        sha256 char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        metrics jsonb NOT NULL DEFAULT '{}',
        description varchar(1000),
        stage varchar(16) NOT NULL DEFAULT 'none' CHECK (stage IN ('none', 'staging', 'production', 'archived')),
        stage_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ml_model_versions_model_version_key UNIQUE (model_id, version),
        CONSTRAINT ml_model_versions_id_model_key UNIQUE (id, model_id)
      )`);
    await db.query(`
      CREATE UNIQUE INDEX ml_model_versions_one_production
        ON ml_model_versions (model_id) WHERE stage = 'production'`);
    await db.query(`
      CREATE TABLE ml_ab_arms (
        model_id uuid NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
        version_id uuid NOT NULL,
        weight integer NOT NULL CHECK (weight > 0 AND weight <= 1000000),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, version_id),
        CONSTRAINT ml_ab_arms_version_fkey FOREIGN KEY (version_id, model_id)
          REFERENCES ml_model_versions (id, model_id) ON DELETE RESTRICT
      )`);
    await db.query(`
      CREATE TABLE ml_predictions (
        id uuid PRIMARY KEY,
        model_name varchar(100) NOT NULL,
        arm varchar(100) NOT NULL,
        model_version varchar(100) NOT NULL,
        served_by varchar(16) NOT NULL CHECK (served_by IN ('local', 'remote')),
        fallback boolean NOT NULL DEFAULT false,
        symbol varchar(64),
        direction varchar(8) NOT NULL,
        confidence real NOT NULL,
        expected_return double precision,
        latency_ms real NOT NULL CHECK (latency_ms >= 0),
        user_id uuid,
        project_id uuid,
        api_key_id uuid,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX ml_predictions_model_arm_idx ON ml_predictions (model_name, arm, created_at)`);
    await db.query(`
      CREATE TABLE ml_feedback (
        prediction_id uuid PRIMARY KEY REFERENCES ml_predictions (id) ON DELETE CASCADE,
        outcome_direction varchar(8) NOT NULL,
        outcome_return double precision,
        hit boolean NOT NULL,
        abs_error double precision,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS ml_feedback`);
    await db.query(`DROP TABLE IF EXISTS ml_predictions`);
    await db.query(`DROP TABLE IF EXISTS ml_ab_arms`);
    await db.query(`DROP TABLE IF EXISTS ml_model_versions`);
    await db.query(`DROP TABLE IF EXISTS ml_models`);
  }
}
