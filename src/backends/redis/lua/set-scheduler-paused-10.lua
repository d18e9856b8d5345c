--[[
  Pauses a scheduler (scored +inf in the schedulers zset: never due, no wake-up; its next run is
  kept in its hash) or
  resumes it: the next run given (the first after now, planned by planResume), and the occurrences
  the pause skipped recorded as one ledger entry, reason 'paused'. A resume applies only if the next
  run is still the one the caller planned from.
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] '1' pause | '0' resume  ARGV[4] expected next run
  ARGV[5] next run  ARGV[6] skipped first ('' none)  ARGV[7] skipped last  ARGV[8] count
  ARGV[9] '1' = more were skipped
  Events: `scheduler` {scheduler, action: paused | resumed, next}; on a resume that skipped runs,
  first `tick-skipped` {scheduler, reason: paused, plannedAt (the first skipped), count}.
  Returns 1 done, 0 unchanged, -1 no such scheduler, -2 changed since read (resume)
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "generated/keys"
--- @include "generated/schedule"
local P = ARGV[1]
local id = ARGV[2]
local hk = P .. KEY_SCHEDULER .. id
local h = rcall('HMGET', hk, 'pz', 'nx')
if not h[1] then return -1 end
local now = nowMs()
local nowS = S(now)
if ARGV[3] == '1' then
  if h[1] == '1' then return 0 end
  rcall('HSET', hk, 'pz', '1', 'ut', nowS)
  rcall('ZADD', P .. KEY_SCHEDULERS, '+inf', id)
  ev('scheduler', '', 'scheduler', id, 'action', 'paused', 'next', h[2])
  flushEvents(KEYS, now)
  return 1
end
if h[1] ~= '1' then return 0 end
if h[2] ~= ARGV[4] then return -2 end
rcall('HSET', hk, 'pz', '0', 'nx', ARGV[5], 'ut', nowS)
rcall('ZADD', P .. KEY_SCHEDULERS, ARGV[5], id)
if ARGV[6] ~= '' then
  local lk = P .. KEY_TICKS .. id
  rcall('LPUSH', lk, '{"plannedAt":' .. ARGV[6] .. ',"at":' .. nowS ..
    ',"outcome":"skipped","reason":"paused","count":' .. ARGV[8] .. ',"lastPlannedAt":' .. ARGV[7] ..
    (ARGV[9] == '1' and ',"more":true' or '') .. '}')
  rcall('LTRIM', lk, 0, TICK_LEDGER_LENGTH - 1)
  ev('tick-skipped', '', 'scheduler', id, 'reason', 'paused', 'plannedAt', ARGV[6], 'count', ARGV[8])
end
ev('scheduler', '', 'scheduler', id, 'action', 'resumed', 'next', ARGV[5])
flushEvents(KEYS, now)
return 1
