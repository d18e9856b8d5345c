--[[
  The storm radar's read (read-only): the scheduled jobs due from any time up to now + horizon,
  earliest first, at most `max`, by the server clock (TIME). One ZRANGEBYSCORE with LIMIT, then one
  HMGET per job and one HGET per distinct options text.
  ARGV[1] key prefix, ARGV[2] horizon (ms), ARGV[3] max
  Returns flat: now, more ('1' when more than max were due), then per job:
    id, due, name, attempts made, options JSON text
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "generated/keys"
local P = ARGV[1]
local max = tonumber(ARGV[3])
local now = nowMs()
local ids = rcall('ZRANGEBYSCORE', KEYS[3], '-inf', now + tonumber(ARGV[2]), 'WITHSCORES', 'LIMIT', 0, max + 1)
local out = { string.format('%d', now), '0' }
if #ids > 2 * max then out[2] = '1' end
local texts = {}
for i = 1, math.min(#ids, 2 * max), 2 do
  local f = rcall('HMGET', P .. KEY_JOB .. ids[i], 'name', 'n', 'oh')
  local digest = f[3] or ''
  local text = texts[digest]
  if not text then
    text = rcall('HGET', P .. KEY_OPTIONS, digest) or '{}'
    texts[digest] = text
  end
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = f[1] or ''
  out[#out + 1] = f[2] or '0'
  out[#out + 1] = text
end
return out
