--- @include "includes/rcall"
--- @include "includes/earliestDue"
-- For an idle worker: ms until the next scheduled job is due, the next lease expires, or (`tokenAt`,
-- nil = none) a rate limit that held jobs back gives its next token; or -1. A wait for a token is
-- rounded up to whole ms, at least 1, so a worker never claims before the token exists.
local function nextWakeIn(K, now, tokenAt)
  local nextAt = earliestDue(K)
  local firstLease = rcall('ZRANGE', K[4], 0, 0, 'WITHSCORES')
  if firstLease[2] and (nextAt == nil or tonumber(firstLease[2]) < nextAt) then nextAt = tonumber(firstLease[2]) end
  if tokenAt and (nextAt == nil or tokenAt < nextAt) then
    local w = math.ceil(tokenAt - now)
    if w < 1 then w = 1 end
    return w
  end
  if nextAt == nil then return -1 end
  local wait = nextAt - now
  if wait < 0 then wait = 0 end
  return wait
end
