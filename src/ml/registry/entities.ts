import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  ValueTransformer,
} from 'typeorm';
import type { InputSignature, OutputMapping, Stage } from './registry.types';

/** bigint columns arrive as strings from pg. */
const bigintNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** A registered model (table ml_models). */
@Entity('ml_models')
export class MlModelEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 500 })
  task!: string;

  @Column({ name: 'input_signature', type: 'jsonb' })
  inputSignature!: InputSignature;

  @Column({ name: 'output_mapping', type: 'jsonb' })
  outputMapping!: OutputMapping;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @OneToMany(() => MlModelVersionEntity, (v) => v.model)
  versions?: MlModelVersionEntity[];

  @OneToMany(() => MlAbArmEntity, (a) => a.model)
  arms?: MlAbArmEntity[];
}

/** One immutable version of a model (table ml_model_versions); `stage` is its movable alias. */
@Entity('ml_model_versions')
export class MlModelVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'model_id', type: 'uuid' })
  modelId!: string;

  @ManyToOne(() => MlModelEntity, (m) => m.versions, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id' })
  model?: MlModelEntity;

  @Column({ type: 'varchar', length: 100 })
  version!: string;

  /** Path of the ONNX file relative to MODEL_STORE_DIR. */
  @Column({ name: 'artifact_path', type: 'varchar', length: 500 })
  artifactPath!: string;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ name: 'size_bytes', type: 'bigint', transformer: bigintNumber })
  sizeBytes!: number;

  @Column({ type: 'jsonb', default: {} })
  metrics!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'none' })
  stage!: Stage;

  @Column({ name: 'stage_changed_at', type: 'timestamptz' })
  stageChangedAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** One arm of a model's A/B split (table ml_ab_arms). */
@Entity('ml_ab_arms')
export class MlAbArmEntity {
  @PrimaryColumn({ name: 'model_id', type: 'uuid' })
  modelId!: string;

  @PrimaryColumn({ name: 'version_id', type: 'uuid' })
  versionId!: string;

  @ManyToOne(() => MlModelEntity, (m) => m.arms, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id' })
  model?: MlModelEntity;

  @Column({ type: 'integer' })
  weight!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A recorded prediction (table ml_predictions); written in batches by PredictionLog. */
@Entity('ml_predictions')
export class MlPredictionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'model_name', type: 'varchar', length: 100 })
  modelName!: string;

  /** The version the router assigned. */
  @Column({ type: 'varchar', length: 100 })
  arm!: string;

  /** The version that answered (the fallback's when a remote worker could not). */
  @Column({ name: 'model_version', type: 'varchar', length: 100 })
  modelVersion!: string;

  @Column({ name: 'served_by', type: 'varchar', length: 16 })
  servedBy!: 'local' | 'remote';

  @Column({ type: 'boolean', default: false })
  fallback!: boolean;

  @Column({ type: 'varchar', length: 64, nullable: true })
  symbol!: string | null;

  @Column({ type: 'varchar', length: 8 })
  direction!: string;

  @Column({ type: 'real' })
  confidence!: number;

  @Column({ name: 'expected_return', type: 'double precision', nullable: true })
  expectedReturn!: number | null;

  @Column({ name: 'latency_ms', type: 'real' })
  latencyMs!: number;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId!: string | null;

  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** The observed outcome of a prediction (table ml_feedback). */
@Entity('ml_feedback')
export class MlFeedbackEntity {
  @PrimaryColumn({ name: 'prediction_id', type: 'uuid' })
  predictionId!: string;

  @Column({ name: 'outcome_direction', type: 'varchar', length: 8 })
  outcomeDirection!: string;

  @Column({ name: 'outcome_return', type: 'double precision', nullable: true })
  outcomeReturn!: number | null;

  @Column({ type: 'boolean' })
  hit!: boolean;

  @Column({ name: 'abs_error', type: 'double precision', nullable: true })
  absError!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

export const ML_ENTITIES = [MlModelEntity, MlModelVersionEntity, MlAbArmEntity, MlPredictionEntity, MlFeedbackEntity];
