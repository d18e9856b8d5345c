--[[
  Recovers jobs whose lease expired (see includes/recoverExpired).
  ARGV[1] key prefix
  Returns how many jobs were recovered.
]]
--- @include "includes/nowMs"
--- @include "includes/flushEvents"
--- @include "includes/recoverExpired"
local now = nowMs()
local n = recoverExpired(KEYS, ARGV[1], now)
flushEvents(KEYS, now)
return n
