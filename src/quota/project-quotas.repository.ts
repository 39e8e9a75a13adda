import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import type { ProjectQuotaLimits } from './dto/quota';
import { ProjectQuotaEntity } from './project-quota.entity';

export type StoredLimits = Required<ProjectQuotaLimits>;

export const NO_LIMITS: StoredLimits = Object.freeze({
  daily_credits: null,
  monthly_credits: null,
  rpm: null,
  tpm: null,
});

const COLUMNS = ['daily_credits', 'monthly_credits', 'rpm', 'tpm'] as const;

type RawRow = Record<(typeof COLUMNS)[number], string | number | null>;

const toNumber = (value: string | number | null): number | null => (value === null ? null : Number(value));

function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23503';
}

/** The project_quotas table: limits in credits (decimal) and per minute, null = unlimited. */
@Injectable()
export class ProjectQuotasRepository {
  constructor(@InjectRepository(ProjectQuotaEntity) private readonly rows: Repository<ProjectQuotaEntity>) {}

  async find(projectId: string): Promise<StoredLimits> {
    const row = await this.rows.findOneBy({ projectId });
    if (!row) return NO_LIMITS;
    return { daily_credits: row.dailyCredits, monthly_credits: row.monthlyCredits, rpm: row.rpm, tpm: row.tpm };
  }

  /** Changes the given limits (absent = kept, null = cleared) in one statement; 404 for an unknown project. */
  async save(projectId: string, changes: ProjectQuotaLimits): Promise<StoredLimits> {
    const given = COLUMNS.filter((column) => changes[column] !== undefined);
    const updates = [...given.map((column) => `${column} = EXCLUDED.${column}`), 'updated_at = now()'].join(', ');
    try {
      const [row] = await this.rows.query<RawRow[]>(
        `INSERT INTO project_quotas (project_id, ${COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id) DO UPDATE SET ${updates}
         RETURNING ${COLUMNS.join(', ')}`,
        [projectId, ...COLUMNS.map((column) => changes[column] ?? null)],
      );
      return {
        daily_credits: toNumber(row.daily_credits),
        monthly_credits: toNumber(row.monthly_credits),
        rpm: toNumber(row.rpm),
        tpm: toNumber(row.tpm),
      };
    } catch (err) {
      if (isForeignKeyViolation(err)) throw AppError.notFound('Project');
      throw err;
    }
  }
}
