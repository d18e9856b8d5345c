--[[
  Extends leases. A lease is held while the job is active with this attempt number; an expired
  lease not yet recovered is still held (recovery, not expiry, ends it).
  ARGV[1] key prefix  ARGV[2] lease ms  then pairs: id, attempt
  Returns per pair: 1 held and extended, 0 lost
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "generated/keys"
local P = ARGV[1]
local now = nowMs()
local le = now + tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local jk = P .. KEY_JOB .. id
  local f = rcall('HMGET', jk, 'st', 'cur')
  if f[1] == 'active' and tonumber(f[2]) == tonumber(ARGV[i + 1]) then
    rcall('HSET', jk, 'le', le)
    rcall('ZADD', KEYS[4], le, id)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
