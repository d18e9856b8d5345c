--- @include "includes/rcall"
--- @include "includes/evict"
--- @include "generated/keys"
-- Retention: evict finished jobs older than the age rule, then the oldest beyond the count rule.
-- Bounded per call (`budget`, default 1000) so one script never runs long; the next transition or
-- retention sweep continues the work. Returns how many jobs were evicted.
-- A job the archive has not copied yet (in the archive-pending zset) is held, never evicted: the
-- walk stops at it, oldest first, since the archiver copies jobs oldest first too (so a stop costs
-- one ZSCORE, not a scan of the backlog). The held jobs (those the rules would evict now) are
-- counted in meta `hd:<state>`, deleted when nothing is held.
local function applyRetention(K, P, state, now, budget)
  local rule = rcall('HMGET', K[1], 'rc:' .. state, 'ra:' .. state)
  if not rule[1] and not rule[2] then return 0 end
  local setKey = K[FINISHED_SET[state]]
  local ap = P .. KEY_ARCHIVE_PENDING
  budget = budget or 1000
  local evicted = 0
  local held = false
  local function evictAll(ids)
    for _, id in ipairs(ids) do
      if rcall('ZSCORE', ap, id) then
        held = true
        return
      end
      evict(K, P, state, id, now)
      evicted = evicted + 1
    end
  end
  if rule[2] then
    evictAll(rcall('ZRANGEBYSCORE', setKey, '-inf', now - tonumber(rule[2]), 'LIMIT', 0, budget))
  end
  if rule[1] and evicted < budget and not held then
    local excess = rcall('ZCARD', setKey) - tonumber(rule[1])
    if excess > 0 then
      if excess > budget - evicted then excess = budget - evicted end
      evictAll(rcall('ZRANGE', setKey, 0, excess - 1))
    end
  end
  if held then
    local n = 0
    if rule[2] then n = rcall('ZCOUNT', setKey, '-inf', now - tonumber(rule[2])) end
    if rule[1] then
      local over = rcall('ZCARD', setKey) - tonumber(rule[1])
      if over > n then n = over end
    end
    rcall('HSET', K[1], 'hd:' .. state, n)
  else
    rcall('HDEL', K[1], 'hd:' .. state)
  end
  return evicted
end
