/**
 * The Lua scripts of the Redis stores: each runs atomically, in one round trip, on keys of one hash slot (the
 * `{s}` and `{att}` tags, see redis.ts), so they also run on a clustered Redis. Keys a script reaches through a
 * record (a session named in an index) are built from the same tagged prefix, so they lie in the same slot.
 *
 * Flags (Redis 7 `#!lua` shebang, https://redis.io/docs/latest/develop/interact/programmability/lua-api/): a script
 * that only reads, ends or refreshes (`allow-oom`) still runs when Redis is out of memory under `noeviction`, so
 * signed-in users keep working and a logout always ends its sessions; a script that adds data has no such flag and
 * is refused as a whole when memory is full (an OOM error, a 503 for that request): never half applied.
 *
 * Session records are `<createdAt ms>|<user tag>|<session JSON>`: the user tag (sha256 of `tid \n oid`, or empty)
 * names the user's zset, so ending a session also takes it out of its user's count.
 */

// KEYS: session, all sessions (zset, score = when it idles out). ARGV: now, idle ms, absolute ms, member, prefix.
// Returns the record (and refreshes its idle timeout), or nil when gone or past its absolute timeout.
export const GET_SESSION = `#!lua flags=allow-oom
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local created, user = string.match(raw, '^(%d+)|([^|]*)|')
local now = tonumber(ARGV[1])
local left = tonumber(created) + tonumber(ARGV[3]) - now
if left <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  if user ~= '' then redis.call('ZREM', ARGV[5] .. 'u:' .. user, ARGV[4]) end
  return false
end
local ttl = math.min(tonumber(ARGV[2]), left)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], 'XX', now + ttl, ARGV[4])
return raw`;

// KEYS: session, all sessions, the user's sessions (zset, score = creation order), the sid index (set).
// ARGV: now, idle ms, absolute ms, maxSessions, maxSessionsPerUser, member, session JSON, user tag ('' none),
// '1' when the session has a sid, prefix. Returns 1 stored, 0 refused (the store holds maxSessions live sessions).
export const CREATE_SESSION = `#!lua
local now = tonumber(ARGV[1])
local absolute = tonumber(ARGV[3])
local ttl = math.min(tonumber(ARGV[2]), absolute)
local user = ARGV[8]
local prefix = ARGV[10]
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local order = now
if user ~= '' then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if redis.call('EXISTS', prefix .. 's:' .. member) == 0 then redis.call('ZREM', KEYS[3], member) end
  end
  while redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) do
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
    redis.call('DEL', prefix .. 's:' .. oldest)
    redis.call('ZREM', KEYS[3], oldest)
    redis.call('ZREM', KEYS[2], oldest)
  end
  local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  if newest[2] then order = math.max(now, tonumber(newest[2]) + 1) end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. user .. '|' .. ARGV[7], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[6])
if user ~= '' then
  redis.call('ZADD', KEYS[3], order, ARGV[6])
  redis.call('PEXPIRE', KEYS[3], absolute)
end
if ARGV[9] == '1' then
  redis.call('SADD', KEYS[4], ARGV[6])
  redis.call('PEXPIRE', KEYS[4], absolute)
end
return 1`;

// KEYS: session. ARGV: session JSON. Replaces the record, keeping its creation time, user and TTL, while it exists.
export const REPLACE_SESSION = `#!lua
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local head = string.match(old, '^%d+|[^|]*|')
redis.call('SET', KEYS[1], head .. ARGV[1], 'KEEPTTL')
return 1`;

// KEYS: session, all sessions. ARGV: member, prefix. Ends one session; returns 1 when there was one.
export const DELETE_SESSION = `#!lua flags=allow-oom
local raw = redis.call('GET', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if not raw then return 0 end
local user = string.match(raw, '^%d+|([^|]*)|')
redis.call('DEL', KEYS[1])
if user ~= '' then redis.call('ZREM', ARGV[2] .. 'u:' .. user, ARGV[1]) end
return 1`;

// KEYS: sid index, all sessions. ARGV: prefix. Ends every session the index names and the index; returns how many.
export const DELETE_BY_SID = `#!lua flags=allow-oom
local ended = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 's:' .. member
  local raw = redis.call('GET', key)
  if raw then
    local user = string.match(raw, '^%d+|([^|]*)|')
    redis.call('DEL', key)
    if user ~= '' then redis.call('ZREM', ARGV[1] .. 'u:' .. user, member) end
    ended = ended + 1
  end
  redis.call('ZREM', KEYS[2], member)
end
redis.call('DEL', KEYS[1])
return ended`;

// KEYS: browser hash, browsers zset. ARGV: now, ttl, maxBrowsers, maxPerBrowser, state, value, member, mustBeNew.
// Returns 1 kept, 0 refused (full), -1 the presented binding is unknown (the caller retries with a fresh one).
export const KEEP_ATTEMPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local known = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[8] == '0' and not known then return -1 end
if not known and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
local fields = redis.call('HGETALL', KEYS[1])
local kept = {}
for i = 1, #fields, 2 do
  kept[#kept + 1] = { fields[i], tonumber(string.match(fields[i + 1], '^(%d+)|')) }
end
table.sort(kept, function(a, b) return a[2] < b[2] end)
for i = 1, #kept - tonumber(ARGV[4]) + 1 do redis.call('HDEL', KEYS[1], kept[i][1]) end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[7])
return 1`;

// KEYS: browser hash, browsers zset. ARGV: state, member. Returns the attempt's value, removed, or nil.
export const TAKE_ATTEMPT = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return value`;

// KEYS: browser hash, browsers zset. ARGV: now, maxBrowsers. 1 when a browser could keep an attempt.
export const HAS_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[2]) then return 1 end
return 0`;
