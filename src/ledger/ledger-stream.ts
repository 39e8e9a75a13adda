/**
 * Typed readings of the Redis Stream replies the ledger uses (ioredis hands them
 * over as nested arrays of strings), and stream id arithmetic.
 */

/** One stream entry; `payload` is null when the entry was deleted while pending. */
export interface StreamItem {
  id: string;
  payload: string | null;
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  idleMs: number;
}

/** The field under which an entry's JSON is stored. */
export const PAYLOAD_FIELD = 'e';

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function asString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
}

function payloadOf(fields: unknown): string | null {
  const list = asArray(fields);
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (asString(list[i]) === PAYLOAD_FIELD) return asString(list[i + 1]);
  }
  return null;
}

/** `[[id, [field, value, …] | null], …]` */
export function parseItems(reply: unknown): StreamItem[] {
  return asArray(reply).flatMap((raw) => {
    const [id, fields] = asArray(raw);
    const idText = asString(id);
    return idText === null ? [] : [{ id: idText, payload: payloadOf(fields) }];
  });
}

/** XREADGROUP on one stream: `null` or `[[key, items]]`. */
export function parseReadGroup(reply: unknown): StreamItem[] {
  const [stream] = asArray(reply);
  return parseItems(asArray(stream)[1]);
}

/** XAUTOCLAIM: `[nextCursor, items, deletedIds?]`. */
export function parseAutoClaim(reply: unknown): { cursor: string; items: StreamItem[] } {
  const [cursor, items] = asArray(reply);
  return { cursor: asString(cursor) ?? '0-0', items: parseItems(items) };
}

/** Extended XPENDING: `[[id, consumer, idleMs, deliveries], …]`. */
export function parsePendingIds(reply: unknown): string[] {
  return asArray(reply).flatMap((row) => {
    const id = asString(asArray(row)[0]);
    return id === null ? [] : [id];
  });
}

/** XINFO CONSUMERS: a list of flat `[name, n, pending, p, idle, i, …]` maps. */
export function parseConsumers(reply: unknown): ConsumerInfo[] {
  return asArray(reply).flatMap((row) => {
    const list = asArray(row);
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < list.length; i += 2) map.set(asString(list[i]) ?? '', list[i + 1]);
    const name = asString(map.get('name'));
    if (name === null) return [];
    return [{ name, pending: Number(map.get('pending') ?? 0), idleMs: Number(map.get('idle') ?? 0) }];
  });
}

/** The millisecond part of a stream id (the Redis server's clock when it was added). */
export function idTime(id: string): number {
  return Number(id.split('-')[0]);
}

/** Orders stream ids `ms-seq` numerically. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq === bSeq) return 0;
  return (aSeq ?? 0n) < (bSeq ?? 0n) ? -1 : 1;
}

export function maxId(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}
