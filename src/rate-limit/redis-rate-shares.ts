import type Redis from 'ioredis';
import { bounded } from '../common/upstream/redis-circuit';
import type { ShareReply, ShareWrite, ShareWriter } from './rate-shares';

/**
 * One write of a counter's share (see RateShares), atomically: gives back unused units (only to
 * the window they were granted in: a key with more time left than ARGV[6] is a later window),
 * grants up to `want` units out of what the limit has left (at most `share` of it; less than
 * `least` grants nothing), adds `extra` units, and sets the key's expiry when the write created it.
 * KEYS: the counter.
 * ARGV: want, least, share, limit, give back, max ttl ms (0: no check), extra, expiry kind
 *       ('ttl': PEXPIRE when new; 'at': PEXPIREAT), expiry value.
 * Returns {granted, count after, pttl}.
 */
export const SHARE_SCRIPT = `
local want, least, share, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local back, maxTtl, extra = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if back > 0 and count > 0 then
  local ttl = redis.call('PTTL', KEYS[1])
  if maxTtl <= 0 or (ttl > 0 and ttl <= maxTtl) then
    count = count - back
    if count < 0 then count = 0 end
    redis.call('SET', KEYS[1], string.format('%d', count), 'KEEPTTL')
  end
end
local granted = 0
if want > 0 and count < limit then
  granted = math.min(want, math.floor((limit - count) * share))
  if granted < least then granted = 0 end
end
local add = granted
if extra > 0 and redis.call('EXISTS', KEYS[1]) == 1 then add = add + extra end
if add > 0 then
  count = redis.call('INCRBY', KEYS[1], string.format('%d', add))
  if ARGV[8] == 'at' then
    redis.call('PEXPIREAT', KEYS[1], ARGV[9])
  elseif redis.call('PTTL', KEYS[1]) < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[9])
  end
end
return {granted, count, redis.call('PTTL', KEYS[1])}
`;

type WithShareScript = Redis & {
  confluxRateShare(key: string, ...args: Array<string | number>): Promise<unknown>;
};

/** Bound of one share write (in the background: no request waits for it). */
const SHARE_WRITE_TIMEOUT_MS = 1000;

/** Writes shares with SHARE_SCRIPT on `redis`, each write bounded; `answered` hears of every reply. */
export function redisShareWriter(redis: Redis, answered: () => void = () => undefined): ShareWriter {
  redis.defineCommand('confluxRateShare', { numberOfKeys: 1, lua: SHARE_SCRIPT });
  return async (write: ShareWrite): Promise<ShareReply> => {
    const expiry = write.expiry.kind === 'ttl' ? write.expiry.ms : write.expiry.keepUntil;
    const reply = await bounded(
      (redis as WithShareScript).confluxRateShare(
        write.key,
        ...[write.want, write.least, write.share, write.limit, write.giveBack, write.maxTtlMs, write.extra],
        ...[write.expiry.kind, expiry],
      ),
      SHARE_WRITE_TIMEOUT_MS,
    );
    if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((v) => typeof v === 'number')) {
      throw new Error(`Unexpected reply from the rate share script: ${JSON.stringify(reply)}`);
    }
    answered();
    const [granted, count, ttlMs] = reply;
    return { granted, count, ttlMs };
  };
}
