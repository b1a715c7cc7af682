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
//	base:jd     hash: job ID → the encoded job (its immutable part, codec.go)
//	base:js     hash: job ID → its state "a|m|p|r|rn|l|k": Attempt, MaxAttempts,
//	            priority, RunAt (ms), RunAt (ns, exact; "" when the server set
//	            it), lease token while leased, "<token>:<kind>" of the last Settle
//	base:je     hash: job ID → LastError (absent when none)
//	base:w      stream of wake-ups (capped at ~100 entries): an entry whenever
//	            a job becomes ready now, which Wait blocks on (XREAD BLOCK)
//	base:x      dead letters: a ZSET of "<died ms, 13 digits>:<id>", all score 0,
//	            so that ZREVRANGEBYLEX lists newest first with stable cursors
//	base:x:<id> hash of a dead job: d, a, m, p, r, rn, e as above, "why", "t"
//	            (died, ms) and "k"
//	base:u:<k>  unique key k: the holder's ID, expiring at UniqueUntil
//	base:d      ZSET of the lease tokens of the last 10,000 Done outcomes (a
//	            resent Settle finds its first run's work there)
//	base:e:<n>  an Enqueue call's reply, kept 2 minutes under its nonce n, so that a
//	            resent call (go-redis resends a command whose reply timed out)
//	            returns the same IDs instead of storing the jobs twice
//
// Jobs live in per-queue hashes rather than a hash each so that a script
// reads and writes a whole batch's jobs in one command (HMGET, HSET, HDEL of
// many fields): the per-job work is Lua string handling, not Redis commands.
//
// A job is in exactly one state: waiting (in its priority's ZSET, no lease
// token), leased (a token, in base:l) or dead (moved to base:x:<id>).
// Redis runs a script atomically, but an error half-way does not roll back what
// it wrote before: the scripts check what they read (a hand-edited state)
// before they write, and dead-letter what they cannot read.
//
// Every script's ARGV starts with the retention bounds (MaxAge ms, MaxCount;
// ≤ 0: none) that dead-lettering trims to; the rest is per script.
const lib = `
local K = KEYS[1]
local maxAge, maxCount = tonumber(ARGV[1]), tonumber(ARGV[2])
local L, X, D, W = K .. ':l', K .. ':x', K .. ':d', K .. ':w'
local JD, JS, JE = K .. ':jd', K .. ':js', K .. ':je'
local function XJ(id) return K .. ':x:' .. id end
local function Q(p) return K .. ':q' .. p end
-- PAD, a value past hash-max-listpack-value (64 bytes), stored under the
-- field '~' of the job hashes by every batch write, keeps them in Redis's
-- hashtable encoding: a small listpack would make each batch O(n²).
local PAD = string.rep('~', 80)

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

-- parse splits a state; it returns nil for a malformed one. Numbers are numbers.
local function parse(s)
  if not s then return nil end
  local a, m, p, r, rn, l, k = string.match(s, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  a, m, p, r = tonumber(a), tonumber(m), prio(p), tonumber(r)
  if a == nil or m == nil or p == nil or r == nil then return nil end
  return {a = a, m = m, p = p, r = r, rn = rn, l = l, k = k}
end

local function state(s)
  return s.a .. '|' .. s.m .. '|' .. s.p .. '|' .. s.r .. '|' .. s.rn .. '|' .. s.l .. '|' .. s.k
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

-- dead moves job id (out of its ZSETs already) to the dead letters, with
-- mark as the last Settle's mark ('' none). A malformed state is kept raw.
local function dead(id, why, now, mark)
  local x = XJ(id)
  local raw = redis.call('HGET', JS, id)
  local d = redis.call('HGET', JD, id) or ''
  local e = redis.call('HGET', JE, id) or ''
  local s = parse(raw)
  redis.call('DEL', x)
  if s then
    redis.call('HSET', x, 'd', d, 'a', s.a, 'm', s.m, 'p', s.p, 'r', s.r, 'rn', s.rn, 'e', e,
      'why', why, 't', now, 'k', mark)
  else
    redis.call('HSET', x, 'd', d, 'st', raw or '', 'e', e, 'why', why, 't', now, 'k', mark)
  end
  redis.call('HDEL', JD, id)
  redis.call('HDEL', JS, id)
  redis.call('HDEL', JE, id)
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
    local raw = redis.call('HGET', JS, id)
    if raw then
      local s = parse(raw)
      if s == nil then
        dead(id, 'malformed job: state ' .. raw, now, '')
      elseif s.a >= s.m then
        dead(id, 'lease expired on attempt ' .. s.a, now, '')
      else
        s.l = ''
        redis.call('HSET', JS, id, state(s))
        redis.call('ZADD', Q(s.p), s.r, id)
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
local jd, js = {}, {}
local token = tokens(now, (#ARGV - 4) / 7)
for i = 5, #ARGV, 7 do
  local p, runat, uk, uu = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 3]), ARGV[i + 5], tonumber(ARGV[i + 6])
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
    jd[#jd + 1] = id
    jd[#jd + 1] = ARGV[i]
    js[#js + 1] = id
    js[#js + 1] = '0|' .. ARGV[i + 2] .. '|' .. p .. '|' .. ARGV[i + 3] .. '|' .. ARGV[i + 4] .. '||'
    local z = zadd[p + 1]
    z[#z + 1] = runat
    z[#z + 1] = id
    if runat <= now then woke = true end
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
if #jd > 0 then
  redis.call('HSET', JD, '~', PAD, unpack(jd))
  redis.call('HSET', JS, '~', PAD, unpack(js))
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
local n, lease = tonumber(ARGV[4]), tonumber(ARGV[5])
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
local leased, states = {}, {}
local token = nil
for p = 0, 3 do
  local key = Q(p)
  local tries = 0
  while got < n and tries < 8 do
    tries = tries + 1
    local ids = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, n - got)
    if #ids == 0 then break end
    redis.call('ZREM', key, unpack(ids))
    local ss = redis.call('HMGET', JS, unpack(ids))
    local ds = redis.call('HMGET', JD, unpack(ids))
    local es = redis.call('HMGET', JE, unpack(ids))
    for i, id in ipairs(ids) do
      local s = parse(ss[i])
      if s and ds[i] and s.l == '' and s.p == p then
        if s.a >= s.m then
          dead(id, 'attempts exhausted (' .. s.a .. ' of ' .. s.m .. '): ' .. (es[i] or ''), now, '')
        else
          if not token then token = tokens(now, n) end
          local tok = token()
          s.a, s.l = s.a + 1, tok
          states[#states + 1] = id
          states[#states + 1] = state(s)
          leased[#leased + 1] = now + lease
          leased[#leased + 1] = id
          got = got + 1
          local o = #out
          out[o + 1], out[o + 2], out[o + 3], out[o + 4] = id, ds[i], s.a, s.r
          out[o + 5], out[o + 6], out[o + 7], out[o + 8] = es[i] or '', tok, s.p, s.m
          out[o + 9] = s.rn
        end
      elseif ss[i] or ds[i] then
        dead(id, 'malformed job: state ' .. (ss[i] or 'missing') .. (ds[i] and '' or ', encoded job missing'), now, '')
      end
    end
  end
end
if #states > 0 then
  redis.call('HSET', JS, '~', PAD, unpack(states))
  redis.call('ZADD', L, unpack(leased))
end
if rn > 0 then redis.call('HSET', K, 'tk', bucket - got, 'tt', now) end
return out
`)

// extendScript: ARGV[3] lease ms, then per job: id, token. Returns 1/0 per job.
var extendScript = script(`
local lease = tonumber(ARGV[3])
local now = now_ms()
local ids = {}
for i = 4, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local ss = redis.call('HMGET', JS, unpack(ids))
local out, zadd = {}, {}
for i, id in ipairs(ids) do
  local s = parse(ss[i])
  local tok = ARGV[3 + 2 * i]
  if s and s.l ~= '' and s.l == tok then
    zadd[#zadd + 1] = now + lease
    zadd[#zadd + 1] = id
    out[i] = 1
  else
    out[i] = 0
  end
end
if #zadd > 0 then redis.call('ZADD', L, unpack(zadd)) end
return out
`)

// settleScript: then per outcome: id, token, kind (1 Done, 2 Retry, 3 Snooze,
// 4 Dead, 5 Release), at ms, at ns, error. Returns 1 (applied) or 0 (lease
// lost) per outcome.
var settleScript = script(`
local now = now_ms()
local ids = {}
for i = 3, #ARGV, 6 do ids[#ids + 1] = ARGV[i] end
local ss = redis.call('HMGET', JS, unpack(ids))
local out = {}
local woke = false
local unlease, dels, dones, states, errs = {}, {}, {}, {}, {}
local zadd = {{}, {}, {}, {}}
for n, id in ipairs(ids) do
  local i = 3 + 6 * (n - 1)
  local tok, kind, at, atns, err = ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local mark = tok .. ':' .. kind
  local s = parse(ss[n])
  local ok = 0
  if s and s.l ~= '' and s.l == tok then
    ok = 1
    unlease[#unlease + 1] = id
    if kind == 1 then
      dels[#dels + 1] = id
      dones[#dones + 1] = now
      dones[#dones + 1] = tok
    elseif kind == 4 then
      redis.call('HSET', JE, id, err)
      dead(id, err, now, mark)
    else
      if kind ~= 2 then s.a = math.max(s.a - 1, 0) end
      if kind == 2 then
        errs[#errs + 1] = id
        errs[#errs + 1] = err
      end
      if kind ~= 5 then s.r, s.rn = at, atns end -- a release waits at its RunAt: ready at once
      s.l, s.k = '', mark
      states[#states + 1] = id
      states[#states + 1] = state(s)
      local z = zadd[s.p + 1]
      z[#z + 1] = s.r
      z[#z + 1] = id
      if s.r <= now then woke = true end
    end
  elseif s and s.k == mark then
    ok = 1 -- settled before with this lease and kind (a resent call)
  elseif not ss[n] then
    if kind == 1 and redis.call('ZSCORE', D, tok) then ok = 1 end
    if kind == 4 and redis.call('HGET', XJ(id), 'k') == mark then ok = 1 end
  end
  out[n] = ok
end
if #unlease > 0 then redis.call('ZREM', L, unpack(unlease)) end
if #states > 0 then redis.call('HSET', JS, '~', PAD, unpack(states)) end
if #errs > 0 then redis.call('HSET', JE, '~', PAD, unpack(errs)) end
for p = 0, 3 do
  if #zadd[p + 1] > 0 then redis.call('ZADD', Q(p), unpack(zadd[p + 1])) end
end
if #dels > 0 then
  redis.call('HDEL', JD, unpack(dels))
  redis.call('HDEL', JS, unpack(dels))
  redis.call('HDEL', JE, unpack(dels))
  redis.call('ZADD', D, unpack(dones))
  redis.call('ZREMRANGEBYRANK', D, 0, -10001)
end
if woke then wake() end
return out
`)

// cancelScript: ARGV[3] id. Returns 1 when cancelled, 0 when not found.
var cancelScript = script(`
local id = ARGV[3]
local raw = redis.call('HGET', JS, id)
if not raw then return 0 end
local now = now_ms()
redis.call('ZREM', L, id)
for p = 0, 3 do redis.call('ZREM', Q(p), id) end
dead(id, 'cancelled', now, '')
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
if oldestID then
  local s = parse(redis.call('HGET', JS, oldestID))
  if s then ns = s.rn end
end
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
  local h = redis.call('HMGET', x, 't', 'p', 'm', 'd', 'e')
  local p, m = prio(h[2]), tonumber(h[3])
  -- a job whose stored state was malformed cannot run again: RetryDead skips it
  if h[1] and not (retry and (p == nil or m == nil or not h[4] or h[4] == '')) then
    redis.call('ZREM', X, string.format('%013d', tonumber(h[1]) or 0) .. ':' .. id)
    moved = moved + 1
    if retry then
      redis.call('HSET', JD, id, h[4])
      redis.call('HSET', JS, id, '0|' .. m .. '|' .. p .. '|' .. now .. '|||')
      if h[5] and h[5] ~= '' then redis.call('HSET', JE, id, h[5]) end
      redis.call('ZADD', Q(p), now, id)
      woke = true
    end
    redis.call('DEL', x)
  end
end
if woke then wake() end
return moved
`)
