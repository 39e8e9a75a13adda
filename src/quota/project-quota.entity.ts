import { Column, Entity, PrimaryColumn, UpdateDateColumn, ValueTransformer } from 'typeorm';

/** numeric and bigint columns arrive as strings from pg. */
const nullableNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** A project's limits (table project_quotas, owned by the quota module). Null = unlimited. */
@Entity('project_quotas')
export class ProjectQuotaEntity {
  @PrimaryColumn({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({
    name: 'daily_credits',
    type: 'numeric',
    precision: 18,
    scale: 6,
    nullable: true,
    transformer: nullableNumber,
  })
  dailyCredits!: number | null;

  @Column({
    name: 'monthly_credits',
    type: 'numeric',
    precision: 18,
    scale: 6,
    nullable: true,
    transformer: nullableNumber,
  })
  monthlyCredits!: number | null;

  @Column({ type: 'integer', nullable: true })
  rpm!: number | null;

  @Column({ type: 'bigint', nullable: true, transformer: nullableNumber })
  tpm!: number | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
