--[[
  The archiver's turn on a queue: one archiver at a time per queue holds a lease (meta `arl` owner,
  `arx` expiry), renewed by each call; another archiver gets 'busy' until it expires (a killed
  archiver's queue is taken over after one lease). Returns the next pending ids, oldest first, from
  ARGV[5] on (a score: the caller's cursor past the batches it has in flight). Reads nothing else:
  the caller reads the jobs with `read` (pipelined), so this call stays short.
  ARGV[1] key prefix  ARGV[2] owner  ARGV[3] lease ms  ARGV[4] most ids  ARGV[5] from score ('-inf')
  Returns { 'busy' } | { 'ok', id, score, id, score, ... }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "generated/keys"
local now = nowMs()
local lease = rcall('HMGET', KEYS[1], 'arl', 'arx')
if lease[1] and lease[1] ~= ARGV[2] and tonumber(lease[2] or '0') > now then return { 'busy' } end
rcall('HSET', KEYS[1], 'arl', ARGV[2], 'arx', now + tonumber(ARGV[3]))
local out = rcall('ZRANGE', ARGV[1] .. KEY_ARCHIVE_PENDING, ARGV[5], '+inf', 'BYSCORE', 'LIMIT', 0,
  tonumber(ARGV[4]), 'WITHSCORES')
table.insert(out, 1, 'ok')
return out
