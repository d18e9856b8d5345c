--[[
  Removes a scheduler and its ledger. The jobs it created stay (they are jobs like any other).
  ARGV[1] key prefix  ARGV[2] id
  Event: `scheduler` {scheduler, action: removed, next: ''} when there was one.
  Returns 1 removed, 0 no such scheduler
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
rcall('ZREM', P .. KEY_SCHEDULERS, id)
rcall('DEL', P .. KEY_TICKS .. id)
local removed = rcall('DEL', P .. KEY_SCHEDULER .. id)
if removed == 1 then
  ev('scheduler', '', 'scheduler', id, 'action', 'removed', 'next', '')
  flushEvents(KEYS, nowMs())
end
return removed
