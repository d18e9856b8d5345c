-- Shared by every script. Whose clock? Redis's: TIME is read once per script, so every due
-- time, lease expiry and attempt timestamp comes from one clock and workers' clocks never matter.
--
-- The standard KEYS layout of every script (one hash tag per queue, so one Cluster slot):
--   KEYS[1] meta (hash)     KEYS[2] wait (list)      KEYS[3] sched (zset, due)
--   KEYS[4] active (zset, lease expiry)              KEYS[5] done (zset, finished at)
--   KEYS[6] dead (zset, dead at)                     KEYS[7] cnl (zset, cancelled at)
--   KEYS[8] events (stream)  KEYS[9] wake (list)      KEYS[10] fpi (hash, fingerprint -> label)
-- ARGV[1] is always the queue's key prefix "<prefix>:{<queue>}:"; job hashes are P.."j:"..id
-- and per-fingerprint indexes P.."fp:"..fp, so they share the queue's hash tag.
local rcall = redis.call
local MAX_EVENTS = 10000
local MAX_WAKE_TOKENS = 64

local function nowMs()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Appends a transition to the queue's capped event feed (approximate trim keeps XADD O(1)).
local function emit(K, now, kind, id, ...)
  rcall('XADD', K[8], 'MAXLEN', '~', MAX_EVENTS, '*', 'type', kind, 'id', id, 'at', now, ...)
end

-- Wakes up to n idle workers blocked on the wake list. Tokens are capped: a surplus only costs a
-- worker one empty claim, a missing token would cost it an idle-check period.
local function wake(K, n)
  if n <= 0 then return end
  if n > MAX_WAKE_TOKENS then n = MAX_WAKE_TOKENS end
  local tokens = {}
  for i = 1, n do tokens[i] = '1' end
  rcall('LPUSH', K[9], unpack(tokens))
  rcall('LTRIM', K[9], 0, MAX_WAKE_TOKENS - 1)
end

-- A scheduled job due earlier than every other must wake a worker so it shortens its block.
local function earliestDue(K)
  local first = rcall('ZRANGE', K[3], 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) end
  return nil
end

-- One attempt record, as JSON, appended once and never rewritten. `body` carries outcome, error,
-- class and rule (built by the worker); `decision` is a complete JSON object.
local function attemptRecord(n, trg, due, sa, now, wid, body, decision, man)
  local s = '{"n":' .. n .. ',"trigger":"' .. trg .. '","dueAt":' .. due .. ',"startedAt":' .. sa ..
    ',"finishedAt":' .. now .. ',"driftMs":' .. (sa - due) .. ',"workerId":"' .. wid .. '",' .. body ..
    ',"decision":' .. decision
  if man and man ~= '' then s = s .. ',"manual":' .. man end
  return s .. '}'
end

-- The event fields every attempt end carries: attempt, worker, outcome, class, drift, dur.
local function emitEnd(K, now, kind, id, n, wid, outcome, class, sa, due, ...)
  emit(K, now, kind, id, 'attempt', n, 'worker', wid, 'outcome', outcome, 'class', class,
    'drift', sa - due, 'dur', now - sa, ...)
end

local function addDead(K, P, id, fp, label, now)
  rcall('ZADD', K[6], now, id)
  rcall('ZADD', P .. 'fp:' .. fp, now, id)
  rcall('HSETNX', K[10], fp, label)
end

local function removeDead(K, P, id, fp)
  rcall('ZREM', K[6], id)
  if fp then
    local k = P .. 'fp:' .. fp
    rcall('ZREM', k, id)
    if rcall('ZCARD', k) == 0 then rcall('HDEL', K[10], fp) end
  end
end

local FINISHED_SET = { completed = 5, dead = 6, cancelled = 7 }

local function evict(K, P, state, id, now)
  local jk = P .. 'j:' .. id
  if state == 'dead' then
    removeDead(K, P, id, rcall('HGET', jk, 'fp'))
  else
    rcall('ZREM', K[FINISHED_SET[state]], id)
  end
  rcall('DEL', jk)
  rcall('HINCRBY', K[1], 'ev:' .. state, 1)
  emit(K, now, 'evicted', id, 'state', state)
end

-- Retention: evict finished jobs older than the age rule, then the oldest beyond the count rule.
-- Bounded per call so one script never runs long; the next transition continues the work.
local function applyRetention(K, P, state, now)
  local rule = rcall('HMGET', K[1], 'rc:' .. state, 'ra:' .. state)
  if not rule[1] and not rule[2] then return end
  local setKey = K[FINISHED_SET[state]]
  local budget = 1000
  if rule[2] then
    local old = rcall('ZRANGEBYSCORE', setKey, '-inf', now - tonumber(rule[2]), 'LIMIT', 0, budget)
    for _, id in ipairs(old) do evict(K, P, state, id, now) end
    budget = budget - #old
  end
  if rule[1] and budget > 0 then
    local excess = rcall('ZCARD', setKey) - tonumber(rule[1])
    if excess > 0 then
      if excess > budget then excess = budget end
      local ids = rcall('ZRANGE', setKey, 0, excess - 1)
      for _, id in ipairs(ids) do evict(K, P, state, id, now) end
    end
  end
end

-- Moves scheduled jobs whose due time has come to the back of the wait list.
local function promoteDue(K, P, now)
  local ids = rcall('ZRANGEBYSCORE', K[3], '-inf', now, 'LIMIT', 0, 1000)
  if #ids == 0 then return 0 end
  for _, id in ipairs(ids) do
    rcall('HSET', P .. 'j:' .. id, 'st', 'waiting')
    rcall('LPUSH', K[2], id)
  end
  rcall('ZREM', K[3], unpack(ids))
  return #ids
end

-- Recovers jobs whose lease expired: the attempt is recorded as stalled; the job goes back to
-- waiting (trigger "stall") or, at its maxStalls-th stall, is dead-lettered as poison so a job that
-- kills its worker cannot loop forever. Returns how many were recovered.
local function recoverExpired(K, P, now, errJson, poisonFp, poisonLabel)
  local ids = rcall('ZRANGEBYSCORE', K[4], '-inf', now, 'LIMIT', 0, 100)
  local back = 0
  local recovered = 0
  local died = false
  for _, id in ipairs(ids) do
    local jk = P .. 'j:' .. id
    rcall('ZREM', K[4], id)
    local f = rcall('HMGET', jk, 'cur', 'trg', 'due', 'sa', 'wid', 'sc', 'ms', 'man', 'st')
    if f[1] and f[9] == 'active' then
      recovered = recovered + 1
      local cur = tonumber(f[1])
      local sc = tonumber(f[6]) + 1
      local ms = tonumber(f[7])
      local poison = sc >= ms
      local decision
      if poison then
        decision = '{"action":"dead","reason":"poison","explanation":"lease expired ' .. sc ..
          ' times (maxStalls ' .. ms .. '): poison, dead-lettered"}'
      else
        decision = '{"action":"retry","delayMs":0,"nextDueAt":' .. now ..
          ',"source":"policy","explanation":"lease expired (stall ' .. sc .. ' of ' .. ms ..
          '): back to waiting at once","detail":{"strategy":"immediate"}}'
      end
      local body = '"outcome":"stalled","error":' .. errJson .. ',"errorClass":"' ..
        (poison and 'poison' or 'temporary') .. '","rule":"stall"'
      local rec = attemptRecord(cur, f[2], tonumber(f[3]), tonumber(f[4]), now, f[5], body, decision, f[8])
      rcall('HSET', jk, 'a' .. cur, rec, 'n', cur, 'sc', sc, 'trg', 'stall')
      rcall('HDEL', jk, 'cur', 'wid', 'sa', 'le', 'man')
      if poison then
        rcall('HSET', jk, 'st', 'dead', 'dr', 'poison', 'dat', now, 'fp', poisonFp, 'ec', 'LEASE_EXPIRED',
          'derr', errJson, 'ft', now)
        addDead(K, P, id, poisonFp, poisonLabel, now)
        emitEnd(K, now, 'dead', id, cur, f[5], 'stalled', 'poison', tonumber(f[4]), tonumber(f[3]), 'reason', 'poison')
        died = true
      else
        rcall('HSET', jk, 'st', 'waiting', 'due', now)
        rcall('LPUSH', K[2], id)
        emitEnd(K, now, 'stalled', id, cur, f[5], 'stalled', 'temporary', tonumber(f[4]), tonumber(f[3]), 'stalls', sc)
        back = back + 1
      end
    end
  end
  if died then applyRetention(K, P, 'dead', now) end
  wake(K, back)
  return recovered
end
