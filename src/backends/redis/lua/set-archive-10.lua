--[[
  Turns the queue's archive on or off (src/archive/). On: meta `arc`, and from then on every
  transition that finishes a job notes it in the archive-pending zset, whose jobs retention holds
  until the archiver has copied them. Turning it on notes the finished jobs already there (one
  ZUNIONSTORE), so none is evicted before it is archived. Off: the pending zset and the held counts
  are dropped, and retention evicts as before.
  ARGV[1] key prefix  ARGV[2] '1' on | '0' off
  Returns 1 when the setting changed, 0 when it already was so
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local P = ARGV[1]
local ap = P .. KEY_ARCHIVE_PENDING
if ARGV[2] == '1' then
  if rcall('HSETNX', KEYS[1], 'arc', '1') == 0 then return 0 end
  rcall('ZUNIONSTORE', ap, 4, ap, KEYS[5], KEYS[6], KEYS[7], 'AGGREGATE', 'MAX')
  return 1
end
if rcall('HDEL', KEYS[1], 'arc') == 0 then return 0 end
rcall('DEL', ap)
rcall('HDEL', KEYS[1], 'hd:completed', 'hd:dead', 'hd:cancelled', 'arl', 'arx')
return 1
