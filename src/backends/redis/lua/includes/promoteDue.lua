--- @include "includes/rcall"
--- @include "includes/waitLevels"
--- @include "generated/keys"
-- Moves scheduled jobs whose due time has come to the back of their priority's wait list.
local function promoteDue(K, P, now)
  local ids = rcall('ZRANGEBYSCORE', K[3], '-inf', now, 'LIMIT', 0, 1000)
  if #ids == 0 then return 0 end
  for _, id in ipairs(ids) do
    local jk = P .. KEY_JOB .. id
    rcall('HSET', jk, 'st', 'waiting')
    local f = rcall('HMGET', jk, 'pr', 'grp')
    pushWaiting(K, P, id, tonumber(f[1] or '0'), f[2])
  end
  rcall('ZREM', K[3], unpack(ids))
  return #ids
end
