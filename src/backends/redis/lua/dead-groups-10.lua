--[[
  Dead jobs grouped by error fingerprint, from the per-fingerprint indexes.
  ARGV[1] key prefix
  Returns flat: fingerprint, label, count, firstSeen, lastSeen, ...
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local P = ARGV[1]
local labels = rcall('HGETALL', KEYS[10])
local out = {}
for i = 1, #labels, 2 do
  local k = P .. KEY_FINGERPRINT .. labels[i]
  local first = rcall('ZRANGE', k, 0, 0, 'WITHSCORES')
  local last = rcall('ZRANGE', k, -1, -1, 'WITHSCORES')
  if first[2] then
    out[#out + 1] = labels[i]
    out[#out + 1] = labels[i + 1]
    out[#out + 1] = rcall('ZCARD', k)
    out[#out + 1] = first[2]
    out[#out + 1] = last[2]
  end
end
return out
