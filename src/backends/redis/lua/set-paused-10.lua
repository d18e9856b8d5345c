--[[
  Pauses (claims stop; nothing is lost) or resumes a queue.
  ARGV[1] key prefix  ARGV[2] '1' pause | '0' resume
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/wake"
local was = rcall('HGET', KEYS[1], 'paused') == '1'
local want = ARGV[2] == '1'
if was == want then return 0 end
local now = nowMs()
if want then
  rcall('HSET', KEYS[1], 'paused', '1')
  ev('paused', '')
else
  rcall('HDEL', KEYS[1], 'paused')
  ev('resumed', '')
  wake(KEYS, MAX_WAKE_TOKENS)
end
flushEvents(KEYS, now)
return 1
