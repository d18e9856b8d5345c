--[[
  Sets or removes a retry budget (src/retry-budget.ts): the queue's (meta 'bq') or one job name's
  (meta 'bn:<name>', counted in 'bnx' so that finish looks names up only when some have one).
  ARGV[1] key prefix  ARGV[2] '' = the queue, else '=' .. job name  ARGV[3] budget text ('' = remove)
]]
--- @include "includes/rcall"
local field = 'bq'
if ARGV[2] ~= '' then field = 'bn:' .. string.sub(ARGV[2], 2) end
local had = rcall('HEXISTS', KEYS[1], field) == 1
if ARGV[3] == '' then
  rcall('HDEL', KEYS[1], field)
  if had and field ~= 'bq' and rcall('HINCRBY', KEYS[1], 'bnx', -1) <= 0 then rcall('HDEL', KEYS[1], 'bnx') end
else
  rcall('HSET', KEYS[1], field, ARGV[3])
  if not had and field ~= 'bq' then rcall('HINCRBY', KEYS[1], 'bnx', 1) end
end
return 1
