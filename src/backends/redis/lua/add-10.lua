--[[
  Adds jobs. A caller-supplied id that exists already is left untouched (idempotent add).
  ARGV[1] key prefix   ARGV[2] job count   ARGV[3] how many ids to generate
  then per job, 7 fields: id ('' = generate), name, data, opts, maxStalls, delayMs, runAt ('' = none)
  Returns per job: id, created (1|0), state
]]
--- @include "includes/base"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local toGenerate = tonumber(ARGV[3])
local now = nowMs()
local nowS = S(now)
local out = {}
local wakeN = 0
local earliest = earliestDue(KEYS)
rcall('HSETNX', KEYS[1], 'ct', now)
-- Generated ids are a counter, reserved in one step for the whole batch.
local nextId = 0
if toGenerate > 0 then nextId = rcall('HINCRBY', KEYS[1], 'seq', toGenerate) - toGenerate + 1 end
local waitIds = {}
local schedArgs = {}
for i = 0, count - 1 do
  local b = 4 + i * 7
  local id = ARGV[b]
  local existing = false
  if id == '' then
    id = tostring(nextId)
    nextId = nextId + 1
    -- Skip ids a caller already took by hand.
    while rcall('EXISTS', P .. 'j:' .. id) == 1 do
      id = tostring(rcall('HINCRBY', KEYS[1], 'seq', 1))
    end
  else
    existing = rcall('HGET', P .. 'j:' .. id, 'st')
  end
  if existing then
    out[#out + 1] = id
    out[#out + 1] = 0
    out[#out + 1] = existing
  else
    local due
    if ARGV[b + 6] ~= '' then due = tonumber(ARGV[b + 6]) else due = now + tonumber(ARGV[b + 5]) end
    local st = 'waiting'
    if due > now then st = 'scheduled' end
    -- Numbers as text ("%d"): Lua would format them with a float printf.
    local dueS = S(due)
    rcall('HSET', P .. 'j:' .. id, 'name', ARGV[b + 1], 'data', ARGV[b + 2], 'oh', internOpts(P, ARGV[b + 3]),
      'ms', ARGV[b + 4], 'st', st, 'ct', nowS, 'due', dueS, 'n', '0', 'fl', '0', 'sc', '0', 'trg', 'auto')
    if st == 'waiting' then
      waitIds[#waitIds + 1] = id
    else
      schedArgs[#schedArgs + 1] = dueS
      schedArgs[#schedArgs + 1] = id
      if earliest == nil or due < earliest then
        earliest = due
        if wakeN == 0 then wakeN = 1 end
      end
    end
    ev('added', id, 'state', st, 'due', dueS)
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = st
  end
end
flushOptRefs(P)
bulk('LPUSH', KEYS[2], waitIds, 1000)
bulk('ZADD', KEYS[3], schedArgs, 1000)
wakeN = wakeN + #waitIds
wake(KEYS, wakeN)
flushEvents(KEYS, now)
return out
