--- @include "includes/rcall"
--- @include "generated/keys"
-- Moves scheduled jobs whose due time has come to the back of the wait list.
local function promoteDue(K, P, now)
  local ids = rcall('ZRANGEBYSCORE', K[3], '-inf', now, 'LIMIT', 0, 1000)
  if #ids == 0 then return 0 end
  for _, id in ipairs(ids) do
    rcall('HSET', P .. KEY_JOB .. id, 'st', 'waiting')
    rcall('LPUSH', K[2], id)
  end
  rcall('ZREM', K[3], unpack(ids))
  return #ids
end
