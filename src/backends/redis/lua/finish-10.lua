--[[
  Ends attempts: records each one and applies the decision the worker took (done, retry after a
  delay, dead-letter). A request whose attempt number no longer matches the job's current lease
  (expired and recovered, cancelled) is refused, and the refusal is recorded on the job.
  ARGV[1] key prefix  ARGV[2] request count
  then per request, 14 fields: id, attempt, workerId, outcome, body (JSON fragment),
    action (done|retry|dead), decision JSON (for retry: without its closing brace, Redis adds
    nextDueAt), delayMs or dead reason, result JSON, fingerprint, fingerprint label, error code,
    error JSON, error class ('' = none)
  Returns per request: status (ok|stale|not_found), state, nextDueAt ('' = none), finishedAt
]]
--- @include "includes/base"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local now = nowMs()
local out = {}
local touched = {}
local wakeN = 0
local earliest = earliestDue(KEYS)
for i = 0, count - 1 do
  local b = 3 + i * 14
  local id = ARGV[b]
  local attempt = tonumber(ARGV[b + 1])
  local jk = P .. 'j:' .. id
  local f = rcall('HMGET', jk, 'st', 'cur', 'trg', 'due', 'sa', 'wid', 'man')
  if not f[1] then
    out[#out + 1] = 'not_found'; out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = now
  elseif f[1] ~= 'active' or tonumber(f[2]) ~= attempt then
    local rn = rcall('HINCRBY', jk, 'rn', 1)
    rcall('HSET', jk, 'r' .. rn, '{"attempt":' .. attempt .. ',"workerId":"' .. ARGV[b + 2] .. '","at":' .. now ..
      ',"outcome":"' .. ARGV[b + 3] .. '"}')
    emit(KEYS, now, 'refused', id, 'attempt', attempt, 'worker', ARGV[b + 2])
    out[#out + 1] = 'stale'; out[#out + 1] = f[1]; out[#out + 1] = ''; out[#out + 1] = now
  else
    local action = ARGV[b + 5]
    local decision = ARGV[b + 6]
    local nextDue = ''
    if action == 'retry' then
      nextDue = now + tonumber(ARGV[b + 7])
      decision = decision .. ',"nextDueAt":' .. nextDue .. '}'
    end
    local cur = tonumber(f[2])
    local sa = tonumber(f[5])
    local due = tonumber(f[4])
    local rec = attemptRecord(cur, f[3], tonumber(f[4]), tonumber(f[5]), now, f[6], ARGV[b + 4], decision, f[7])
    rcall('HSET', jk, 'a' .. cur, rec, 'n', cur)
    rcall('HDEL', jk, 'cur', 'wid', 'sa', 'le', 'man')
    rcall('ZREM', KEYS[4], id)
    if ARGV[b + 3] == 'failed' or ARGV[b + 3] == 'timed_out' then rcall('HINCRBY', jk, 'fl', 1) end
    local st
    if action == 'done' then
      st = 'completed'
      rcall('HSET', jk, 'st', st, 'res', ARGV[b + 8], 'ft', now)
      rcall('ZADD', KEYS[5], now, id)
      emitEnd(KEYS, now, 'completed', id, cur, f[6], ARGV[b + 3], ARGV[b + 13], sa, due)
    elseif action == 'dead' then
      st = 'dead'
      local fp = ARGV[b + 9]
      rcall('HSET', jk, 'st', st, 'dr', ARGV[b + 7], 'dat', now, 'fp', fp, 'ec', ARGV[b + 11],
        'derr', ARGV[b + 12], 'ft', now)
      addDead(KEYS, P, id, fp, ARGV[b + 10], now)
      emitEnd(KEYS, now, 'dead', id, cur, f[6], ARGV[b + 3], ARGV[b + 13], sa, due, 'reason', ARGV[b + 7])
    else
      local delay = tonumber(ARGV[b + 7])
      rcall('HSET', jk, 'due', nextDue, 'pd', delay, 'trg', 'auto')
      if delay > 0 then
        st = 'scheduled'
        rcall('ZADD', KEYS[3], nextDue, id)
        if earliest == nil or nextDue < earliest then
          earliest = nextDue
          if wakeN == 0 then wakeN = 1 end
        end
      else
        st = 'waiting'
        rcall('LPUSH', KEYS[2], id)
        wakeN = wakeN + 1
      end
      rcall('HSET', jk, 'st', st)
      emitEnd(KEYS, now, 'retrying', id, cur, f[6], ARGV[b + 3], ARGV[b + 13], sa, due, 'delay', delay, 'due', nextDue)
    end
    touched[st] = true
    out[#out + 1] = 'ok'; out[#out + 1] = st; out[#out + 1] = nextDue; out[#out + 1] = now
  end
end
if touched['completed'] then applyRetention(KEYS, P, 'completed', now) end
if touched['dead'] then applyRetention(KEYS, P, 'dead', now) end
wake(KEYS, wakeN)
return out
