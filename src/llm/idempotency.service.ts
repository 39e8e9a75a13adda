import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface Record_ {
  state: 'in_progress' | 'done';
  hash: string;
  response?: StoredResponse;
}

export type Claim =
  { kind: 'claimed' } | { kind: 'in_progress' } | { kind: 'mismatch' } | { kind: 'replay'; response: StoredResponse };

/** Canonical JSON: object keys sorted, so that key order does not change the hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(method: string, path: string, body: unknown, upload?: Buffer): string {
  const hash = createHash('sha256').update(`${method} ${path}\n${canonical(body)}`);
  if (upload) hash.update('\n').update(upload);
  return hash.digest('hex');
}

/**
 * Idempotency keys (scoped per project): the first request claims the key with
 * `SET NX` and its body hash; a concurrent duplicate gets 409, a different body
 * 422, and a later duplicate the stored response. Failures free the key.
 */
@Injectable()
export class IdempotencyService {
  private readonly memory = new Map<string, { record: Record_; expiresAt: number }>();

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  private key(scope: string, key: string): string {
    return `${this.config.REDIS_KEY_PREFIX}idem:${scope}:${createHash('sha256').update(key).digest('hex')}`;
  }

  async claim(scope: string, key: string, hash: string): Promise<Claim> {
    const k = this.key(scope, key);
    const fresh: Record_ = { state: 'in_progress', hash };
    const existing = await this.setIfAbsent(k, fresh);
    if (existing === null) return { kind: 'claimed' };
    if (existing.hash !== hash) return { kind: 'mismatch' };
    if (existing.state === 'in_progress' || !existing.response) return { kind: 'in_progress' };
    return { kind: 'replay', response: existing.response };
  }

  async complete(scope: string, key: string, hash: string, response: StoredResponse): Promise<void> {
    await this.write(this.key(scope, key), { state: 'done', hash, response });
  }

  async abandon(scope: string, key: string): Promise<void> {
    const k = this.key(scope, key);
    if (this.redis.client) await this.redis.client.del(k);
    else this.memory.delete(k);
  }

  private get ttlSeconds(): number {
    return this.config.IDEMPOTENCY_TTL_SECONDS;
  }

  /** Stores `record` unless the key exists; returns the existing record, or null when stored. */
  private async setIfAbsent(k: string, record: Record_): Promise<Record_ | null> {
    const client = this.redis.client;
    if (client) {
      const set = await client.set(k, JSON.stringify(record), 'EX', this.ttlSeconds, 'NX');
      if (set === 'OK') return null;
      const raw = await client.get(k);
      return raw === null ? this.setIfAbsent(k, record) : (JSON.parse(raw) as Record_);
    }
    const now = Date.now();
    const found = this.memory.get(k);
    if (found && found.expiresAt > now) return found.record;
    this.memory.set(k, { record, expiresAt: now + this.ttlSeconds * 1000 });
    return null;
  }

  private async write(k: string, record: Record_): Promise<void> {
    const client = this.redis.client;
    if (client) await client.set(k, JSON.stringify(record), 'EX', this.ttlSeconds);
    else this.memory.set(k, { record, expiresAt: Date.now() + this.ttlSeconds * 1000 });
  }
}
