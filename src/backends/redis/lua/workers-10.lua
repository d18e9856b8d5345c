--[[
  Reads the live workers of a queue by this server's clock: the ids in the workers zset whose
  entry has not expired, with their hashes, and when a worker was last seen. Read-only.
  ARGV[1] key prefix
  Returns { now, last seen ('' never), { id, hash as a flat array }... }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local now = nowMs()
local ids = rcall('ZRANGEBYSCORE', P .. KEY_WORKERS, now, '+inf', 'LIMIT', 0, 10000)
local out = { S(now), rcall('HGET', KEYS[1], 'wls') or '' }
for _, id in ipairs(ids) do
  local h = rcall('HGETALL', P .. KEY_WORKER .. id)
  if #h > 0 then out[#out + 1] = { id, h } end
end
return out
