--- @include "includes/rcall"
-- The due time of the first scheduled job, or nil. A scheduled job due earlier than every other
-- must wake a worker so it shortens its block.
local function earliestDue(K)
  local first = rcall('ZRANGE', K[3], 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) end
  return nil
end
