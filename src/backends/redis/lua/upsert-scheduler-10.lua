--[[
  Creates or updates a scheduler in one step, so any number of processes may upsert the same id at
  once (every process at start-up, say) and one scheduler results: no read-then-write from a client.
  Name, data, options and policies are replaced; the next run and the `every` anchor only when the
  spec is new or changed, so re-upserting the same spec moves nothing. A paused one stays paused
  (and out of the schedulers zset).
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] spec text  ARGV[4] anchor  ARGV[5] next run
  ARGV[6] job name  ARGV[7] data JSON  ARGV[8] options JSON  ARGV[9] maxStalls
  ARGV[10] missed policy text  ARGV[11] overlap policy  ARGV[12] the jobs' priority
  ARGV[13] the jobs' rate-limit group ('' = none)
  Event: `scheduler` {scheduler, action: created | updated, next}.
  Returns { created (1|0), spec changed (1|0), next run }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local spec = ARGV[3]
local hk = P .. KEY_SCHEDULER .. id
local cur = rcall('HMGET', hk, 'spec', 'pz', 'nx')
local now = nowMs()
local nowS = S(now)
local created = cur[1] == false
local changed = created or cur[1] ~= spec
-- The queue exists once anything was stored for it (listQueues finds its meta hash).
rcall('HSETNX', KEYS[1], 'ct', nowS)
if created then
  rcall('HSET', hk, 'ct', nowS, 'pz', '0', 'lj', '', 'lt', '0')
end
-- Every scheduler is in the zset: by next run, or +inf while paused.
rcall('HSET', hk, 'spec', spec, 'name', ARGV[6], 'data', ARGV[7], 'opts', ARGV[8], 'ms', ARGV[9],
  'mis', ARGV[10], 'ovl', ARGV[11], 'pr', ARGV[12], 'grp', ARGV[13], 'ut', nowS)
local nx = cur[3]
if changed then
  nx = ARGV[5]
  rcall('HSET', hk, 'anc', ARGV[4], 'nx', nx)
  if cur[2] ~= '1' then rcall('ZADD', P .. KEY_SCHEDULERS, nx, id) end
end
ev('scheduler', '', 'scheduler', id, 'action', created and 'created' or 'updated', 'next', nx)
flushEvents(KEYS, now)
return { created and 1 or 0, changed and 1 or 0, nx }
