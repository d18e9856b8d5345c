--- @include "includes/rcall"
--- @include "includes/earliestDue"
-- For an idle worker: ms until the next scheduled job is due or the next lease expires, or -1.
local function nextWakeIn(K, now)
  local nextAt = earliestDue(K)
  local firstLease = rcall('ZRANGE', K[4], 0, 0, 'WITHSCORES')
  if firstLease[2] and (nextAt == nil or tonumber(firstLease[2]) < nextAt) then nextAt = tonumber(firstLease[2]) end
  if nextAt == nil then return -1 end
  local wait = nextAt - now
  if wait < 0 then wait = 0 end
  return wait
end
