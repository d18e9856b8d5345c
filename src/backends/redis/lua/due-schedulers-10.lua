--[[
  Reads the schedulers due now by the server clock, earliest first, for the scheduler loop to plan
  their ticks (planTick, in TypeScript: cron needs a parser Lua does not have). Read-only; the tick
  script re-checks each one.
  ARGV[1] key prefix  ARGV[2] most schedulers
  Returns { now, next run of the first one not returned ('' none), { id, hash as a flat array }... }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local max = tonumber(ARGV[2])
local now = nowMs()
local zk = P .. KEY_SCHEDULERS
local ids = rcall('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, max)
local out = { S(now), '' }
for _, id in ipairs(ids) do
  out[#out + 1] = { id, rcall('HGETALL', P .. KEY_SCHEDULER .. id) }
end
local after = rcall('ZRANGE', zk, #ids, #ids, 'WITHSCORES')
-- Paused schedulers are scored +inf: never due.
if after[2] and after[2] ~= 'inf' then out[2] = after[2] end
return out
