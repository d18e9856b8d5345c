-- Shared by every script. Whose clock? Redis's: TIME is read once per script, so every due
-- time, lease expiry and attempt timestamp comes from one clock and workers' clocks never matter.
--
-- The standard KEYS layout of every script (one hash tag per queue, so one Cluster slot):
--   KEYS[1] meta (hash)     KEYS[2] wait (list)      KEYS[3] sched (zset, due)
--   KEYS[4] active (zset, lease expiry)              KEYS[5] done (zset, finished at)
--   KEYS[6] dead (zset, dead at)                     KEYS[7] cnl (zset, cancelled at)
--   KEYS[8] events (stream)  KEYS[9] wake (list)      KEYS[10] fpi (hash, fingerprint -> label)
-- ARGV[1] is always the queue's key prefix "<prefix>:{<queue>}:"; job hashes are P.."j:"..id,
-- their attempt histories P.."h:"..id (lists), interned job options P.."o" (a hash) and
-- per-fingerprint indexes P.."fp:"..fp, so they share the queue's hash tag.
--
-- Why the history and the options live outside the job hash: Redis keeps a hash compact (a
-- listpack, a few bytes per field) only while every value is at most hash-max-listpack-value (64)
-- bytes; one attempt record or one retry policy is longer, and the whole hash becomes a hash table
-- with ~50 bytes of overhead per field. Kept out, a job's own fields stay small and compact.
local rcall = redis.call
local MAX_EVENTS = 10000
local MAX_WAKE_TOKENS = 64

local function nowMs()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Integer to text. Lua 5.1 turns numbers into text with a float printf ("%.14g"), which is most of
-- the instructions of a script that writes many timestamps; "%d" takes the integer path.
local function S(x)
  return string.format('%d', x)
end

-- A variadic command over a long argument list, in chunks: Lua's unpack stops near 8000 values,
-- and a failure halfway would leave a transition half-applied. `step` keeps pairs together.
local function bulk(cmd, key, arr, step)
  for i = 1, #arr, step do
    rcall(cmd, key, unpack(arr, i, math.min(i + step - 1, #arr)))
  end
end

-- The event feed. Events are gathered while a script runs and written at its end by flushEvents:
-- one XADD per event type per call, with the per-job values as comma-separated columns (ids,
-- worker ids, reasons and numbers never contain commas). A batch of 50 completions is one stream
-- entry, not 50. Readers expand entries back into one event per job (redis-backend readEvents).
local EVK = {}
local EVB = {}
local function ev(kind, id, ...)
  local b = EVB[kind]
  local args = { ... }
  if not b then
    b = { ids = {}, names = {}, cols = {} }
    EVB[kind] = b
    EVK[#EVK + 1] = kind
    for i = 1, #args, 2 do
      b.names[#b.names + 1] = args[i]
      b.cols[args[i]] = {}
    end
  end
  b.ids[#b.ids + 1] = id
  for i = 1, #args, 2 do
    local c = b.cols[args[i]]
    c[#c + 1] = args[i + 1]
  end
end

-- Writes the gathered events, in the order their types first appeared (so one job's events keep
-- their order: a job recovered then claimed in one call shows "stalled" before "active").
local function flushEvents(K, now)
  for _, kind in ipairs(EVK) do
    local b = EVB[kind]
    local xa = { K[8], 'MAXLEN', '~', MAX_EVENTS, '*', 't', kind, 'at', S(now), 'id', table.concat(b.ids, ',') }
    for _, name in ipairs(b.names) do
      -- A column whose values are all the same (the worker, the outcome…) is stored once.
      local col = b.cols[name]
      local same = true
      for i = 2, #col do
        if col[i] ~= col[1] then
          same = false
          break
        end
      end
      xa[#xa + 1] = name
      if same then xa[#xa + 1] = col[1] else xa[#xa + 1] = table.concat(col, ',') end
    end
    rcall('XADD', unpack(xa))
  end
  EVK = {}
  EVB = {}
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

-- Appends an attempt record to the job's history (a list, in attempt order).
local function appendAttempt(P, id, rec)
  rcall('RPUSH', P .. 'h:' .. id, rec)
end

-- Interned job options: P.."o" maps a digest of the options' JSON text to the text, and "#"..digest
-- to how many jobs use it; a job stores the digest ("oh"). Most jobs of a queue share a few.
local OPT_TEXT = {}
local function optsText(P, d)
  if not d then return '{}' end
  local t = OPT_TEXT[d]
  if not t then
    t = rcall('HGET', P .. 'o', d) or '{}'
    OPT_TEXT[d] = t
  end
  return t
end

local OPT_DIGEST = {}
local OPT_REFS = {}
local OPT_ORDER = {}
-- Returns the digest for an options text, storing the text on first sight. Each job that uses it
-- takes a reference with refOpts; flushOptRefs writes the counts at the end of the call.
local function internOpts(P, text)
  local d = OPT_DIGEST[text]
  if not d then
    d = string.sub(redis.sha1hex(text), 1, 16)
    if rcall('HSETNX', P .. 'o', d, text) == 0 and rcall('HGET', P .. 'o', d) ~= text then
      -- Two texts sharing 64 bits of digest: the full digest tells them apart.
      d = redis.sha1hex(text)
      rcall('HSETNX', P .. 'o', d, text)
    end
    OPT_DIGEST[text] = d
    OPT_TEXT[d] = text
    OPT_ORDER[#OPT_ORDER + 1] = d
    OPT_REFS[d] = 0
  end
  return d
end

local function refOpts(d)
  OPT_REFS[d] = OPT_REFS[d] + 1
end

local function flushOptRefs(P)
  for _, d in ipairs(OPT_ORDER) do
    -- A text interned for jobs that all existed already is used by none: not kept.
    if rcall('HINCRBY', P .. 'o', '#' .. d, OPT_REFS[d]) <= 0 then rcall('HDEL', P .. 'o', d, '#' .. d) end
  end
  OPT_ORDER = {}
  OPT_REFS = {}
end

-- Deletes a job's keys and releases its options.
local function deleteJob(P, id, oh)
  rcall('DEL', P .. 'j:' .. id, P .. 'h:' .. id)
  if oh and rcall('HINCRBY', P .. 'o', '#' .. oh, -1) <= 0 then rcall('HDEL', P .. 'o', oh, '#' .. oh) end
end

-- One attempt record, as JSON, appended once and never rewritten. `body` carries outcome, error,
-- class and rule (built by the worker); `decision` is a complete JSON object. n, due and sa are the
-- job hash's own text; nowS is the script's time as text.
local function attemptRecord(n, trg, due, sa, nowS, wid, body, decision, man)
  local s = '{"n":' .. n .. ',"trigger":"' .. trg .. '","dueAt":' .. due .. ',"startedAt":' .. sa ..
    ',"finishedAt":' .. nowS .. ',"driftMs":' .. S(tonumber(sa) - tonumber(due)) .. ',"workerId":"' .. wid ..
    '",' .. body .. ',"decision":' .. decision
  if man and man ~= '' then s = s .. ',"manual":' .. man end
  return s .. '}'
end

-- The event fields every attempt end carries: attempt, worker, outcome, class, drift, dur.
local function evEnd(now, kind, id, n, wid, outcome, class, sa, due, ...)
  ev(kind, id, 'attempt', n, 'worker', wid, 'outcome', outcome, 'class', class,
    'drift', S(sa - due), 'dur', S(now - sa), ...)
end

local function addDead(K, P, id, fp, label, now)
  rcall('ZADD', K[6], S(now), id)
  rcall('ZADD', P .. 'fp:' .. fp, S(now), id)
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
  local f = rcall('HMGET', P .. 'j:' .. id, 'fp', 'oh')
  if state == 'dead' then
    removeDead(K, P, id, f[1])
  else
    rcall('ZREM', K[FINISHED_SET[state]], id)
  end
  deleteJob(P, id, f[2])
  rcall('HINCRBY', K[1], 'ev:' .. state, 1)
  ev('evicted', id, 'state', state)
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
        decision = '{"action":"retry","delayMs":0,"nextDueAt":' .. S(now) ..
          ',"source":"policy","explanation":"lease expired (stall ' .. sc .. ' of ' .. ms ..
          '): back to waiting at once","detail":{"strategy":"immediate"}}'
      end
      local body = '"outcome":"stalled","error":' .. errJson .. ',"errorClass":"' ..
        (poison and 'poison' or 'temporary') .. '","rule":"stall"'
      local rec = attemptRecord(f[1], f[2], f[3], f[4], S(now), f[5], body, decision, f[8])
      appendAttempt(P, id, rec)
      rcall('HSET', jk, 'n', cur, 'sc', sc, 'trg', 'stall')
      if f[8] and f[8] ~= '' then rcall('HSET', jk, 'man', '') end
      if poison then
        rcall('HSET', jk, 'st', 'dead', 'dr', 'poison', 'dat', now, 'fp', poisonFp, 'ec', 'LEASE_EXPIRED',
          'derr', errJson, 'ft', now)
        addDead(K, P, id, poisonFp, poisonLabel, now)
        evEnd(now, 'dead', id, f[1], f[5], 'stalled', 'poison', tonumber(f[4]), tonumber(f[3]), 'reason', 'poison')
        died = true
      else
        rcall('HSET', jk, 'st', 'waiting', 'due', now)
        rcall('LPUSH', K[2], id)
        evEnd(now, 'stalled', id, f[1], f[5], 'stalled', 'temporary', tonumber(f[4]), tonumber(f[3]), 'stalls', S(sc))
        back = back + 1
      end
    end
  end
  if died then applyRetention(K, P, 'dead', now) end
  wake(K, back)
  return recovered
end

-- Pops up to `max` waiting jobs and leases them to worker `wid`. The attempt number is the lease
-- token. The caller has checked the queue is not paused. Returns one array per job (see
-- claim-10.lua for the fields).
--
-- Isolation of suspects: a job whose next stall would make it poison (sc > 0 and sc + 1 >= ms) may
-- be what kills its workers, or it stalled beside that one. A suspect is only handed to an idle
-- worker (`exclusiveOk`), alone, and that worker takes nothing else until it ends; a suspect at the
-- head of the list stops a busy worker's claim (the ids popped after it go back in order). So the
-- poison verdict always follows a stall in isolation: a job that crashes its worker dies, and its
-- neighbours complete. Only a job's last permitted delivery runs alone, which keeps the cost low.
-- The options texts of the jobs claimed by this call, once each: digest, text, digest, text...
local CLAIM_OPTS = {}
local CLAIM_OPTS_LIST = {}

local function claimJobs(K, P, now, wid, leaseMs, max, exclusiveOk)
  local jobs = {}
  local blocked = false
  if max <= 0 then return jobs, blocked end
  local ids = rcall('RPOP', K[2], max)
  if not ids then return jobs, blocked end
  local le = now + leaseMs
  local leS = S(le)
  local nowS = S(now)
  local za = {}
  for i, id in ipairs(ids) do
    local jk = P .. 'j:' .. id
    local f = rcall('HMGET', jk, 'name', 'data', 'oh', 'n', 'trg', 'due', 'fl', 'sc', 'pd', 'man', 'ms')
    local suspect = false
    if f[1] and f[8] ~= '0' then suspect = tonumber(f[8]) + 1 >= tonumber(f[11]) end
    if suspect and not (exclusiveOk and #jobs == 0) then
      -- Back to the head, in their order: this one and every id popped after it.
      local back = {}
      for j = #ids, i, -1 do back[#back + 1] = ids[j] end
      bulk('RPUSH', K[2], back, 1000)
      blocked = true
      break
    end
    if f[1] then
      local n = tonumber(f[4]) + 1
      local nS = S(n)
      rcall('HSET', jk, 'st', 'active', 'cur', nS, 'wid', wid, 'sa', nowS, 'le', leS)
      za[#za + 1] = leS
      za[#za + 1] = id
      ev('active', id, 'attempt', nS, 'worker', wid)
      -- One string per job, fields apart by \31 (see claim-10.lua for why and why it is safe).
      jobs[#jobs + 1] = id .. '\31' .. f[1] .. '\31' .. f[2] .. '\31' .. (f[3] or '') .. '\31' .. nS .. ',' .. f[5] .. ',' ..
        f[6] .. ',' .. nowS .. ',' .. leS .. ',' .. f[7] .. ',' .. f[8] .. ',' .. (f[9] or '') .. ',' ..
        (suspect and '1' or '0') .. '\31' .. (f[10] or '')
      if f[3] and not CLAIM_OPTS[f[3]] then
        CLAIM_OPTS[f[3]] = true
        CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = f[3]
        CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = optsText(P, f[3])
      end
    end
    if suspect then
      local back = {}
      for j = #ids, i + 1, -1 do back[#back + 1] = ids[j] end
      bulk('RPUSH', K[2], back, 1000)
      break
    end
  end
  bulk('ZADD', K[4], za, 1000)
  -- blocked: a suspect at the head stopped this busy worker's claim; it should look again soon.
  return jobs, blocked
end

-- How soon a worker whose claim was stopped by a suspect should look again (ms).
local SUSPECT_RECHECK_MS = 25

-- For an idle worker: ms until the next scheduled job is due or the next lease expires, or -1.
local function nextWakeIn(K, now)
  local nextAt = earliestDue(K)
  local firstLease = rcall('ZRANGE', K[4], 0, 0, 'WITHSCORES')
  if firstLease[2] and (nextAt == nil or tonumber(firstLease[2]) < nextAt) then nextAt = tonumber(firstLease[2]) end
  if nextAt == nil then return -1 end
  local wait = nextAt - now
  if wait < 0 then wait = 0 end
  return wait
end
