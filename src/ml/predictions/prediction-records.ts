import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The fields of a recorded prediction that feedback needs. */
export interface RecordedPrediction {
  model_name: string;
  arm: string;
  model_version: string;
  direction: string;
  expected_return: number | null;
  user_id: string | null;
  project_id: string | null;
}

export interface FeedbackRow {
  predictionId: string;
  outcomeDirection: string;
  outcomeReturn: number | null;
  hit: boolean;
  absError: number | null;
}

/** Aggregates of one A/B arm over the recorded predictions. */
export interface ArmStats {
  arm: string;
  predictions: number;
  latencyMean: number;
  latencyP50: number;
  latencyP95: number;
  fallbacks: number;
  feedback: number;
  hits: number;
  meanAbsError: number | null;
}

/** Reads of ml_predictions and writes of ml_feedback (the predictions themselves are written by PredictionLog). */
@Injectable()
export class PredictionRecords {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(id: string): Promise<RecordedPrediction | undefined> {
    const rows: RecordedPrediction[] = await this.dataSource.query(
      `SELECT model_name, arm, model_version, direction, expected_return, user_id, project_id
         FROM ml_predictions WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row && { ...row, expected_return: row.expected_return === null ? null : Number(row.expected_return) };
  }

  /** Records the outcome of a prediction; a later outcome replaces an earlier one. */
  async saveFeedback(feedback: FeedbackRow): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ml_feedback (prediction_id, outcome_direction, outcome_return, hit, abs_error)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (prediction_id) DO UPDATE
         SET outcome_direction = EXCLUDED.outcome_direction, outcome_return = EXCLUDED.outcome_return,
             hit = EXCLUDED.hit, abs_error = EXCLUDED.abs_error, created_at = now()`,
      [feedback.predictionId, feedback.outcomeDirection, feedback.outcomeReturn, feedback.hit, feedback.absError],
    );
  }

  /** Per-arm counts, latency percentiles and outcome statistics of a model, since `since` (or ever). */
  async armStats(model: string, since?: Date): Promise<ArmStats[]> {
    const params: unknown[] = [model];
    let window = '';
    if (since) {
      params.push(since);
      window = 'AND p.created_at >= $2';
    }
    const rows: Record<string, string | number | null>[] = await this.dataSource.query(
      `SELECT p.arm,
              count(*) AS predictions,
              avg(p.latency_ms) AS mean,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY p.latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY p.latency_ms) AS p95,
              count(*) FILTER (WHERE p.fallback) AS fallbacks,
              count(f.prediction_id) AS feedback,
              count(*) FILTER (WHERE f.hit) AS hits,
              avg(f.abs_error) AS mean_abs_error
         FROM ml_predictions p
         LEFT JOIN ml_feedback f ON f.prediction_id = p.id
        WHERE p.model_name = $1 ${window}
        GROUP BY p.arm
        ORDER BY p.arm`,
      params,
    );
    return rows.map((r) => ({
      arm: String(r.arm),
      predictions: Number(r.predictions),
      latencyMean: Number(r.mean),
      latencyP50: Number(r.p50),
      latencyP95: Number(r.p95),
      fallbacks: Number(r.fallbacks),
      feedback: Number(r.feedback),
      hits: Number(r.hits),
      meanAbsError: r.mean_abs_error === null ? null : Number(r.mean_abs_error),
    }));
  }
}
