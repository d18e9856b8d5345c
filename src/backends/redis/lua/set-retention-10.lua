--[[
  Stores the retention settings and applies them at once.
  ARGV[1] key prefix  ARGV[2] settings JSON (as given, for reading back)
  ARGV[3..8] count and age (ms) for completed, dead, cancelled ('' = no rule)
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/flushEvents"
--- @include "includes/applyRetention"
local P = ARGV[1]
local now = nowMs()
rcall('HSET', KEYS[1], 'ret', ARGV[2])
local states = { 'completed', 'dead', 'cancelled' }
for i, state in ipairs(states) do
  local count = ARGV[1 + i * 2]
  local age = ARGV[2 + i * 2]
  if count == '' then rcall('HDEL', KEYS[1], 'rc:' .. state) else rcall('HSET', KEYS[1], 'rc:' .. state, count) end
  if age == '' then rcall('HDEL', KEYS[1], 'ra:' .. state) else rcall('HSET', KEYS[1], 'ra:' .. state, age) end
  applyRetention(KEYS, P, state, now)
end
flushEvents(KEYS, now)
return 1
