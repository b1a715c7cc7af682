package redisqueue

import "github.com/redis/go-redis/v9"

// Every script takes one key, the queue's base key "{<prefix>:<queue>}", and
// derives the queue's other keys from it by appending a suffix, so that all of
// them carry the base key's hash tag and live in one slot (Redis Cluster):
//
//	base        hash: "seq" (IDs and lease tokens), "paused", "tk"/"tt" (rate bucket)
//	base:q0..q3 ZSETs of waiting job IDs (ready and scheduled), one per
//	            priority, scored by RunAt in ms; equal scores sort by ID, which
//	            begins with the enqueue time and a per-queue sequence
//	base:l      ZSET of leased job IDs by lease deadline (ms, the server's clock)
//	base:w      stream of wake-ups (capped at ~100 entries): an entry whenever
//	            a job becomes ready now, which Wait blocks on (XREAD BLOCK)
//	base:j:<id> hash of one job: d (encoded Job), p priority, m MaxAttempts,
//	            a Attempt, r RunAt (ms), rn RunAt (ns, exact; "" when set by
//	            the server), e LastError, l lease token while leased, k
//	            "<token>|<kind>" of the last Settle
//	base:x      dead letters: a ZSET of "<died ms, 13 digits>:<id>", all score 0,
//	            so that ZREVRANGEBYLEX lists newest first with stable cursors
//	base:x:<id> hash of a dead job: the job hash plus "why" and "t" (died, ms)
//	base:u:<k>  unique key k: the holder's ID, expiring at UniqueUntil
//	base:d      ZSET of the lease tokens of the last 10,000 Done outcomes (a
//	            resent Settle finds its first run's work there)
//	base:e:<n>  an Enqueue call's reply, kept 2 minutes under its nonce n, so that a
//	            resent call (go-redis resends a command whose reply timed out)
//	            returns the same IDs instead of storing the jobs twice
//
// A job is in exactly one state: waiting (in its priority's ZSET, l empty),
// leased (l set, in base:l) or dead (renamed to base:x:<id>).
// Redis runs a script atomically, but an error half-way does not roll back what
// it wrote before: the scripts check what they read (tonumber of a hand-edited
// field) before they write, and dead-letter what they cannot read.
//
// Every script's ARGV starts with the retention bounds (MaxAge ms, MaxCount;
// ≤ 0: none) that dead-lettering trims to; the rest is per script.
const lib = `
local K = KEYS[1]
local maxAge, maxCount = tonumber(ARGV[1]), tonumber(ARGV[2])
local L, X, D, W = K .. ':l', K .. ':x', K .. ':d', K .. ':w'
local function J(id) return K .. ':j:' .. id end
local function XJ(id) return K .. ':x:' .. id end
local function Q(p) return K .. ':q' .. p end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- tokens reserves n IDs or lease tokens and returns a function that makes
-- the next one: the time, then a per-queue sequence.
local function tokens(now, n)
  local seq = redis.call('HINCRBY', K, 'seq', n) - n
  return function()
    seq = seq + 1
    return string.format('%011x%05x', now, seq % 1048576)
  end
end

local function wake()
  redis.call('XADD', W, 'MAXLEN', '~', 100, '*', 'w', 1)
end

local function prio(p)
  p = tonumber(p)
  if p == nil or p < 0 or p > 3 or p ~= math.floor(p) then return nil end
  return p
end

local function trim(now)
  if maxAge > 0 then
    local old = redis.call('ZRANGEBYLEX', X, '-', '(' .. string.format('%013d', now - maxAge), 'LIMIT', 0, 100)
    for _, m in ipairs(old) do
      redis.call('DEL', XJ(string.sub(m, 15)))
      redis.call('ZREM', X, m)
    end
  end
  if maxCount > 0 then
    local over = redis.call('ZCARD', X) - maxCount
    if over > 0 then
      local old = redis.call('ZRANGE', X, 0, math.min(over, 100) - 1)
      for _, m in ipairs(old) do
        redis.call('DEL', XJ(string.sub(m, 15)))
        redis.call('ZREM', X, m)
      end
    end
  end
end

-- dead moves job id (in no other state any more) to the dead letters.
local function dead(id, why, now)
  local x = XJ(id)
  redis.call('DEL', x)
  redis.call('RENAME', J(id), x)
  redis.call('HSET', x, 'why', why, 't', now, 'l', '')
  redis.call('ZADD', X, 0, string.format('%013d', now) .. ':' .. id)
  trim(now)
end

-- reap ends up to n leases that ran out: the job waits again at its RunAt
-- (so it is ready at once, ahead of later ones), or is dead if it has used
-- its attempts. Returns how many became ready.
local function reap(now, n)
  local gone = redis.call('ZRANGEBYSCORE', L, '-inf', now, 'LIMIT', 0, n)
  local ready = 0
  for _, id in ipairs(gone) do
    redis.call('ZREM', L, id)
    local h = redis.call('HMGET', J(id), 'a', 'm', 'p', 'r')
    if h[1] or h[2] or h[3] then
      local a, m, p, r = tonumber(h[1]), tonumber(h[2]), prio(h[3]), tonumber(h[4])
      if a == nil or m == nil or p == nil or r == nil then
        dead(id, 'malformed job: attempt, max attempts, priority or run-at', now)
      elseif a >= m then
        dead(id, 'lease expired on attempt ' .. a, now)
      else
        redis.call('HSET', J(id), 'l', '')
        redis.call('ZADD', Q(p), r, id)
        ready = ready + 1
      end
    end
  end
  return ready
end
`

func script(body string) *redis.Script { return redis.NewScript(lib + body) }

// enqueueScript: ARGV[3] nonce, ARGV[4] ID suffix, then per job: encoded job,
// priority, MaxAttempts, RunAt ms, RunAt ns, unique key ("" none), UniqueUntil ms.
// Returns per job {id, duplicate 0/1}, flattened.
var enqueueScript = script(`
local ek = K .. ':e:' .. ARGV[3]
local prev = redis.call('GET', ek)
if prev then return cjson.decode(prev) end
local now = now_ms()
local out = {}
local woke = false
local zadd = {{}, {}, {}, {}}
local token = tokens(now, (#ARGV - 4) / 7)
for i = 5, #ARGV, 7 do
  local p, runat, uk, uu = ARGV[i + 1], tonumber(ARGV[i + 3]), ARGV[i + 5], tonumber(ARGV[i + 6])
  local id = token() .. ARGV[4]
  local holder = nil
  if uk ~= '' and uu > now then
    local u = K .. ':u:' .. uk
    if not redis.call('SET', u, id, 'NX', 'PXAT', uu) then holder = redis.call('GET', u) end
  end
  if holder then
    out[#out + 1] = holder
    out[#out + 1] = 1
  else
    redis.call('HSET', J(id), 'd', ARGV[i], 'p', p, 'm', ARGV[i + 2], 'a', 0, 'r', runat, 'rn', ARGV[i + 4], 'l', '')
    local z = zadd[p + 1]
    z[#z + 1] = runat
    z[#z + 1] = id
    if runat <= now then woke = true end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
for p = 0, 3 do
  if #zadd[p + 1] > 0 then redis.call('ZADD', Q(p), unpack(zadd[p + 1])) end
end
if woke then wake() end
redis.call('SET', ek, cjson.encode(out), 'PX', 120000)
return out
`)

// fetchScript: ARGV[3] consumer, max, lease ms, limit (0 none), rate N, rate
// per ms, rate burst. Returns per job {id, encoded, attempt, runAt ms,
// last error, lease token, priority, max attempts, runAt ns}, flattened.
var fetchScript = script(`
local consumer, n, lease = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local limit, rn, rper, burst = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local now = now_ms()
if reap(now, 1000) > 0 then wake() end
if redis.call('HEXISTS', K, 'paused') == 1 then return {} end
if limit > 0 then n = math.min(n, limit - redis.call('ZCARD', L)) end
local bucket = 0
if rn > 0 then
  local b = redis.call('HMGET', K, 'tk', 'tt')
  bucket = tonumber(b[1]) or burst
  local last = tonumber(b[2]) or now
  if now > last then bucket = math.min(burst, bucket + (now - last) * rn / rper) end
  n = math.min(n, math.floor(bucket))
end
local out, got = {}, 0
local leased = {}
local token = nil
for p = 0, 3 do
  local key = Q(p)
  local tries = 0
  while got < n and tries < 8 do
    tries = tries + 1
    local ids = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, n - got)
    if #ids == 0 then break end
    redis.call('ZREM', key, unpack(ids))
    for _, id in ipairs(ids) do
      local h = redis.call('HMGET', J(id), 'd', 'a', 'r', 'e', 'p', 'm', 'rn', 'l')
      if h[1] and (h[8] == '' or not h[8]) then
        local a, m = tonumber(h[2]), tonumber(h[6])
        if a == nil or m == nil or tonumber(h[3]) == nil or prio(h[5]) ~= p then
          dead(id, 'malformed job: attempt, max attempts, run-at or priority', now)
        elseif a >= m then
          dead(id, 'attempts exhausted (' .. a .. ' of ' .. m .. '): ' .. (h[4] or ''), now)
        else
          if not token then token = tokens(now, n) end
          local tok = token()
          redis.call('HSET', J(id), 'a', a + 1, 'l', tok)
          leased[#leased + 1] = now + lease
          leased[#leased + 1] = id
          got = got + 1
          local o = #out
          out[o + 1], out[o + 2], out[o + 3], out[o + 4] = id, h[1], a + 1, h[3]
          out[o + 5], out[o + 6], out[o + 7], out[o + 8] = h[4] or '', tok, h[5], h[6]
          out[o + 9] = h[7] or ''
        end
      elseif h[2] or h[5] then
        -- a job hash without its encoded job, or marked leased while waiting
        dead(id, 'malformed job: no encoded job, or leased while waiting', now)
      end
    end
  end
end
if #leased > 0 then redis.call('ZADD', L, unpack(leased)) end
if rn > 0 then redis.call('HSET', K, 'tk', bucket - got, 'tt', now) end
return out
`)

// extendScript: ARGV[3] lease ms, then per job: id, token. Returns 1/0 per job.
var extendScript = script(`
local lease = tonumber(ARGV[3])
local now = now_ms()
local out = {}
for i = 4, #ARGV, 2 do
  local l = redis.call('HGET', J(ARGV[i]), 'l')
  if l and l ~= '' and l == ARGV[i + 1] then
    redis.call('ZADD', L, now + lease, ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`)

// settleScript: then per outcome: id, token, kind (1 Done, 2 Retry, 3 Snooze,
// 4 Dead, 5 Release), at ms, at ns, error. Returns 1 (applied) or 0 (lease lost) per outcome.
var settleScript = script(`
local now = now_ms()
local out = {}
local woke = false
local unlease, dels, dones = {}, {}, {}
for i = 3, #ARGV, 6 do
  local id, tok, kind, at, atns, err = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local j = J(id)
  local mark = tok .. '|' .. kind
  local h = redis.call('HMGET', j, 'l', 'k', 'a', 'p', 'r')
  local ok = 0
  if h[1] and h[1] ~= '' and h[1] == tok then
    ok = 1
    unlease[#unlease + 1] = id
    if kind == 1 then
      dels[#dels + 1] = j
      dones[#dones + 1] = now
      dones[#dones + 1] = tok
    elseif kind == 4 then
      redis.call('HSET', j, 'e', err, 'k', mark)
      dead(id, err, now)
    else
      local a = tonumber(h[3]) or 1
      if kind ~= 2 then a = math.max(a - 1, 0) end
      if kind == 2 then redis.call('HSET', j, 'e', err) end
      if kind == 5 then
        at = tonumber(h[5]) or now -- released: waits at its RunAt, ready at once
        redis.call('HSET', j, 'a', a, 'k', mark, 'l', '')
      else
        redis.call('HSET', j, 'a', a, 'k', mark, 'l', '', 'r', at, 'rn', atns)
      end
      local p = prio(h[4])
      if p == nil then
        dead(id, 'malformed job: priority', now)
      else
        redis.call('ZADD', Q(p), at, id)
        if at <= now then woke = true end
      end
    end
  elseif h[2] == mark then
    ok = 1 -- settled before with this lease and kind (a resent call)
  elseif not h[1] then
    if kind == 1 and redis.call('ZSCORE', D, tok) then ok = 1 end
    if kind == 4 and redis.call('HGET', XJ(id), 'k') == mark then ok = 1 end
  end
  out[#out + 1] = ok
end
if #unlease > 0 then redis.call('ZREM', L, unpack(unlease)) end
if #dels > 0 then
  redis.call('DEL', unpack(dels))
  redis.call('ZADD', D, unpack(dones))
  redis.call('ZREMRANGEBYRANK', D, 0, -10001)
end
if woke then wake() end
return out
`)

// cancelScript: ARGV[3] id. Returns 1 when cancelled, 0 when not found.
var cancelScript = script(`
local id = ARGV[3]
local h = redis.call('HMGET', J(id), 'l', 'p', 'd')
if not h[1] and not h[2] and not h[3] then return 0 end
local now = now_ms()
if h[1] and h[1] ~= '' then
  redis.call('ZREM', L, id)
else
  for p = 0, 3 do redis.call('ZREM', Q(p), id) end
end
dead(id, 'cancelled', now)
return 1
`)

// pauseScript: ARGV[3] "1" pauses, "0" resumes.
var pauseScript = script(`
if ARGV[3] == '1' then redis.call('HSET', K, 'paused', 1) else redis.call('HDEL', K, 'paused') end
return 1
`)

// statsScript returns {ready, scheduled, running, dead, oldest RunAt ms (0
// none), paused, oldest RunAt ns ("" unknown)}.
var statsScript = script(`
local now = now_ms()
local ready, total, oldest, oldestID = 0, 0, 0, nil
for p = 0, 3 do
  local key = Q(p)
  local n = redis.call('ZCARD', key)
  if n > 0 then
    total = total + n
    ready = ready + redis.call('ZCOUNT', key, '-inf', now)
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local r = tonumber(first[2])
    if r and r <= now and (oldest == 0 or r < oldest) then oldest, oldestID = r, first[1] end
  end
end
local ns = ''
if oldestID then ns = redis.call('HGET', J(oldestID), 'rn') or '' end
local paused = redis.call('HEXISTS', K, 'paused')
return {ready, total - ready, redis.call('ZCARD', L), redis.call('ZCARD', X), oldest, paused, ns}
`)

// waitScript returns {1} when a job is ready now or a lease has run out, else
// {0, ms until the next scheduled job or lease deadline (-1 none), the last
// wake-up's ID}.
var waitScript = script(`
local now = now_ms()
local next = -1
for _, key in ipairs({Q(0), Q(1), Q(2), Q(3), L}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then
    local d = tonumber(first[2]) - now
    if d <= 0 then return {1} end
    if next < 0 or d < next then next = d end
  end
end
local last = redis.call('XREVRANGE', W, '+', '-', 'COUNT', 1)
if last[1] then return {0, next, last[1][1]} end
return {0, next, '0-0'}
`)

// deadListScript: ARGV[3] cursor ("" first page), limit. Returns per dead
// job {cursor, fields of its hash as a flat list}, flattened in pairs.
var deadListScript = script(`
local max = '+'
if ARGV[3] ~= '' then max = '(' .. ARGV[3] end
local ms = redis.call('ZREVRANGEBYLEX', X, max, '-', 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, m in ipairs(ms) do
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGETALL', XJ(string.sub(m, 15)))
end
return out
`)

// deadMoveScript: ARGV[3] "retry" or "purge", ARGV[4] "all" or "ids", then
// IDs. With "all" it moves at most 1,000 (the caller calls again until 0).
// Returns how many it moved.
var deadMoveScript = script(`
local retry = ARGV[3] == 'retry'
local now = now_ms()
local ids = {}
if ARGV[4] == 'all' then
  for _, m in ipairs(redis.call('ZRANGE', X, 0, 999)) do ids[#ids + 1] = string.sub(m, 15) end
else
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local moved, woke = 0, false
for _, id in ipairs(ids) do
  local x = XJ(id)
  local h = redis.call('HMGET', x, 't', 'p')
  local p = prio(h[2])
  -- a job with a malformed priority cannot run again: RetryDead skips it
  if h[1] and not (retry and p == nil) then
    redis.call('ZREM', X, string.format('%013d', tonumber(h[1]) or 0) .. ':' .. id)
    moved = moved + 1
    if retry then
      redis.call('DEL', J(id))
      redis.call('RENAME', x, J(id))
      redis.call('HDEL', J(id), 'why', 't', 'k')
      redis.call('HSET', J(id), 'a', 0, 'r', now, 'rn', '')
      redis.call('ZADD', Q(p), now, id)
      woke = true
    else
      redis.call('DEL', x)
    end
  end
end
if woke then wake() end
return moved
`)
