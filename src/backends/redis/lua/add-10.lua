--[[
  Adds jobs. A caller-supplied id that exists already is left untouched (idempotent add).
  ARGV[1] key prefix   ARGV[2] job count
  then per job, 7 fields: id ('' = generate), name, data, opts, maxStalls, delayMs, runAt ('' = none)
  Returns per job: id, created (1|0), state
]]
--- @include "includes/base"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local now = nowMs()
local out = {}
local wakeN = 0
local earliest = earliestDue(KEYS)
rcall('HSETNX', KEYS[1], 'ct', now)
for i = 0, count - 1 do
  local b = 3 + i * 7
  local id = ARGV[b]
  local existing = false
  if id == '' then
    -- Generated ids are a counter; skip any a caller already took by hand.
    repeat
      id = tostring(rcall('HINCRBY', KEYS[1], 'seq', 1))
    until rcall('EXISTS', P .. 'j:' .. id) == 0
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
    rcall('HSET', P .. 'j:' .. id, 'name', ARGV[b + 1], 'data', ARGV[b + 2], 'opts', ARGV[b + 3],
      'ms', ARGV[b + 4], 'st', st, 'ct', now, 'due', due, 'n', 0, 'fl', 0, 'sc', 0, 'trg', 'auto')
    if st == 'waiting' then
      rcall('LPUSH', KEYS[2], id)
      wakeN = wakeN + 1
    else
      rcall('ZADD', KEYS[3], due, id)
      if earliest == nil or due < earliest then
        earliest = due
        if wakeN == 0 then wakeN = 1 end
      end
    end
    emit(KEYS, now, 'added', id, 'state', st, 'due', due)
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = st
  end
end
wake(KEYS, wakeN)
return out
