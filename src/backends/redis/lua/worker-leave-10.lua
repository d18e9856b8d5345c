--[[
  A worker leaves the registry (it closed): its entry goes at once, and the queue's meta records
  that a worker was seen now (`wls`).
  ARGV[1] key prefix  ARGV[2] id
  Returns 1 removed, 0 it had no entry (expired already).
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local now = nowMs()
rcall('ZREM', P .. KEY_WORKERS, id)
local n = rcall('DEL', P .. KEY_WORKER .. id)
if n == 1 then rcall('HSET', KEYS[1], 'wls', S(now)) end
return n
