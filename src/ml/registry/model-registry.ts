import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../../common/errors/app-error';
import { MlAbArmEntity, MlModelEntity, MlModelVersionEntity } from './entities';
import type { InputSignature, OutputMapping, Stage } from './registry.types';

/** The answer for a model name the registry does not hold. */
export function unknownModel(name: string): AppError {
  return new AppError('model_not_found', `Model "${name}" is not registered`);
}

/** The answer for a version a model does not have. */
export function unknownVersion(model: string, version: string): AppError {
  return new AppError('model_not_found', `Model "${model}" has no version "${version}"`);
}

/** A model with its versions (oldest first) and its A/B arms, as read in one go. */
export interface RegistryModel {
  model: MlModelEntity;
  versions: MlModelVersionEntity[];
  arms: { versionId: string; version: string; weight: number }[];
}

export interface NewVersion {
  version: string;
  artifactPath: string;
  sha256: string;
  sizeBytes: number;
  metrics: Record<string, unknown>;
  description: string | null;
  stage: Stage;
}

function pgCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

function constraintOf(error: unknown): string {
  const e = error as { constraint?: unknown; driverError?: { constraint?: unknown } } | null;
  const c = e?.constraint ?? e?.driverError?.constraint;
  return typeof c === 'string' ? c : '';
}

/**
 * The model registry in Postgres: models, their immutable versions with a movable stage, and A/B arms.
 * Stage changes run in one transaction each; the partial unique index keeps one production version.
 */
@Injectable()
export class ModelRegistry {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(): Promise<RegistryModel[]> {
    const models = await this.dataSource.getRepository(MlModelEntity).find({ order: { name: 'ASC' } });
    if (models.length === 0) return [];
    const versions = await this.dataSource
      .getRepository(MlModelVersionEntity)
      .find({ order: { createdAt: 'ASC', version: 'ASC' } });
    const arms = await this.dataSource.getRepository(MlAbArmEntity).find();
    return models.map((model) => this.assemble(model, versions, arms));
  }

  async find(name: string): Promise<RegistryModel | undefined> {
    const model = await this.dataSource.getRepository(MlModelEntity).findOne({ where: { name } });
    if (!model) return undefined;
    const versions = await this.dataSource
      .getRepository(MlModelVersionEntity)
      .find({ where: { modelId: model.id }, order: { createdAt: 'ASC', version: 'ASC' } });
    const arms = await this.dataSource.getRepository(MlAbArmEntity).find({ where: { modelId: model.id } });
    return this.assemble(model, versions, arms);
  }

  async get(name: string): Promise<RegistryModel> {
    const found = await this.find(name);
    if (!found) throw unknownModel(name);
    return found;
  }

  /** Creates a model; 409 when the name is taken. */
  async createModel(fields: {
    name: string;
    task: string;
    inputSignature: InputSignature;
    outputMapping: OutputMapping;
  }): Promise<MlModelEntity> {
    try {
      return await this.dataSource
        .getRepository(MlModelEntity)
        .save(this.dataSource.getRepository(MlModelEntity).create(fields));
    } catch (error) {
      if (pgCode(error) === '23505') throw new AppError('conflict', `Model "${fields.name}" already exists`);
      throw error;
    }
  }

  /**
   * Creates a model together with its first version, as one transaction; resolves false when another
   * instance created the model first (nothing is written then). `commitFile` runs inside the transaction.
   */
  async createModelWithVersion(
    fields: { name: string; task: string; inputSignature: InputSignature; outputMapping: OutputMapping },
    version: NewVersion,
    commitFile: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await this.dataSource.transaction(async (tx) => {
        const inserted = await tx
          .createQueryBuilder()
          .insert()
          .into(MlModelEntity)
          .values(fields)
          .orIgnore()
          .returning(['id'])
          .execute();
        const id = (inserted.raw as { id?: string }[])[0]?.id;
        if (!id) throw new ModelExists();
        await this.insertVersionRow(tx, id, version);
        await commitFile();
      });
      return true;
    } catch (error) {
      if (error instanceof ModelExists) return false;
      throw error;
    }
  }

  /**
   * Inserts a version; when its stage is production the current production version is demoted to
   * `none` in the same transaction. `commitFile` (moving the artifact into place) runs before the
   * commit, so a failed move leaves no row and a failed insert leaves the file in the incoming folder.
   */
  async insertVersion(
    modelId: string,
    version: NewVersion,
    commitFile: () => Promise<void>,
  ): Promise<MlModelVersionEntity> {
    try {
      return await this.dataSource.transaction(async (tx) => {
        if (version.stage === 'production') await this.demoteProduction(tx, modelId, 'none');
        const row = await this.insertVersionRow(tx, modelId, version);
        await commitFile();
        return row;
      });
    } catch (error) {
      throw this.conflict(error, version.version);
    }
  }

  /**
   * Moves a version to `stage`. Promoting demotes the current production version (to `archived` when
   * `archivePrevious`, else `none`); archiving a version that is an A/B arm is refused.
   */
  async setStage(
    modelId: string,
    versionId: string,
    stage: Stage,
    archivePrevious: boolean,
  ): Promise<{ previousProduction?: string }> {
    try {
      return await this.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(MlModelVersionEntity);
        const current = await repo.findOne({ where: { id: versionId }, lock: { mode: 'pessimistic_write' } });
        if (!current) throw AppError.notFound('Version');
        if (stage === 'archived' && (await tx.getRepository(MlAbArmEntity).exist({ where: { versionId } }))) {
          throw new AppError(
            'conflict',
            `Version "${current.version}" is an arm of the A/B split; change the split first`,
          );
        }
        let previousProduction: string | undefined;
        if (stage === 'production' && current.stage !== 'production') {
          previousProduction = await this.demoteProduction(tx, modelId, archivePrevious ? 'archived' : 'none');
        }
        if (current.stage !== stage) await repo.update({ id: versionId }, { stage, stageChangedAt: new Date() });
        return { previousProduction };
      });
    } catch (error) {
      throw this.conflict(error);
    }
  }

  /** Replaces the model's A/B arms (an empty list removes the split). */
  async setSplit(modelId: string, arms: { versionId: string; weight: number }[]): Promise<void> {
    try {
      await this.dataSource.transaction(async (tx) => {
        await tx.getRepository(MlAbArmEntity).delete({ modelId });
        if (arms.length > 0) {
          await tx
            .getRepository(MlAbArmEntity)
            .insert(arms.map((a) => ({ modelId, versionId: a.versionId, weight: a.weight })));
        }
        await tx.getRepository(MlModelEntity).update({ id: modelId }, { updatedAt: new Date() });
      });
    } catch (error) {
      throw this.conflict(error);
    }
  }

  /** Deletes a version row (its artifact is the caller's to remove); refused while it serves. */
  async deleteVersion(version: MlModelVersionEntity): Promise<void> {
    try {
      await this.dataSource.transaction(async (tx) => {
        const row = await tx
          .getRepository(MlModelVersionEntity)
          .findOne({ where: { id: version.id }, lock: { mode: 'pessimistic_write' } });
        if (!row) throw AppError.notFound('Version');
        if (row.stage === 'production') {
          throw new AppError(
            'conflict',
            `Version "${row.version}" is in production; promote another version or change its stage first`,
          );
        }
        if (await tx.getRepository(MlAbArmEntity).exist({ where: { versionId: row.id } })) {
          throw new AppError('conflict', `Version "${row.version}" is an arm of the A/B split; change the split first`);
        }
        await tx.getRepository(MlModelVersionEntity).delete({ id: row.id });
      });
    } catch (error) {
      throw this.conflict(error);
    }
  }

  /** Deletes a model and all its versions; refused while one of them is in production or in a split. */
  async deleteModel(entry: RegistryModel): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const versions = await tx
        .getRepository(MlModelVersionEntity)
        .find({ where: { modelId: entry.model.id }, lock: { mode: 'pessimistic_write' } });
      const production = versions.find((v) => v.stage === 'production');
      if (production) {
        throw new AppError(
          'conflict',
          `Version "${production.version}" is in production; archive it before deleting the model`,
        );
      }
      if (await tx.getRepository(MlAbArmEntity).exist({ where: { modelId: entry.model.id } })) {
        throw new AppError('conflict', 'The model has an A/B split; remove it before deleting the model');
      }
      await tx.getRepository(MlModelEntity).delete({ id: entry.model.id });
    });
  }

  private assemble(model: MlModelEntity, versions: MlModelVersionEntity[], arms: MlAbArmEntity[]): RegistryModel {
    const own = versions.filter((v) => v.modelId === model.id);
    const byId = new Map(own.map((v) => [v.id, v]));
    return {
      model,
      versions: own,
      arms: arms
        .filter((a) => a.modelId === model.id && byId.has(a.versionId))
        .map((a) => ({ versionId: a.versionId, version: byId.get(a.versionId)!.version, weight: a.weight }))
        .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0)),
    };
  }

  private async insertVersionRow(
    tx: EntityManager,
    modelId: string,
    version: NewVersion,
  ): Promise<MlModelVersionEntity> {
    const repo = tx.getRepository(MlModelVersionEntity);
    const now = new Date();
    return repo.save(
      repo.create({
        modelId,
        version: version.version,
        artifactPath: version.artifactPath,
        sha256: version.sha256,
        sizeBytes: version.sizeBytes,
        metrics: version.metrics,
        description: version.description,
        stage: version.stage,
        stageChangedAt: now,
      }),
    );
  }

  /** Moves the current production version (if any) to `to`; returns its version id. */
  private async demoteProduction(tx: EntityManager, modelId: string, to: Stage): Promise<string | undefined> {
    const repo = tx.getRepository(MlModelVersionEntity);
    const current = await repo.findOne({
      where: { modelId, stage: 'production' },
      lock: { mode: 'pessimistic_write' },
    });
    if (!current) return undefined;
    if (to === 'archived' && (await tx.getRepository(MlAbArmEntity).exist({ where: { versionId: current.id } }))) {
      to = 'none';
    }
    await repo.update({ id: current.id }, { stage: to, stageChangedAt: new Date() });
    return current.version;
  }

  private conflict(error: unknown, version?: string): unknown {
    if (error instanceof AppError) return error;
    if (pgCode(error) === '23505') {
      const constraint = constraintOf(error);
      if (constraint === 'ml_model_versions_model_version_key' && version) {
        return new AppError('conflict', `Version "${version}" already exists`);
      }
      if (constraint === 'ml_model_versions_one_production') {
        return new AppError('conflict', 'Another version was promoted to production at the same time; retry');
      }
      return new AppError('conflict', 'The registry changed concurrently; retry');
    }
    if (pgCode(error) === '23503') return new AppError('conflict', 'A version of the split no longer exists; retry');
    return error;
  }
}

class ModelExists extends Error {}
