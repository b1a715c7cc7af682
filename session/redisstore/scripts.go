package redisstore

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Every script touches one session's keys, which share one hash slot, so the store works
// on Redis Cluster: a session's fields live in one hash whose key carries the hash tag
// {session:…} (take also keeps a record next to it, under the same tag).
//
// Hash fields: "v:<name>" values; "m:c" created and "m:e" expiry (Unix ms); "m:u" user;
// "m:v" version (bumped by every update, checked by Renew); "m:t" tombstone marker and
// "m:f" the successor key of a renewed session; "m:r" the successor a Renew under way is
// copying to and "m:rd" the end of its lease (Unix ms, Redis's clock); "m:o" the tag of
// the creation that made the hash; "m:d" in a destroyed session's tombstone, the nonce of
// the destroy. Next to the hash, in its slot, "<key>:tk:<nonce>" keeps what a take took,
// for its resend (see takeScript).
//
// While a Renew's lease runs, apply and take change nothing and reply {3, ms left}: the
// caller waits and runs them again, and then follows the tombstone to the successor. So a
// renewal copies a session that cannot change under it and always completes, however busy
// the session is; a renewer that dies holds the session's writers for one lease at most.

// frozen is the lease check apply and take begin with; m must hold 'm:rd' at index 3.
const frozen = `
if m[3] then
  local t = redis.call('TIME')
  local left = tonumber(m[3]) - (t[1] * 1000 + math.floor(t[2] / 1000))
  if left > 0 then return {3, left} end
end
`

// create: ARGV = tag, created, expires, user, name1, value1, …. The tag names this
// creation (Create's random nonce, or "o:" and the old key for a Renew's copy) and is kept
// in 'm:o': create fails if the key is taken by anything but a creation with the same tag,
// so a create that runs twice (go-redis resends a command whose reply timed out, or a
// Renew copies again) replaces its own earlier run and nobody else's session.
// Returns 1, 0 if a session holds the key, or -1 if a tombstone does (the key was
// destroyed; DestroyUser also tombstones an indexed key before its Create or copy runs).
var createScript = redis.NewScript(`
local k = KEYS[1]
local tag = ARGV[1]
if redis.call('EXISTS', k) == 1 then
  if redis.call('HEXISTS', k, 'm:t') == 1 then return -1 end
  if redis.call('HGET', k, 'm:o') ~= tag then return 0 end
  redis.call('DEL', k)
end
redis.call('HSET', k, 'm:c', ARGV[2], 'm:e', ARGV[3], 'm:u', ARGV[4], 'm:v', 0, 'm:o', tag)
for i = 5, #ARGV, 2 do
  redis.call('HSET', k, 'v:' .. ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', k, ARGV[3])
return 1
`)

// apply: ARGV = expires ("" keeps it), setUser ("1"), user, maxSize (0: none), nset,
// name1, value1, …, del1, …
// Returns 1 when applied, 0 when no live session, -2 when the session would exceed
// maxSize (nothing applied); {1, user} when
// applied and the expiry of a session bound to user moved (without SetUser), so that the
// caller extends the user's index; {2, successor} after a renewal; {3, ms} while one is
// under way.
var applyScript = redis.NewScript(`
local k = KEYS[1]
local m = redis.call('HMGET', k, 'm:c', 'm:f', 'm:rd')
if not m[1] then
  -- missing, or a tombstone (which has no 'm:c'): follow a renewal, else not found
  if m[2] then return {2, m[2]} end
  return 0
end
` + frozen + `
local nset = tonumber(ARGV[5])
local first, dels = 6, 6 + 2 * nset
local max = tonumber(ARGV[4])
if max > 0 then
  local size, cur = 0, {}
  local all = redis.call('HGETALL', k)
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 2) == 'v:' then
      cur[f] = #all[j + 1]
      size = size + #f - 2 + #all[j + 1]
    end
  end
  for j = first, dels - 1, 2 do
    local f = 'v:' .. ARGV[j]
    if cur[f] then size = size - #ARGV[j] - cur[f] end
    cur[f] = #ARGV[j + 1]
    size = size + #ARGV[j] + cur[f]
  end
  for j = dels, #ARGV do
    local f = 'v:' .. ARGV[j]
    if cur[f] then
      size = size - #ARGV[j] - cur[f]
      cur[f] = nil
    end
  end
  if size > max then return -2 end
end
local i, n = first, nset
while n > 0 do -- HSET in batches, within Lua's unpack limit
  local f, b = {}, math.min(n, 500)
  for j = 1, b do
    f[2 * j - 1], f[2 * j] = 'v:' .. ARGV[i], ARGV[i + 1]
    i = i + 2
  end
  redis.call('HSET', k, unpack(f))
  n = n - b
end
while i <= #ARGV do -- HDEL in batches too
  local d = {}
  for j = i, math.min(#ARGV, i + 999) do d[#d + 1] = 'v:' .. ARGV[j] end
  redis.call('HDEL', k, unpack(d))
  i = i + #d
end
if ARGV[2] == '1' then redis.call('HSET', k, 'm:u', ARGV[3]) end
redis.call('HINCRBY', k, 'm:v', 1)
if ARGV[1] ~= '' then
  redis.call('HSET', k, 'm:e', ARGV[1])
  redis.call('PEXPIREAT', k, ARGV[1])
  if ARGV[2] ~= '1' then
    -- the user index must live as long as the session: tell the caller whose it is
    local u = redis.call('HGET', k, 'm:u')
    if u and u ~= '' then return {1, u} end
  end
end
return 1
`)

// take removes one value. ARGV = name, nonce. Returns {1, value} when taken, -1 when the
// session has no such value, 0 when no live session, {2, successor} after a renewal, or
// {3, ms} while one is under way. It bumps the version, as every update does. Each take
// keeps the value it took for a resend, for minTombstone, in a key of its own next to the
// session's hash ('<key>:tk:<nonce>', in the hash's slot; never in the hash, which every
// Load reads whole): a take that runs twice (resent after its reply timed out) returns its
// own value again, whatever other takes or a Renew (its copy lacks the value) ran in between.
var takeScript = redis.NewScript(`
local k = KEYS[1]
local rk = k .. ':tk:' .. ARGV[2] -- same hash tag, so same slot as k
local done = redis.call('GET', rk)
if done then return {1, done} end
local m = redis.call('HMGET', k, 'm:c', 'm:f', 'm:rd')
if not m[1] then
  if m[2] then return {2, m[2]} end
  return 0
end
` + frozen + `
local f = 'v:' .. ARGV[1]
local v = redis.call('HGET', k, f)
if not v then return -1 end
redis.call('HDEL', k, f)
redis.call('SET', rk, v, 'PX', ` + takeRecordMs + `)
redis.call('HINCRBY', k, 'm:v', 1)
return {1, v}
`)

// takeRecordMs is how long takeScript keeps a take's value for its resend: minTombstone.
var takeRecordMs = strconv.FormatInt(minTombstone.Milliseconds(), 10)

// freeze starts a Renew: it takes the session's lease for the successor and returns the
// session as {1, HGETALL}. ARGV = successor, lease ms. Returns 0 when no live session, or
// {3, ms} while another Renew's lease runs. The same successor may freeze again (a retry).
var freezeScript = redis.NewScript(`
local k = KEYS[1]
local m = redis.call('HMGET', k, 'm:c', 'm:r', 'm:rd')
if not m[1] then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if m[2] ~= ARGV[1] and m[3] and tonumber(m[3]) > now then return {3, tonumber(m[3]) - now} end
redis.call('HSET', k, 'm:r', ARGV[1], 'm:rd', string.format('%.0f', now + tonumber(ARGV[2])))
return {1, redis.call('HGETALL', k)}
`)

// seal turns a renewed session into a tombstone forwarding to its successor, if its lease
// is still the successor's and nobody updated it since the copy (a lease that ran out lets
// writers in). ARGV = version, successor, grace ms.
// Returns 1 sealed, 0 no live session, -1 changed since the copy or lease taken over.
// A seal that runs again (resent after its reply timed out) finds its own tombstone: 1.
var sealScript = redis.NewScript(`
local k = KEYS[1]
local m = redis.call('HMGET', k, 'm:c', 'm:v', 'm:r', 'm:f')
if not m[1] then
  if m[4] == ARGV[2] then return 1 end
  return 0
end
if m[2] ~= ARGV[1] or m[3] ~= ARGV[2] then return -1 end
redis.call('DEL', k)
redis.call('HSET', k, 'm:t', 1, 'm:f', ARGV[2])
redis.call('PEXPIRE', k, ARGV[3])
return 1
`)

// drop deletes the copy a failed Renew made, if the key still holds it. ARGV = tag.
var dropScript = redis.NewScript(`
local k = KEYS[1]
if redis.call('HGET', k, 'm:o') == ARGV[1] then redis.call('DEL', k) end
return 1
`)

// thaw ends a Renew that failed before sealing, so writers need not wait out its lease.
// ARGV = successor.
var thawScript = redis.NewScript(`
local k = KEYS[1]
if redis.call('HGET', k, 'm:r') == ARGV[1] then redis.call('HDEL', k, 'm:r', 'm:rd') end
return 1
`)

// destroy leaves a tombstone. ARGV = grace ms, user ("" destroys any session), nonce.
// Returns 1 if a live session was destroyed, 0 otherwise; the tombstone of a live session
// keeps the nonce in 'm:d', so a destroy that runs twice (resent after its reply timed
// out) still returns 1 and DestroyUser counts the session. With a user (DestroyUser going
// through the user's index): a live session of another user is left alone and -1 returned
// (it may be binding to user right now: keep it indexed); a renewed session's successor is
// returned; a missing key gets a tombstone too, so that a Create racing DestroyUser (which
// indexes the key before creating it) fails instead of creating a session the index lost.
var destroyScript = redis.NewScript(`
local k = KEYS[1]
local exists = redis.call('EXISTS', k) == 1
local live = exists and redis.call('HEXISTS', k, 'm:t') == 0
if ARGV[2] ~= '' then
  if exists and not live then
    local t = redis.call('HMGET', k, 'm:f', 'm:d')
    if t[1] then return t[1] end
    if ARGV[3] ~= '' and t[2] == ARGV[3] then return 1 end
    return 0
  end
  if live and redis.call('HGET', k, 'm:u') ~= ARGV[2] then return -1 end
end
redis.call('DEL', k)
redis.call('HSET', k, 'm:t', 1)
redis.call('PEXPIRE', k, ARGV[1])
if live then
  if ARGV[3] ~= '' then redis.call('HSET', k, 'm:d', ARGV[3]) end
  return 1
end
return 0
`)
