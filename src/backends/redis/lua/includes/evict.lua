--- @include "includes/rcall"
--- @include "includes/ev"
--- @include "includes/removeDead"
--- @include "includes/deleteJob"
--- @include "generated/keys"
-- The KEYS index of each finished state's set.
local FINISHED_SET = { completed = 5, dead = 6, cancelled = 7 }

-- Deletes a finished job by retention, counted per state (meta "ev:<state>").
local function evict(K, P, state, id, now)
  local f = rcall('HMGET', P .. KEY_JOB .. id, 'fp', 'oh')
  if state == 'dead' then
    removeDead(K, P, id, f[1])
  else
    rcall('ZREM', K[FINISHED_SET[state]], id)
  end
  deleteJob(P, id, f[2])
  rcall('HINCRBY', K[1], 'ev:' .. state, 1)
  ev('evicted', id, 'state', state)
end
