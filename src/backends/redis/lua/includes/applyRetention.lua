--- @include "includes/rcall"
--- @include "includes/evict"
-- Retention: evict finished jobs older than the age rule, then the oldest beyond the count rule.
-- Bounded per call (`budget`, default 1000) so one script never runs long; the next transition or
-- retention sweep continues the work. Returns how many jobs were evicted.
local function applyRetention(K, P, state, now, budget)
  local rule = rcall('HMGET', K[1], 'rc:' .. state, 'ra:' .. state)
  if not rule[1] and not rule[2] then return 0 end
  local setKey = K[FINISHED_SET[state]]
  budget = budget or 1000
  local evicted = 0
  if rule[2] then
    local old = rcall('ZRANGEBYSCORE', setKey, '-inf', now - tonumber(rule[2]), 'LIMIT', 0, budget)
    for _, id in ipairs(old) do evict(K, P, state, id, now) end
    evicted = #old
  end
  if rule[1] and evicted < budget then
    local excess = rcall('ZCARD', setKey) - tonumber(rule[1])
    if excess > 0 then
      if excess > budget - evicted then excess = budget - evicted end
      local ids = rcall('ZRANGE', setKey, 0, excess - 1)
      for _, id in ipairs(ids) do evict(K, P, state, id, now) end
      evicted = evicted + #ids
    end
  end
  return evicted
end
