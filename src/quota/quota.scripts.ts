/**
 * The Redis side of QuotaStore: one atomic Lua script per operation (reserve, settle,
 * release, plus a balance read). Keys of one project share the hash tag `{project}`,
 * so a script may touch a key it read from a reservation (its tpm counter) and still
 * stay in one cluster slot.
 *
 * Data model, under REDIS_KEY_PREFIX:
 *   quota:{p}:d:<YYYY-MM-DD>:spent|reserved   integer micro-credits (day, UTC)
 *   quota:{p}:d:<YYYY-MM-DD>:holds            zset "<amount>:<id>" scored by the hold's expiry
 *   quota:{p}:m:<YYYY-MM>:spent|reserved|holds  the same per month
 *   quota:{p}:k:<key>:rpm|tpm:<minute>        requests and tokens of an API key in a minute
 *   quota:{p}:r:<id>                          the reservation: state, amount, tokens, tpm_key
 *   quota:{p}:l:<lease id>                    an instance's budget lease: amount, last write (seq, granted,
 *                                             state); the lease itself is held as member "<amount>:<lease id>"
 *                                             of the day's and month's holds, like a reservation
 *   quota:{p}:ready                           the spent counters hold the project's spend (rebuilt
 *                                             from the ledger after Redis lost its data); value: when
 *   quota:{p}:d:<day>:late, m:<month>:late    spend settled while `ready` is absent (added to the
 *                                             ledger's sum by the rebuild, then deleted)
 * Each window's reserved counter is lowered exactly once per hold, by whichever of
 * settle, release or the expiry sweep removes the hold from that window's zset.
 *
 * Without `ready` (a Redis that restarted empty, or a first start) a paid reservation of
 * a project with a budget is refused as 'unready' until one instance has rebuilt the
 * counters (REBUILD_SCRIPT); reservations of other projects go on and start the rebuild.
 */

const HELPERS = `
local function int(value) return tonumber(value) or 0 end
local function get(key) return int(redis.call('GET', key)) end
-- Integers go back to Redis as plain digits (tostring would write 1e+15).
local function fmt(n) return string.format('%d', n) end

-- Lowers a counter, never below zero and never re-creating one that expired.
local function lower(key, amount)
  if amount <= 0 or redis.call('EXISTS', key) == 0 then return end
  local left = get(key) - amount
  if left < 0 then left = 0 end
  redis.call('SET', key, fmt(left), 'KEEPTTL')
end

local function raise(key, amount, keepUntil)
  redis.call('INCRBY', key, fmt(amount))
  redis.call('PEXPIREAT', key, keepUntil)
end

-- Ends one window's hold; lowers reserved only if the expiry sweep has not already done so.
local function unhold(holds, reserved, member, amount)
  if redis.call('ZREM', holds, member) == 1 then lower(reserved, amount) end
end

-- Expired holds (leaked reservations) give their amounts back, at most 100 per call.
local function sweep(holds, reserved, now)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 100)
  local total = 0
  for _, member in ipairs(expired) do
    redis.call('ZREM', holds, member)
    total = total + int(string.match(member, '^(%d+):'))
  end
  lower(reserved, total)
end

-- What is left of a budget (-1: no limit), never below zero.
local function left(spentKey, reservedKey, limit)
  if limit < 0 then return -1 end
  local l = limit - get(spentKey) - get(reservedKey)
  if l < 0 then return 0 end
  return l
end

-- Moves a reservation's tpm count by delta, if its minute is still counted.
local function retoken(reservation, delta)
  local key = redis.call('HGET', reservation, 'tpm_key')
  if not key or key == '' or delta == 0 then return end
  if delta < 0 then lower(key, -delta) elseif redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, fmt(delta)) end
end
`;

/**
 * KEYS: day spent, reserved, holds; month spent, reserved, holds; rpm counter; tpm counter; reservation;
 *       ready.
 * ARGV: id, amount, tokens, day limit, month limit, rpm, tpm (-1 = none), rated (1 = an API key),
 *       now, hold expires at, day keep-until, month keep-until, rate keep-until, rate reset ms,
 *       reservation ttl ms.
 * Returns {1, day left, month left, ready} (left -1: no limit), {1} for a reservation already known,
 * or {0, reason, limit, a, b}: a, b = retry ms for rpm/tpm, spent and reserved for budgets, 0 0 for
 * 'unready' (a paid request of a budgeted project while the counters are not rebuilt).
 */
export const RESERVE_SCRIPT = `${HELPERS}
local id, amount, tokens = ARGV[1], int(ARGV[2]), int(ARGV[3])
local dayLimit, monthLimit, rpm, tpm = int(ARGV[4]), int(ARGV[5]), int(ARGV[6]), int(ARGV[7])
local rated, now, holdExpiresAt = ARGV[8] == '1', ARGV[9], ARGV[10]

-- Already known: a script that reached Redis late, after its reservation was settled from a replay.
if redis.call('EXISTS', KEYS[9]) == 1 then return {1} end

local ready = redis.call('EXISTS', KEYS[10])
if ready == 0 and amount > 0 and (dayLimit >= 0 or monthLimit >= 0) then return {0, 'unready', 0, 0, 0} end

if rated then
  local resetMs = int(ARGV[14])
  if rpm >= 0 and get(KEYS[7]) + 1 > rpm then return {0, 'rpm', rpm, resetMs, 0} end
  if tpm >= 0 and get(KEYS[8]) + tokens > tpm then return {0, 'tpm', tpm, resetMs, 0} end
end

sweep(KEYS[3], KEYS[2], now)
sweep(KEYS[6], KEYS[5], now)
if amount > 0 then
  local spent, reserved = get(KEYS[1]), get(KEYS[2])
  if dayLimit >= 0 and spent + reserved + amount > dayLimit then
    return {0, 'budget_daily', dayLimit, spent, reserved}
  end
  spent, reserved = get(KEYS[4]), get(KEYS[5])
  if monthLimit >= 0 and spent + reserved + amount > monthLimit then
    return {0, 'budget_monthly', monthLimit, spent, reserved}
  end
end

if rated then
  raise(KEYS[7], 1, ARGV[13])
  raise(KEYS[8], tokens, ARGV[13])
end
if amount > 0 then
  local member = ARGV[2] .. ':' .. id
  raise(KEYS[2], amount, ARGV[11])
  redis.call('ZADD', KEYS[3], holdExpiresAt, member)
  redis.call('PEXPIREAT', KEYS[3], ARGV[11])
  raise(KEYS[5], amount, ARGV[12])
  redis.call('ZADD', KEYS[6], holdExpiresAt, member)
  redis.call('PEXPIREAT', KEYS[6], ARGV[12])
end
local tpmKey = ''
if rated then tpmKey = KEYS[8] end
redis.call('HSET', KEYS[9], 'state', 'held', 'amount', ARGV[2], 'tokens', ARGV[3], 'tpm_key', tpmKey)
redis.call('PEXPIRE', KEYS[9], ARGV[15])
return {1, left(KEYS[1], KEYS[2], dayLimit), left(KEYS[4], KEYS[5], monthLimit), ready}
`;

/**
 * KEYS: reservation; day spent, reserved, holds; month spent, reserved, holds; ready; day late,
 *       month late.
 * ARGV: id, actual amount, actual tokens (-1 = unknown), day keep-until, month keep-until,
 *       tombstone ttl ms, book (1 = spend even if the reservation is unknown: replay of
 *       spend made while Redis was unreachable).
 * Returns 'closed', 'already_closed' or 'unknown'.
 */
export const SETTLE_SCRIPT = `${HELPERS}
local id, actual, actualTokens = ARGV[1], int(ARGV[2]), int(ARGV[3])
local state = redis.call('HGET', KEYS[1], 'state')
if not state and ARGV[7] ~= '1' then return 'unknown' end
if state and state ~= 'held' then return 'already_closed' end

if state == 'held' then
  local held = redis.call('HGET', KEYS[1], 'amount')
  unhold(KEYS[4], KEYS[3], held .. ':' .. id, int(held))
  unhold(KEYS[7], KEYS[6], held .. ':' .. id, int(held))
  if actualTokens >= 0 then retoken(KEYS[1], actualTokens - int(redis.call('HGET', KEYS[1], 'tokens'))) end
end
if actual > 0 then
  raise(KEYS[2], actual, ARGV[4])
  raise(KEYS[5], actual, ARGV[5])
  if redis.call('EXISTS', KEYS[8]) == 0 then
    raise(KEYS[9], actual, ARGV[4])
    raise(KEYS[10], actual, ARGV[5])
  end
end
redis.call('HSET', KEYS[1], 'state', 'settled', 'spent', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 'closed'
`;

/**
 * KEYS: reservation; day reserved, holds; month reserved, holds.
 * ARGV: id, tombstone ttl ms.
 * Returns 'closed', 'already_closed' or 'unknown'.
 */
export const RELEASE_SCRIPT = `${HELPERS}
local id = ARGV[1]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state ~= 'held' then return 'already_closed' end

local held = redis.call('HGET', KEYS[1], 'amount')
unhold(KEYS[3], KEYS[2], held .. ':' .. id, int(held))
unhold(KEYS[5], KEYS[4], held .. ':' .. id, int(held))
retoken(KEYS[1], -int(redis.call('HGET', KEYS[1], 'tokens')))
redis.call('HSET', KEYS[1], 'state', 'released')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'closed'
`;

/**
 * KEYS: day spent, reserved, holds; month spent, reserved, holds; ready. ARGV: now.
 * Returns {day spent, day reserved, month spent, month reserved, ready} after the expiry sweep.
 */
export const BALANCES_SCRIPT = `${HELPERS}
sweep(KEYS[3], KEYS[2], ARGV[1])
sweep(KEYS[6], KEYS[5], ARGV[1])
return {get(KEYS[1]), get(KEYS[2]), get(KEYS[4]), get(KEYS[5]), redis.call('EXISTS', KEYS[7])}
`;

/**
 * Holds again, after Redis lost its data, a reservation this instance still has open.
 * KEYS: reservation; day reserved, holds; month reserved, holds.
 * ARGV: id, amount, hold expires at, day keep-until, month keep-until, reservation ttl ms.
 * Returns 1, or 0 when Redis knows the reservation (nothing done).
 */
export const REHOLD_SCRIPT = `${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local amount = int(ARGV[2])
local member = ARGV[2] .. ':' .. ARGV[1]
raise(KEYS[2], amount, ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], member)
redis.call('PEXPIREAT', KEYS[3], ARGV[4])
raise(KEYS[4], amount, ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[3], member)
redis.call('PEXPIREAT', KEYS[5], ARGV[5])
redis.call('HSET', KEYS[1], 'state', 'held', 'amount', ARGV[2], 'tokens', '0', 'tpm_key', '')
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

/**
 * Sets a project's spent counters from the ledger once: spent = the ledger's sum + what was
 * settled while the counters were not ready (late), then marks them ready.
 * KEYS: ready; day spent, day late; month spent, month late.
 * ARGV: day sum, month sum, day keep-until, month keep-until, now.
 * Returns 1, or 0 when another instance rebuilt them first (nothing done).
 */
export const REBUILD_SCRIPT = `${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local function rebuilt(spent, late, total, keepUntil)
  if total > 0 then
    redis.call('SET', spent, fmt(total))
    redis.call('PEXPIREAT', spent, keepUntil)
  else
    redis.call('DEL', spent)
  end
  redis.call('DEL', late)
end
rebuilt(KEYS[2], KEYS[3], int(ARGV[1]) + get(KEYS[3]), ARGV[3])
rebuilt(KEYS[4], KEYS[5], int(ARGV[2]) + get(KEYS[5]), ARGV[4])
redis.call('SET', KEYS[1], ARGV[5])
return 1
`;

/**
 * One write of an instance's budget lease (see budget-leases.ts): books spend settled from the
 * lease, lowers the lease by what that spend consumed, gives part of it back or grows it, and
 * renews its expiry. A lease is a hold like a reservation's (member "<amount>:<lease id>" in the
 * day's and month's holds, its amount in their reserved counters), so every rule of holds (expiry
 * sweep, balances) applies to it; the lease key keeps its amount and the number of its last write,
 * so that a write retried after a lost reply is not applied twice.
 * KEYS: day spent, reserved, holds; month spent, reserved, holds; ready; lease; day late, month late.
 * ARGV: lease id, write number, spend, consumed, change (> 0 grow, < 0 give back), day limit,
 *       month limit (-1 = none), now, expires at, day keep-until, month keep-until, share (most of
 *       what a budget has left that a grant may take, 0..1), least grant.
 * Returns {state, granted, amount, day left, month left, ready}: state 1 the lease was held, 0 it
 * was not (expired, lost, or new); or {2, granted, amount, state, -1, ready} for a write already
 * applied (as it was then).
 */
export const LEASE_SCRIPT = `${HELPERS}
local id, seq = ARGV[1], int(ARGV[2])
local spend, consumed, change = int(ARGV[3]), int(ARGV[4]), int(ARGV[5])
local dayLimit, monthLimit, now = int(ARGV[6]), int(ARGV[7]), ARGV[8]
local ready = redis.call('EXISTS', KEYS[7])

if redis.call('EXISTS', KEYS[8]) == 1 and seq <= int(redis.call('HGET', KEYS[8], 'seq')) then
  local last = redis.call('HMGET', KEYS[8], 'state', 'granted', 'amount')
  return {2, int(last[2]), int(last[3]), int(last[1]), -1, ready}
end

sweep(KEYS[3], KEYS[2], now)
sweep(KEYS[6], KEYS[5], now)

-- The lease is held only while both windows still hold its member (the sweep gives back expired ones).
local held = int(redis.call('HGET', KEYS[8], 'amount'))
local member = fmt(held) .. ':' .. id
local alive = held > 0 and redis.call('ZSCORE', KEYS[3], member) ~= false and redis.call('ZSCORE', KEYS[6], member) ~= false
if not alive then
  unhold(KEYS[3], KEYS[2], member, held)
  unhold(KEYS[6], KEYS[5], member, held)
  held = 0
end

if spend > 0 then
  raise(KEYS[1], spend, ARGV[10])
  raise(KEYS[4], spend, ARGV[11])
  if ready == 0 then
    raise(KEYS[9], spend, ARGV[10])
    raise(KEYS[10], spend, ARGV[11])
  end
end

local amount = held - consumed
if change < 0 then amount = amount + change end
if amount < 0 then amount = 0 end
lower(KEYS[2], held - amount)
lower(KEYS[5], held - amount)

local granted = 0
if change > 0 then
  if dayLimit < 0 and monthLimit < 0 then
    granted = change
  elseif ready == 1 then
    granted = change
    local share = tonumber(ARGV[12]) or 0
    for _, w in ipairs({{KEYS[1], KEYS[2], dayLimit}, {KEYS[4], KEYS[5], monthLimit}}) do
      local l = left(w[1], w[2], w[3])
      if l >= 0 then
        local cap = math.floor(l * share)
        if cap < granted then granted = cap end
      end
    end
    if granted < int(ARGV[13]) then granted = 0 end
  end
end
if granted > 0 then
  raise(KEYS[2], granted, ARGV[10])
  raise(KEYS[5], granted, ARGV[11])
  amount = amount + granted
end

if alive then
  redis.call('ZREM', KEYS[3], member)
  redis.call('ZREM', KEYS[6], member)
end
if amount > 0 then
  member = fmt(amount) .. ':' .. id
  redis.call('ZADD', KEYS[3], ARGV[9], member)
  redis.call('PEXPIREAT', KEYS[3], ARGV[10])
  redis.call('ZADD', KEYS[6], ARGV[9], member)
  redis.call('PEXPIREAT', KEYS[6], ARGV[11])
end
local state = 0
if alive then state = 1 end
redis.call('HSET', KEYS[8], 'amount', fmt(amount), 'seq', fmt(seq), 'granted', fmt(granted), 'state', state)
redis.call('PEXPIREAT', KEYS[8], ARGV[10])
return {state, granted, amount, left(KEYS[1], KEYS[2], dayLimit), left(KEYS[4], KEYS[5], monthLimit), ready}
`;
