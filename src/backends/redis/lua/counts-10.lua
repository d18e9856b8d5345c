--[[
  Jobs per state, read in one atomic step. Waiting = priority 0 (`wait`), every other level, and
  every group (those taking turns and those parked: a read bounded by the number of groups).
  ARGV[1] key prefix
  Returns { scheduled, waiting, active, completed, dead, cancelled }
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local waiting = rcall('LLEN', KEYS[2])
for _, p in ipairs(rcall('ZRANGE', ARGV[1] .. KEY_LEVELS, 0, -1)) do
  waiting = waiting + rcall('LLEN', ARGV[1] .. KEY_LEVEL .. p)
end
local seen = {}
local function countGroup(g)
  if g ~= '' and not seen[g] then
    seen[g] = true
    waiting = waiting + rcall('ZCARD', ARGV[1] .. KEY_GROUP .. g)
  end
end
for _, g in ipairs(rcall('LRANGE', ARGV[1] .. KEY_GROUP_RING, 0, -1)) do countGroup(g) end
for _, g in ipairs(rcall('ZRANGE', ARGV[1] .. KEY_GROUP_PARKED, 0, -1)) do countGroup(g) end
return { rcall('ZCARD', KEYS[3]), waiting, rcall('ZCARD', KEYS[4]),
  rcall('ZCARD', KEYS[5]), rcall('ZCARD', KEYS[6]), rcall('ZCARD', KEYS[7]) }
