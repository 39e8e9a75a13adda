import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { LedgerEntry } from './dto/ledger-entry';
import {
  LedgerBatch,
  LedgerBuffer,
  LedgerBufferStats,
  LedgerBufferUnavailable,
  LedgerHandOff,
  RejectedEntry,
} from './ledger.buffer';
import { normalizeLedgerEntry } from './ledger-entry.rules';
import {
  compareIds,
  idTime,
  maxId,
  PAYLOAD_FIELD,
  parseAutoClaim,
  parseConsumers,
  parsePendingIds,
  parseReadGroup,
  StreamItem,
} from './ledger-stream';
import { MemoryLedgerBuffer } from './memory-ledger.buffer';
import { asRedisError, SilenceEvidence } from '../common/upstream/redis-circuit';

export const LEDGER_GROUP = 'ledger-writers';

/** How often the stale-entry sweep (XAUTOCLAIM) starts over. */
const SWEEP_INTERVAL_MS = 5_000;
/** A consumer with nothing pending and no activity for this long is a gone instance: removed. */
const GONE_CONSUMER_IDLE_MS = 3_600_000;
/** Idle time given at shutdown to the entries this instance leaves pending: the next sweep claims them. */
const HAND_OFF_IDLE_MS = 365 * 24 * 3_600_000;
const PAGE = 1_000;

/**
 * KEYS: stream, epoch. ARGV: this instance's epoch candidate, the stream bound, then the entries' JSON.
 * Returns {epoch, id1, id2, ...}; an id is '' when the stream held `bound` entries already (not added).
 * The epoch names the Redis dataset: a Redis that lost its data (restarted empty) has another one.
 */
const APPEND_SCRIPT = `
redis.call('SET', KEYS[2], ARGV[1], 'NX')
local out = {redis.call('GET', KEYS[2])}
local bound = tonumber(ARGV[2])
local length = redis.call('XLEN', KEYS[1])
for i = 3, #ARGV do
  if length >= bound then
    out[i - 1] = ''
  else
    out[i - 1] = redis.call('XADD', KEYS[1], '*', '${PAYLOAD_FIELD}', ARGV[i])
    length = length + 1
  end
end
return out
`;

type AppendCommand = (
  stream: string,
  epochKey: string,
  epoch: string,
  bound: number,
  ...json: string[]
) => Promise<unknown>;

/**
 * Entries recorded within this window (or until APPEND_BATCH_MAX of them) go to the stream in one
 * script call: one round trip and one script run in Redis for all of them, where each used to have
 * its own. They wait in the process that long at most.
 */
const APPEND_WINDOW_MS = 5;
const APPEND_BATCH_MAX = 200;

interface PendingAppend {
  entry: LedgerEntry;
  done: () => void;
}

export interface RedisLedgerBufferOptions {
  /** Key prefix of the deployment (REDIS_KEY_PREFIX). */
  prefix: string;
  /** Pending entries idle this long belong to a dead instance and are claimed. */
  staleAfterMs: number;
  /** Most entries the stream may hold (LEDGER_STREAM_MAX_ENTRIES); beyond, entries wait in this process. */
  maxEntries: number;
  /** The bound of every Redis command (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs: number;
}

/** An entry this process appended to the stream, kept until the stream shows it written (or lost). */
interface Journaled {
  entry: LedgerEntry;
  /** The Redis dataset it was appended to. */
  epoch: string;
}

type Source = 'pending' | 'claimed' | 'new';

/**
 * A Redis Stream shared by every instance, drained through one consumer group:
 * `record` is one XADD; each instance's writer reads with XREADGROUP, and only after
 * the Postgres commit acknowledges and deletes (XACK + XDEL, atomically). Entries an
 * instance took but never acknowledged (it crashed) stay pending and are claimed by
 * another writer (XAUTOCLAIM) once idle for `staleAfterMs`. While Redis is
 * unreachable, entries are held in a local spill, pushed back to the stream as soon
 * as Redis answers, or written straight to Postgres meanwhile.
 *
 * Redis may lose the stream (restarted without persistence): every entry appended
 * here is also kept in memory (the journal) until the stream shows it written, i.e.
 * deleted from a stream of the same dataset (epoch). When the epoch changed, the
 * journal's entries are appended again; the insert is idempotent on
 * (request_id, attempt), so an entry written twice is one row. The stream holds at
 * most `maxEntries`: beyond it (a long Postgres outage) entries wait in this
 * process's spill, `full` is raised and paid admissions are refused.
 */
export class RedisLedgerBuffer extends LedgerBuffer {
  readonly kind = 'redis';
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger('LedgerBuffer');
  private readonly stream: string;
  private readonly deadLetters: string;
  private readonly epochKey: string;
  /** A fresh epoch for each append (only the first append to an empty Redis sets it): never one seen before. */
  private readonly epochBase = randomBytes(8).toString('hex');
  private epochSequence = 0;
  private readonly spill = new MemoryLedgerBuffer('LedgerBuffer');
  private readonly journal = new Map<string, Journaled>();
  private readonly appendCommand: AppendCommand;
  /** Entries recorded and not sent yet (see APPEND_WINDOW_MS), and the sends under way. */
  private pendingAppends: PendingAppend[] = [];
  private appendTimer: NodeJS.Timeout | null = null;
  private readonly sending = new Set<Promise<void>>();
  private groupReady = false;
  private streamFull = false;
  private redisDown = false;
  /** Timeouts of appends show Redis down only as a run (one late reply after a stall does not). */
  private readonly silence = new SilenceEvidence();
  /** Newest id this process appended, and the id up to which the group has handed out everything. */
  private lastAppended: string | null = null;
  private deliveredUpTo = '0-0';
  /** A taken batch is not acknowledged yet, or more of this consumer's pending entries may remain. */
  private outstanding = false;
  private morePending = false;
  private claimCursor = '0-0';
  private nextSweepAt = 0;
  private streamStats: LedgerBufferStats = { depth: 0, oldestAgeMs: 0 };

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisLedgerBufferOptions,
  ) {
    super();
    this.stream = `${options.prefix}ledger:stream`;
    this.deadLetters = `${options.prefix}ledger:dead`;
    this.epochKey = `${options.prefix}ledger:epoch`;
    const name = 'confluxLedgerAppendMany';
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 2, lua: APPEND_SCRIPT });
    const command = (redis as unknown as Record<string, AppendCommand>)[name];
    this.appendCommand = command.bind(redis);
  }

  /** True while the stream is at its bound: new entries wait in this process. */
  override get full(): boolean {
    return this.streamFull;
  }

  /** Entries appended by this process that the stream does not show written yet. */
  get journaled(): number {
    return this.journal.size;
  }

  append(entry: LedgerEntry): Promise<void> {
    if (this.redis.status !== 'ready') {
      this.markRedisDown(new Error(`Redis connection is ${this.redis.status}`));
      return this.spill.append(entry);
    }
    return new Promise((done) => {
      this.pendingAppends.push({ entry, done });
      if (this.pendingAppends.length >= APPEND_BATCH_MAX) void this.sendAppends();
      else this.appendTimer ??= setTimeout(() => void this.sendAppends(), APPEND_WINDOW_MS);
    });
  }

  /** Sends the entries recorded so far in one script call; those the stream did not take wait in the spill. */
  private sendAppends(): Promise<void> {
    if (this.appendTimer) clearTimeout(this.appendTimer);
    this.appendTimer = null;
    const batch = this.pendingAppends;
    if (batch.length === 0) return Promise.resolve();
    this.pendingAppends = [];
    const send = this.appendBatch(batch).finally(() => {
      this.sending.delete(send);
      for (const { done } of batch) done();
    });
    this.sending.add(send);
    return send;
  }

  private async appendBatch(batch: readonly PendingAppend[]): Promise<void> {
    const sentAt = performance.now();
    let appended: boolean[];
    try {
      this.assertConnected();
      appended = await this.appendToStream(batch.map((p) => p.entry));
      if (appended.some(Boolean)) this.markRedisUp();
    } catch (err) {
      // The entries wait in this process either way; only an outage is announced.
      if (this.silence.shows(asRedisError(err, sentAt, this.options.commandTimeoutMs))) this.markRedisDown(err);
      appended = batch.map(() => false);
    }
    for (const [i, { entry }] of batch.entries()) if (!appended[i]) await this.spill.append(entry);
  }

  /** Resolves once every entry recorded before the call has been sent (or spilled). */
  private async flushAppends(): Promise<void> {
    await Promise.all([this.sendAppends(), ...this.sending]);
  }

  async take(max: number): Promise<LedgerBatch> {
    await this.flushAppends();
    if (this.redis.status === 'ready') await this.checkJournal().catch(() => undefined);
    if (this.spill.depth > 0 && this.redis.status === 'ready' && !this.streamFull) await this.returnSpillToStream();
    if (this.spill.depth > 0) return this.spill.take(max);
    return this.guard('read', () => this.takeFromStreamRecreatingGroup(max));
  }

  async stats(): Promise<LedgerBufferStats> {
    const spill = await this.spill.stats();
    if (this.redis.status === 'ready') {
      this.streamStats = await this.readStreamStats().catch(() => this.streamStats);
      this.streamFull = this.streamStats.depth >= this.options.maxEntries;
    }
    return {
      depth: this.streamStats.depth + spill.depth,
      oldestAgeMs: Math.max(this.streamStats.oldestAgeMs, spill.oldestAgeMs),
      full: this.streamFull,
    };
  }

  hasOwnBacklog(): boolean {
    const undelivered = this.lastAppended !== null && compareIds(this.lastAppended, this.deliveredUpTo) > 0;
    const unsent = this.pendingAppends.length > 0 || this.sending.size > 0;
    return unsent || this.spill.depth > 0 || this.outstanding || this.morePending || undelivered;
  }

  async handOff(): Promise<LedgerHandOff> {
    await this.flushAppends();
    await this.checkJournal().catch((err: unknown) => this.logger.warn(`Ledger journal not checked: ${msg(err)}`));
    if (this.spill.depth > 0) await this.returnSpillToStream();
    const lost = (await this.spill.handOff()).lost;
    try {
      const released = await this.releasePending();
      this.outstanding = false;
      this.morePending = false;
      const kept = Number(await this.redis.call('XLEN', this.stream));
      if (released > 0) this.logger.log(`Released ${released} pending ledger entries for the next instance`);
      return { kept, lost };
    } catch (err) {
      this.logger.warn(`Could not hand off pending ledger entries (claimed after ${this.staleSeconds} s): ${msg(err)}`);
      return { kept: this.streamStats.depth, lost };
    }
  }

  // ------------------------------------------------------------------ appending, journal

  /** Appends to the stream and journals the entries; per entry, false when the stream was at its bound. */
  private async appendToStream(entries: readonly LedgerEntry[]): Promise<boolean[]> {
    const reply = await this.appendCommand(
      this.stream,
      this.epochKey,
      `${this.epochBase}-${(this.epochSequence += 1)}`,
      this.options.maxEntries,
      ...entries.map((entry) => JSON.stringify(entry)),
    );
    const [epoch, ...ids] = Array.isArray(reply) ? reply.map((v) => (typeof v === 'string' ? v : '')) : [''];
    const appended = entries.map((entry, i) => {
      const id = ids[i];
      if (!id) return false;
      this.journal.set(id, { entry, epoch });
      this.noteAppended(id);
      return true;
    });
    if (appended.includes(false)) {
      if (!this.streamFull) {
        this.logger.error(
          `The ledger stream holds ${this.options.maxEntries} entries (LEDGER_STREAM_MAX_ENTRIES): new entries wait ` +
            'in this process and paid requests are refused until the writer catches up',
        );
      }
      this.streamFull = true;
      return appended;
    }
    this.streamFull = false;
    return appended;
  }

  /**
   * Forgets journaled entries the stream shows written (older than its oldest entry,
   * same epoch) and appends again those Redis lost (another epoch: it restarted empty).
   */
  private async checkJournal(): Promise<void> {
    if (this.journal.size === 0) return;
    const snapshot = [...this.journal];
    const [[, epoch], [, range]] = assertExecuted(
      await this.redis.multi().get(this.epochKey).xrange(this.stream, '-', '+', 'COUNT', 1).exec(),
    ) as [[null, string | null], [null, [string, string[]][]]];
    const oldest = range[0]?.[0] ?? null;
    const lost: LedgerEntry[] = [];
    for (const [id, journaled] of snapshot) {
      if (journaled.epoch !== epoch) lost.push(journaled.entry);
      else if (oldest !== null && compareIds(id, oldest) >= 0) continue;
      this.journal.delete(id);
    }
    if (lost.length === 0) return;
    this.logger.warn(
      `Redis lost ${lost.length} ledger entries not yet written (its data was reset): appending them again`,
    );
    this.groupReady = false;
    this.lastAppended = null;
    this.deliveredUpTo = '0-0';
    await Promise.all(lost.map((entry) => this.append(entry)));
  }

  // ------------------------------------------------------------------ reading

  /** A stream or group that vanished (Redis restarted empty) is created again at once. */
  private async takeFromStreamRecreatingGroup(max: number): Promise<LedgerBatch> {
    try {
      return await this.takeFromStream(max);
    } catch (err) {
      if (!/NOGROUP/.test(msg(err))) throw err;
      this.logger.warn('The ledger stream or its consumer group is gone (Redis lost its data): created again');
      this.groupReady = false;
      this.claimCursor = '0-0';
      return this.takeFromStream(max);
    }
  }

  private async takeFromStream(max: number): Promise<LedgerBatch> {
    await this.ensureGroup();
    const pending = await this.readGroup(max, '0');
    if (pending.length > 0) return this.batch(pending, 'pending', max);
    const claimed = await this.claimStale(max);
    if (claimed.length > 0) return this.batch(claimed, 'claimed', max);
    const appendedBefore = this.lastAppended;
    const fresh = await this.readGroup(max, '>');
    this.noteDelivered(fresh, max, appendedBefore);
    return this.batch(fresh, 'new', max);
  }

  /** `0`: this consumer's pending entries (a batch not acknowledged yet); `>`: entries never handed out. */
  private async readGroup(max: number, from: '0' | '>'): Promise<StreamItem[]> {
    const reply = await this.redis.call(
      'XREADGROUP',
      'GROUP',
      LEDGER_GROUP,
      this.consumer,
      'COUNT',
      max,
      'STREAMS',
      this.stream,
      from,
    );
    return parseReadGroup(reply);
  }

  /** Takes over entries another instance took and left idle (it died); the scan resumes where it stopped. */
  private async claimStale(max: number): Promise<StreamItem[]> {
    if (this.claimCursor === '0-0' && Date.now() < this.nextSweepAt) return [];
    if (this.claimCursor === '0-0') await this.removeGoneConsumers();
    const reply = await this.redis.call(
      'XAUTOCLAIM',
      this.stream,
      LEDGER_GROUP,
      this.consumer,
      this.options.staleAfterMs,
      this.claimCursor,
      'COUNT',
      max,
    );
    const { cursor, items } = parseAutoClaim(reply);
    this.claimCursor = cursor;
    if (cursor === '0-0') this.nextSweepAt = Date.now() + SWEEP_INTERVAL_MS;
    if (items.length > 0) this.logger.log(`Claimed ${items.length} ledger entries left pending by another instance`);
    return items;
  }

  private batch(items: StreamItem[], source: Source, max: number): LedgerBatch {
    const entries: LedgerEntry[] = [];
    const unreadable: StreamItem[] = [];
    for (const item of items) {
      const entry = item.payload === null ? null : parseEntry(item.payload);
      if (entry) entries.push(entry);
      else if (item.payload !== null) unreadable.push(item);
    }
    this.outstanding = items.length > 0;
    return {
      entries,
      size: items.length,
      unreadable: unreadable.length,
      ack: (rejected) => this.guard('acknowledge', () => this.ack(items, unreadable, rejected, source, max)),
    };
  }

  /** XACK + XDEL of the batch, and its refused or unreadable entries to the dead letters, in one MULTI. */
  private async ack(
    items: StreamItem[],
    unreadable: StreamItem[],
    rejected: readonly RejectedEntry[],
    source: Source,
    max: number,
  ): Promise<void> {
    if (items.length > 0) {
      const ids = items.map((i) => i.id);
      const tx = this.redis.multi();
      for (const item of unreadable) {
        tx.xadd(this.deadLetters, '*', 'id', item.id, 'reason', 'unreadable', PAYLOAD_FIELD, item.payload ?? '');
      }
      for (const r of rejected)
        tx.xadd(this.deadLetters, '*', 'reason', r.reason, PAYLOAD_FIELD, JSON.stringify(r.entry));
      tx.xack(this.stream, LEDGER_GROUP, ...ids).xdel(this.stream, ...ids);
      assertExecuted(await tx.exec());
      this.logDeadLetters(unreadable.length + rejected.length);
    }
    this.outstanding = false;
    this.morePending = source === 'pending' && items.length >= max;
  }

  // ------------------------------------------------------------------ group, consumers, hand-off

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      await this.redis.call('XGROUP', 'CREATE', this.stream, LEDGER_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test(msg(err))) throw err;
    }
    this.groupReady = true;
  }

  /** Deletes consumers of instances long gone (nothing pending, idle for an hour): keeps XINFO readable. */
  private async removeGoneConsumers(): Promise<void> {
    const consumers = parseConsumers(await this.redis.call('XINFO', 'CONSUMERS', this.stream, LEDGER_GROUP));
    for (const c of consumers) {
      if (c.name === this.consumer || c.pending > 0 || c.idleMs < GONE_CONSUMER_IDLE_MS) continue;
      await this.redis.call('XGROUP', 'DELCONSUMER', this.stream, LEDGER_GROUP, c.name);
    }
  }

  /**
   * At shutdown: entries this instance took but could not write are marked long idle,
   * so the next instance's sweep claims them at once (not after `staleAfterMs`);
   * with nothing pending, this consumer is removed from the group.
   */
  private async releasePending(): Promise<number> {
    if (!this.groupReady) return 0;
    const ids = await this.ownPendingIds();
    if (ids.length === 0) {
      await this.redis.call('XGROUP', 'DELCONSUMER', this.stream, LEDGER_GROUP, this.consumer);
      return 0;
    }
    for (let i = 0; i < ids.length; i += PAGE) {
      const page = ids.slice(i, i + PAGE);
      await this.redis.call(
        'XCLAIM',
        this.stream,
        LEDGER_GROUP,
        this.consumer,
        0,
        ...page,
        'IDLE',
        HAND_OFF_IDLE_MS,
        'JUSTID',
      );
    }
    return ids.length;
  }

  private async ownPendingIds(): Promise<string[]> {
    const ids: string[] = [];
    for (let start = '-'; ;) {
      const reply = await this.redis.call('XPENDING', this.stream, LEDGER_GROUP, start, '+', PAGE, this.consumer);
      const page = parsePendingIds(reply);
      ids.push(...page);
      if (page.length < PAGE) return ids;
      start = `(${page[page.length - 1]}`;
    }
  }

  // ------------------------------------------------------------------ spill, stats, bookkeeping

  /** Moves entries held in memory (Redis unreachable, or the stream full) back to the stream, oldest first. */
  private async returnSpillToStream(): Promise<void> {
    const entries = this.spill.drainAll();
    const results: boolean[] = [];
    for (let i = 0; i < entries.length; i += APPEND_BATCH_MAX) {
      const page = entries.slice(i, i + APPEND_BATCH_MAX);
      results.push(...(await this.appendToStream(page).catch(() => page.map(() => false))));
    }
    const failed = entries.filter((_, i) => !results[i]);
    for (const entry of failed) await this.spill.append(entry);
    if (failed.length < entries.length) this.markRedisUp();
  }

  private async readStreamStats(): Promise<LedgerBufferStats> {
    const results = await this.redis
      .pipeline()
      .xlen(this.stream)
      .xrange(this.stream, '-', '+', 'COUNT', 1)
      .time()
      .exec();
    const [len, range, time] = assertExecuted(results).map(([, value]) => value);
    const oldest = (range as [string, string[]][])[0]?.[0];
    const [seconds, micros] = (time as [string, string]).map(Number);
    const nowMs = seconds * 1000 + Math.floor(micros / 1000);
    return { depth: Number(len), oldestAgeMs: oldest ? Math.max(0, nowMs - idTime(oldest)) : 0 };
  }

  private noteAppended(id: string): void {
    this.lastAppended = this.lastAppended === null ? id : maxId(this.lastAppended, id);
  }

  /** A short read means every entry added before it was handed out, to this writer or another. */
  private noteDelivered(fresh: StreamItem[], max: number, appendedBefore: string | null): void {
    const last = fresh[fresh.length - 1];
    if (last) this.deliveredUpTo = maxId(this.deliveredUpTo, last.id);
    if (fresh.length < max && appendedBefore !== null) this.deliveredUpTo = maxId(this.deliveredUpTo, appendedBefore);
  }

  private assertConnected(): void {
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      this.assertConnected();
      return await work();
    } catch (err) {
      if (/NOGROUP/.test(msg(err))) this.groupReady = false;
      throw new LedgerBufferUnavailable(`Redis ledger stream: ${what} failed: ${msg(err)}`, { cause: err });
    }
  }

  private markRedisDown(err: unknown): void {
    if (this.redisDown) return;
    this.redisDown = true;
    this.logger.warn(`Redis unavailable: ledger entries are held in this process until it returns (${msg(err)})`);
  }

  private markRedisUp(): void {
    this.silence.reset();
    if (!this.redisDown) return;
    this.redisDown = false;
    this.logger.log('Redis is back: ledger entries go to the stream again');
  }

  private logDeadLetters(count: number): void {
    if (count > 0) this.logger.error(`${count} ledger entries moved to ${this.deadLetters} (see the reason field)`);
  }

  private get staleSeconds(): number {
    return Math.round(this.options.staleAfterMs / 1000);
  }
}

function parseEntry(payload: string): LedgerEntry | null {
  try {
    return normalizeLedgerEntry(JSON.parse(payload) as unknown);
  } catch {
    return null;
  }
}

type ExecResult = [Error | null, unknown][];

function assertExecuted(results: ExecResult | null): ExecResult {
  if (results === null) throw new Error('Redis transaction aborted');
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
  return results;
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
