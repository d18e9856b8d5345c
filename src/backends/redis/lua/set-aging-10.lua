--[[
  Sets the queue's priority aging step (meta 'ag', ms per level gained; 0 = strict order) and
  re-ranks every level of waiting jobs, whose ranks depend on it (levelRank, src/transitions.ts).
  Bounded by the number of distinct priorities waiting, not by the number of jobs.
  ARGV[1] key prefix  ARGV[2] aging ms (0 = none)
]]
--- @include "includes/rcall"
--- @include "includes/waitLevels"
--- @include "generated/keys"
local P = ARGV[1]
if ARGV[2] == '0' then rcall('HDEL', KEYS[1], 'ag') else rcall('HSET', KEYS[1], 'ag', ARGV[2]) end
for _, p in ipairs(rcall('ZRANGE', P .. KEY_LEVELS, 0, -1)) do rankLevel(KEYS, P, tonumber(p)) end
return 1
