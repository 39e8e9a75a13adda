import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, IsNull, Repository } from 'typeorm';
import type { ApiKeyPrincipal } from '../common/auth/principal';
import { isDependencyUnavailable } from '../common/errors/all-exceptions.filter';
import { AppError } from '../common/errors/app-error';
import { waitAtMost } from '../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeyEntity, ApiKeySecretEntity } from './entities';
import { generateApiKey, hashesEqual, parseApiKey } from './secrets';

export interface ApiKeyView {
  id: string;
  project_id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  /** Until when a secret replaced by a rotation keeps working; null when none does. */
  previous_key_expires_at: Date | null;
}

/** What names a key in a report: its name and the visible prefix of its current secret. */
export interface ApiKeyLabel {
  name: string;
  prefix: string;
}

export interface IssuedApiKey extends ApiKeyView {
  /** The secret, returned once and never again. */
  key: string;
}

/** last_used_at is written at most this often per key, to keep auth cheap. */
const LAST_USED_RESOLUTION_MS = 60_000;

type ParsedApiKey = NonNullable<ReturnType<typeof parseApiKey>>;

/**
 * Project-scoped API keys. Only a SHA-256 of each (high-entropy) key is stored,
 * with a visible prefix to find it by. Rotation keeps the previous secret valid
 * for a grace period; revocation is immediate.
 */
@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly cache: ApiKeyCache;
  /** When this instance last wrote last_used_at, per key. */
  private readonly touched = new Map<string, number>();
  /** Verifications under way, by key hash: concurrent callers of one key share one query. */
  private readonly verifying = new Map<string, Promise<ApiKeyPrincipal | null>>();

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    @InjectRepository(ApiKeySecretEntity) private readonly secrets: Repository<ApiKeySecretEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    redis: RedisService,
  ) {
    this.cache = new ApiKeyCache(
      config.API_KEY_CACHE_TTL_SECONDS * 1000,
      config.API_KEY_OUTAGE_GRACE_SECONDS * 1000,
      redis.client,
      `${config.REDIS_KEY_PREFIX}auth:api-key-invalidated`,
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.cache.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.cache.stop();
  }

  async create(projectId: string, createdBy: string, name: string, expiresAt: Date | null): Promise<IssuedApiKey> {
    if (expiresAt && expiresAt <= new Date()) {
      throw new AppError('validation_failed', 'expires_at must be in the future', {
        details: [{ field: 'expires_at', messages: ['must be in the future'] }],
      });
    }
    const generated = generateApiKey();
    const key = await this.dataSource.transaction(async (tx) => {
      const row = await tx.save(
        tx.create(ApiKeyEntity, {
          projectId,
          createdBy,
          name: name.trim(),
          expiresAt,
          revokedAt: null,
          lastUsedAt: null,
        }),
      );
      await tx.insert(ApiKeySecretEntity, {
        apiKeyId: row.id,
        prefix: generated.prefix,
        secretHash: generated.hash,
        expiresAt: null,
      });
      return row;
    });
    return { ...this.view(key, generated.prefix), key: generated.key };
  }

  async list(projectId: string): Promise<ApiKeyView[]> {
    const keys = await this.keys.find({ where: { projectId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
    const secrets = await this.liveSecrets(keys.map((k) => k.id));
    return keys.map((k) => {
      const live = secrets.get(k.id);
      return this.view(k, live?.prefix ?? '', live?.previousExpiresAt ?? null);
    });
  }

  /** The labels of the project's keys among `keyIds`, revoked keys included (their usage stays reported). */
  async labels(projectId: string, keyIds: readonly string[]): Promise<Map<string, ApiKeyLabel>> {
    if (keyIds.length === 0) return new Map();
    const keys = await this.keys.find({ where: { projectId, id: In([...keyIds]) } });
    const secrets = await this.liveSecrets(keys.map((k) => k.id));
    return new Map(keys.map((k) => [k.id, { name: k.name, prefix: secrets.get(k.id)?.prefix ?? '' }]));
  }

  async rotate(projectId: string, keyId: string): Promise<IssuedApiKey & { previous_key_expires_at: Date }> {
    const key = await this.findActive(projectId, keyId);
    const generated = generateApiKey();
    const graceEnds = new Date(Date.now() + this.config.API_KEY_ROTATION_GRACE_SECONDS * 1000);
    await this.dataSource.transaction(async (tx) => {
      // Secrets already expiring keep their earlier end; the current one gets the grace period.
      await tx
        .createQueryBuilder()
        .update(ApiKeySecretEntity)
        .set({ expiresAt: graceEnds })
        .where('api_key_id = :id AND (expires_at IS NULL OR expires_at > :graceEnds)', { id: key.id, graceEnds })
        .execute();
      await tx.insert(ApiKeySecretEntity, {
        apiKeyId: key.id,
        prefix: generated.prefix,
        secretHash: generated.hash,
        expiresAt: null,
      });
    });
    await this.cache.invalidate(key.id);
    return { ...this.view(key, generated.prefix, graceEnds), key: generated.key, previous_key_expires_at: graceEnds };
  }

  async revoke(projectId: string, keyId: string): Promise<void> {
    const key = await this.findActive(projectId, keyId);
    await this.keys.update({ id: key.id }, { revokedAt: new Date() });
    await this.cache.invalidate(key.id);
  }

  /**
   * Resolves a presented key to its principal, or null when it is unknown, expired or revoked.
   * A cached verdict is served at once (and confirmed in the background once its TTL has
   * passed); a key not in the cache waits for Postgres at most DATABASE_HOT_PATH_TIMEOUT_MS.
   */
  async authenticate(presented: string): Promise<ApiKeyPrincipal | null> {
    const parsed = parseApiKey(presented);
    if (!parsed) return null;
    const cached = this.cache.get(parsed.hash);
    if (cached) {
      if (cached.recheck) this.recheck(parsed);
      this.touch(cached.principal.keyId);
      return cached.principal;
    }
    return waitAtMost(this.verify(parsed), this.config.DATABASE_HOT_PATH_TIMEOUT_MS, 'API key check');
  }

  /**
   * Confirms a cached verdict in the background: a key Postgres no longer accepts is dropped;
   * when Postgres cannot be reached, the verdict is kept (within API_KEY_OUTAGE_GRACE_SECONDS).
   */
  private recheck(parsed: ParsedApiKey): void {
    if (this.verifying.has(parsed.hash)) return;
    this.verify(parsed).catch((err: unknown) => {
      if (isDependencyUnavailable(err)) {
        this.cache.unconfirmed(parsed.hash);
        return;
      }
      this.cache.drop(parsed.hash);
      this.logger.warn(`could not confirm a cached API key: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** One query per key hash at a time; caches the verdict, or drops the key when it is no longer valid. */
  private verify(parsed: ParsedApiKey): Promise<ApiKeyPrincipal | null> {
    const running = this.verifying.get(parsed.hash);
    if (running) return running;
    const verification = this.lookUp(parsed).finally(() => this.verifying.delete(parsed.hash));
    this.verifying.set(parsed.hash, verification);
    return verification;
  }

  private async lookUp(parsed: ParsedApiKey): Promise<ApiKeyPrincipal | null> {
    const row = await this.dataSource
      .createQueryBuilder()
      .select([
        's.secret_hash AS secret_hash',
        'k.id AS key_id',
        'k.project_id AS project_id',
        'k.created_by AS created_by',
        'k.last_used_at AS last_used_at',
        'k.expires_at AS key_expires_at',
        's.expires_at AS secret_expires_at',
      ])
      .from(ApiKeySecretEntity, 's')
      .innerJoin(ApiKeyEntity, 'k', 'k.id = s.api_key_id')
      .where('s.prefix = :prefix', { prefix: parsed.prefix })
      .andWhere('(s.expires_at IS NULL OR s.expires_at > now())')
      .andWhere('k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())')
      .getRawOne<{
        secret_hash: string;
        key_id: string;
        project_id: string;
        created_by: string;
        last_used_at: Date | null;
        key_expires_at: Date | null;
        secret_expires_at: Date | null;
      }>();
    if (!row || !hashesEqual(row.secret_hash, parsed.hash)) {
      this.cache.drop(parsed.hash);
      return null;
    }
    this.touch(row.key_id, row.last_used_at);
    const principal: ApiKeyPrincipal = {
      kind: 'api_key',
      keyId: row.key_id,
      projectId: row.project_id,
      userId: row.created_by,
      role: 'member',
    };
    // Trusted for the cache TTL (and its outage grace), never past the key's or this secret's own expiry.
    this.cache.set(parsed.hash, principal, earliest(row.key_expires_at, row.secret_expires_at));
    return principal;
  }

  private touch(keyId: string, lastUsedAt: Date | null = null): void {
    const now = Date.now();
    const last = Math.max(this.touched.get(keyId) ?? 0, lastUsedAt?.getTime() ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    if (this.touched.size > 100_000) this.touched.clear();
    this.touched.set(keyId, now);
    this.keys.update({ id: keyId }, { lastUsedAt: new Date() }).catch((err: unknown) => {
      this.logger.warn(`could not record key use: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async findActive(projectId: string, keyId: string): Promise<ApiKeyEntity> {
    const key = await this.keys.findOneBy({ id: keyId, projectId, revokedAt: IsNull() });
    if (!key) throw AppError.notFound('API key');
    return key;
  }

  /** Per key: the prefix of its current secret, and the latest end of a replaced secret still working. */
  private async liveSecrets(keyIds: string[]): Promise<Map<string, { prefix?: string; previousExpiresAt?: Date }>> {
    const live = new Map<string, { prefix?: string; previousExpiresAt?: Date }>();
    if (keyIds.length === 0) return live;
    const rows = await this.secrets
      .createQueryBuilder('s')
      .where('s.api_key_id IN (:...keyIds) AND (s.expires_at IS NULL OR s.expires_at > now())', { keyIds })
      .getMany();
    for (const row of rows) {
      const entry = live.get(row.apiKeyId) ?? {};
      if (row.expiresAt === null) entry.prefix = row.prefix;
      else if (!entry.previousExpiresAt || row.expiresAt > entry.previousExpiresAt)
        entry.previousExpiresAt = row.expiresAt;
      live.set(row.apiKeyId, entry);
    }
    return live;
  }

  private view(key: ApiKeyEntity, prefix: string, previousExpiresAt: Date | null = null): ApiKeyView {
    return {
      id: key.id,
      project_id: key.projectId,
      name: key.name,
      prefix,
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      expires_at: key.expiresAt,
      previous_key_expires_at: previousExpiresAt,
    };
  }
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a && b) return a < b ? a : b;
  return a ?? b;
}
