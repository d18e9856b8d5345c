--[[
  Recovers jobs whose lease expired (see recoverExpired in includes/base).
  ARGV[1] key prefix  ARGV[2] lease-expired error JSON  ARGV[3] poison fingerprint  ARGV[4] poison label
  Returns how many jobs were recovered.
]]
--- @include "includes/base"
return recoverExpired(KEYS, ARGV[1], nowMs(), ARGV[2], ARGV[3], ARGV[4])
