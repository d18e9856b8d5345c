--[[
  Reads one page of a queue's rate-limit view by this server's clock (read-only; `rateLimitState`,
  built into the view by rateLimitStateView in src/rate-limit.ts): the queue's limits, bucket state
  and pause record, how many groups take turns / are parked / are paused, and at most `limit`
  groups' raw states. The page plan is groupPagePlan's (src/rate-limit.ts): `waiting` reads the
  ring from the cursor, then fills the page from the parked groups.
  ARGV[1] key prefix  ARGV[2] filter (waiting|turns|parked|paused)  ARGV[3] cursor phase (t = the
  ring, p = the parked zset, z = the paused zset)  ARGV[4] its position  ARGV[5] limit
  ARGV[6] one group ('' = a page)
  Returns { now, rlq, rlg, rqt, rqp, own limits, ring size, parked size, paused size, rows... },
  each row { group, waiting, own limit, tat, pause record, turn (-1: none), parked until ('' none) };
  '' for a field that is absent. The row '' (in the ring: the jobs without a group) counts the
  waiting lists of every priority.
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local now = nowMs()
local ring = P .. KEY_GROUP_RING
local parked = P .. KEY_GROUP_PARKED
local paused = P .. KEY_RATE_PAUSED
local meta = rcall('HMGET', KEYS[1], 'rlq', 'rlg', 'rqt', 'rqp')
local t = rcall('LLEN', ring)
local p = rcall('ZCARD', parked)
local z = rcall('ZCOUNT', paused, '(' .. S(now), '+inf')
local out = { S(now), meta[1] or '', meta[2] or '', meta[3] or '', meta[4] or '', rcall('HLEN', P .. KEY_RATE_GROUP_LIMITS),
  t, p, z }

-- One row; turn and parkedAt are given when the caller knows them (false: look them up).
local function row(g, turn, parkedAt)
  if g == '' then
    local n = rcall('LLEN', KEYS[2])
    for _, lv in ipairs(rcall('ZRANGE', P .. KEY_LEVELS, 0, -1)) do n = n + rcall('LLEN', P .. KEY_LEVEL .. lv) end
    out[#out + 1] = { '', n, '', '', '', turn or rcall('LPOS', ring, '') or -1, '' }
    return
  end
  if turn == false then turn = rcall('LPOS', ring, g) or -1 end
  if parkedAt == false then parkedAt = rcall('ZSCORE', parked, g) or '' end
  out[#out + 1] = { g, rcall('ZCARD', P .. KEY_GROUP .. g), rcall('HGET', P .. KEY_RATE_GROUP_LIMITS, g) or '',
    rcall('HGET', P .. KEY_RATE_GROUP_STATE, g) or '', rcall('HGET', P .. KEY_RATE_PAUSE, g) or '', turn, parkedAt }
end

local function read(phase, start, count)
  if count <= 0 then return end
  if phase == 't' then
    for i, g in ipairs(rcall('LRANGE', ring, start, start + count - 1)) do row(g, start + i - 1, '') end
  elseif phase == 'p' then
    local r = rcall('ZRANGE', parked, start, start + count - 1, 'WITHSCORES')
    for i = 1, #r, 2 do row(r[i], -1, r[i + 1]) end
  else
    -- Paused rows: their turn is not looked up (LPOS walks the ring); the group's own row has it.
    local r = rcall('ZRANGEBYSCORE', paused, '(' .. S(now), '+inf', 'LIMIT', start, count)
    for _, g in ipairs(r) do row(g, -1, false) end
  end
end

if ARGV[6] ~= '' then
  row(ARGV[6], false, false)
  return out
end
local filter, phase, pos, limit = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local sizes = { t = t, p = p, z = z }
local size = sizes[phase]
local count = math.max(0, math.min(limit, size - pos))
read(phase, pos, count)
if pos + count >= size and filter == 'waiting' and phase == 't' then read('p', 0, math.min(limit - count, p)) end
return out
