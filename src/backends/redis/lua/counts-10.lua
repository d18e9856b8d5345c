--[[
  Jobs per state, read in one atomic step. Waiting = priority 0 (`wait`) and every other level.
  ARGV[1] key prefix
  Returns { scheduled, waiting, active, completed, dead, cancelled }
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local waiting = rcall('LLEN', KEYS[2])
for _, p in ipairs(rcall('ZRANGE', ARGV[1] .. KEY_LEVELS, 0, -1)) do
  waiting = waiting + rcall('LLEN', ARGV[1] .. KEY_LEVEL .. p)
end
return { rcall('ZCARD', KEYS[3]), waiting, rcall('ZCARD', KEYS[4]),
  rcall('ZCARD', KEYS[5]), rcall('ZCARD', KEYS[6]), rcall('ZCARD', KEYS[7]) }
