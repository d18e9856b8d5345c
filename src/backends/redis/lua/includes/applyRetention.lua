--- @include "includes/rcall"
--- @include "includes/evict"
-- Retention: evict finished jobs older than the age rule, then the oldest beyond the count rule.
-- Bounded per call so one script never runs long; the next transition continues the work.
local function applyRetention(K, P, state, now)
  local rule = rcall('HMGET', K[1], 'rc:' .. state, 'ra:' .. state)
  if not rule[1] and not rule[2] then return end
  local setKey = K[FINISHED_SET[state]]
  local budget = 1000
  if rule[2] then
    local old = rcall('ZRANGEBYSCORE', setKey, '-inf', now - tonumber(rule[2]), 'LIMIT', 0, budget)
    for _, id in ipairs(old) do evict(K, P, state, id, now) end
    budget = budget - #old
  end
  if rule[1] and budget > 0 then
    local excess = rcall('ZCARD', setKey) - tonumber(rule[1])
    if excess > 0 then
      if excess > budget then excess = budget end
      local ids = rcall('ZRANGE', setKey, 0, excess - 1)
      for _, id in ipairs(ids) do evict(K, P, state, id, now) end
    end
  end
end
