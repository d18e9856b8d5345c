--[[
  Removes a scheduler and its ledger. The jobs it created stay (they are jobs like any other).
  ARGV[1] key prefix  ARGV[2] id
  Returns 1 removed, 0 no such scheduler
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
rcall('ZREM', P .. KEY_SCHEDULERS, id)
rcall('DEL', P .. KEY_TICKS .. id)
return rcall('DEL', P .. KEY_SCHEDULER .. id)
