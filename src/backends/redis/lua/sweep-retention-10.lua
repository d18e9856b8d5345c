--[[
  Retention on time: evicts the finished jobs a rule no longer keeps (age first, then count), so a
  quiet queue does not keep expired jobs until its next finish. Called by every live worker and
  server every few seconds (src/retention-sweeper.ts); at most one sweep per queue per interval
  across all processes (meta `swp`: the time before which no other sweep starts) and at most
  ARGV[3] evictions per sweep (the next one continues). Counted and published as at a finish
  (`ev:<state>`, `evicted` events). A queue without a meta hash is not created.
  ARGV[1] key prefix  ARGV[2] interval (ms)  ARGV[3] most evictions
  Returns {ran: 1, or 0 when another sweep ran within its interval; evicted}
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/flushEvents"
--- @include "includes/applyRetention"
local P = ARGV[1]
local now = nowMs()
if rcall('EXISTS', KEYS[1]) == 0 then return { 0, 0 } end
local notBefore = tonumber(rcall('HGET', KEYS[1], 'swp') or '0')
if now < notBefore then return { 0, 0 } end
rcall('HSET', KEYS[1], 'swp', now + tonumber(ARGV[2]))
local budget = tonumber(ARGV[3])
local evicted = 0
for _, state in ipairs({ 'completed', 'dead', 'cancelled' }) do
  if evicted >= budget then break end
  evicted = evicted + applyRetention(KEYS, P, state, now, budget - evicted)
end
flushEvents(KEYS, now)
return { 1, evicted }
