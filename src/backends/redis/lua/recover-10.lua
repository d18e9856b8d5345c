--[[
  Recovers jobs whose lease expired (see recoverExpired in includes/base).
  ARGV[1] key prefix  ARGV[2] lease-expired error JSON  ARGV[3] poison fingerprint  ARGV[4] poison label
  Returns how many jobs were recovered.
]]
--- @include "includes/base"
local now = nowMs()
local n = recoverExpired(KEYS, ARGV[1], now, ARGV[2], ARGV[3], ARGV[4])
flushEvents(KEYS, now)
return n
