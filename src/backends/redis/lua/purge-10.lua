--[[
  Deletes dead jobs by id; ids that are not dead are skipped.
  ARGV[1] key prefix  ARGV[2..] ids
  Returns the ids deleted, in order.
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/removeDead"
--- @include "includes/deleteJob"
--- @include "generated/keys"
local P = ARGV[1]
local now = nowMs()
local gone = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = P .. KEY_JOB .. id
  local f = rcall('HMGET', jk, 'st', 'fp', 'oh')
  if f[1] == 'dead' then
    removeDead(KEYS, P, id, f[2])
    deleteJob(P, id, f[3])
    ev('purged', id)
    gone[#gone + 1] = id
  end
end
flushEvents(KEYS, now)
return gone
