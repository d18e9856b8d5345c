--[[
  Cancels a scheduled, waiting or active job: a terminal state with who and why. An active job's
  attempt is recorded as cancelled; its worker's lease is gone, so its late result is refused.
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] by  ARGV[4] reason ('' = none)  ARGV[5] how the attempt of an active job ends: JSON {outcome, decision}
  Returns { 'ok', previous state } | { 'not_found' } | { 'finished', state }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/attemptRecord"
--- @include "includes/appendAttempt"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/applyRetention"
--- @include "includes/notePending"
--- @include "includes/waitLevels"
--- @include "includes/rollup"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local jk = P .. KEY_JOB .. id
local f = rcall('HMGET', jk, 'st', 'cur', 'trg', 'due', 'sa', 'wid', 'man', 'pr', 'grp', 'cw', 'name')
local st = f[1]
if not st then return { 'not_found' } end
if st == 'completed' or st == 'dead' or st == 'cancelled' then return { 'finished', st } end
local now = nowMs()
if st == 'active' then
  local cur = tonumber(f[2])
  local rec = attemptRecord(cur, f[3], tonumber(f[4]), tonumber(f[5]), now, f[6], ARGV[5], f[7], f[10])
  appendAttempt(P, id, rec)
  rcall('HSET', jk, 'n', cur)
  if f[7] and f[7] ~= '' then rcall('HSET', jk, 'man', '') end
  rcall('ZREM', KEYS[4], id)
elseif st == 'waiting' then
  removeWaiting(KEYS, P, id, tonumber(f[8] or '0'), f[9])
else
  rcall('ZREM', KEYS[3], id)
end
local c = { by = ARGV[3], at = now }
if ARGV[4] ~= '' then c.reason = ARGV[4] end
rcall('HSET', jk, 'st', 'cancelled', 'cnl', cjson.encode(c), 'ft', now)
rcall('ZADD', KEYS[7], now, id)
notePending(KEYS, P, { now, id })
ev('cancelled', id, 'by', ARGV[3], 'previous', st)
-- The retry analytics rollups count cancels apart (includes/rollup).
local m = rcall('HMGET', KEYS[1], 'nro', 'rum')
if m[1] ~= '1' then
  local acc = {}
  RU.cancel(acc, f[11] or '', st)
  RU.flush(P, KEYS[1], now, acc, {}, m[2])
end
applyRetention(KEYS, P, 'cancelled', now)
flushEvents(KEYS, now)
return { 'ok', st }
