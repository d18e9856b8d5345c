--[[
  Changes a queue's rate limits (src/rate-limit.ts). A limit is stored as encodeRateLimit writes it
  (`intervalMs,burst,rate,per,label`). A bucket whose limit changed keeps its state, capped by
  bucketCapped (its next token within one interval of the new limit); a bucket left without a limit
  loses its state. Parked groups (waiting for a token under the old limits) take turns again at
  once, and idle workers are woken, so a loosened limit takes effect now.
  ARGV[1] key prefix  ARGV[2] the queue's limit  ARGV[3] the default group limit (each: '' = keep,
  '-' = remove, else the limit)  then pairs: group, its own limit ('-' = remove)
  Returns 'ok'
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/wake"
--- @include "includes/rateLimit"
--- @include "generated/keys"
--- @include "generated/rate-limit"
local P = ARGV[1]
local now = nowMs()
local function set(field, v)
  if v == '-' then rcall('HDEL', KEYS[1], field) elseif v ~= '' then rcall('HSET', KEYS[1], field, v) end
end
set('rlq', ARGV[2])
set('rlg', ARGV[3])
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '-' then
    rcall('HDEL', P .. KEY_RATE_GROUP_LIMITS, ARGV[i])
  else
    rcall('HSET', P .. KEY_RATE_GROUP_LIMITS, ARGV[i], ARGV[i + 1])
  end
end
-- Cap (or drop) the states of the buckets whose limit changed.
local function capped(tatText, lim)
  return string.format('%.17g', bucketCapped(tonumber(tatText), now, lim.iv, lim.b))
end
if ARGV[2] ~= '' then
  local tat = rcall('HGET', KEYS[1], 'rqt')
  local lim = RL.limit(rcall('HGET', KEYS[1], 'rlq'))
  if tat and lim then rcall('HSET', KEYS[1], 'rqt', capped(tat, lim)) elseif tat then rcall('HDEL', KEYS[1], 'rqt') end
end
local state = P .. KEY_RATE_GROUP_STATE
local dflt = RL.limit(rcall('HGET', KEYS[1], 'rlg'))
local function recap(g, tat)
  local lim = RL.limit(rcall('HGET', P .. KEY_RATE_GROUP_LIMITS, g)) or dflt
  if lim then rcall('HSET', state, g, capped(tat, lim)) else rcall('HDEL', state, g) end
end
if ARGV[3] ~= '' then
  local all = rcall('HGETALL', state)
  for i = 1, #all, 2 do recap(all[i], all[i + 1]) end
else
  for i = 4, #ARGV, 2 do
    local tat = rcall('HGET', state, ARGV[i])
    if tat then recap(ARGV[i], tat) end
  end
end
local parked = P .. KEY_GROUP_PARKED
local groups = rcall('ZRANGE', parked, 0, -1)
if #groups > 0 then
  rcall('RPUSH', P .. KEY_GROUP_RING, unpack(groups))
  rcall('DEL', parked)
end
wake(KEYS, 64)
return 'ok'
