--[[
  Ends attempts: records each one and applies the decision the worker took (done, retry after a
  delay, dead-letter). A request whose attempt number no longer matches the job's current lease
  (expired and recovered, cancelled) is refused, and the refusal is recorded on the job. Then, in
  the same round trip, claims up to `claimMax` new jobs for the same worker, so a busy worker
  finishes one job and gets the next with one call.
  ARGV[1] key prefix  ARGV[2] request count  ARGV[3] claimMax  ARGV[4] worker id  ARGV[5] lease ms
  ARGV[6] '1' when the worker will be idle after these finishes (it may take a suspect alone)
  then per request either 'd' and 4 fields, for an attempt that succeeded and is done, run by the
  worker of ARGV[4]: id, attempt, held ms, result JSON (most requests: 5 elements, not 16); or 'x'
  and 16 fields: id, attempt, workerId, outcome, ending (the JSON object
    {outcome, error?, errorClass?, rule?}), action (done|retry|dead), decision JSON (for a retry,
    Redis merges nextDueAt into it), delayMs or dead reason, result JSON, fingerprint, fingerprint
    label, error code, error JSON, error class ('' = none), held ms (how long after the claim time the handler was called,
    in Redis time as the worker estimates it: the attempt started at the claim time plus this),
    pause ('' = none; a handler's RateLimitError: 'q:<ms>' pauses the queue's bucket, 'g:<ms>' the
    job's group's, or the queue's for a job without a group; the job waits again, rule rate-limit)
  (the TypeScript half of this encoding: src/backends/redis/wire.ts)
  Returns { results, claim } where results is one string, per request "status,state,nextDueAt,
  finishedAt" (status ok|stale|not_found, state and nextDueAt '' = none), requests apart by ';';
  and claim is shaped like claim-10.lua's reply.
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/bulk"
--- @include "includes/ev"
--- @include "includes/evEnd"
--- @include "includes/flushEvents"
--- @include "includes/wake"
--- @include "includes/earliestDue"
--- @include "includes/attemptRecord"
--- @include "includes/jsonMerge"
--- @include "includes/appendAttempt"
--- @include "includes/addDead"
--- @include "includes/notePending"
--- @include "includes/applyRetention"
--- @include "includes/promoteDue"
--- @include "includes/claimJobs"
--- @include "includes/waitLevels"
--- @include "includes/nextWakeIn"
--- @include "includes/rateLimit"
--- @include "includes/indexFacets"
--- @include "includes/failureFacets"
--- @include "includes/rollup"
--- @include "includes/retryBudget"
--- @include "generated/keys"
--- @include "generated/transitions"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local now = nowMs()
local nowS = S(now)
local out = {}
local touched = {}
local wakeN = 0
local earliest = false -- read on first need: only a delayed retry needs it
local activeDone = {}
local doneArgs = {}
local waitIds = {}
local levelIds = {} -- retries to wait at a priority other than 0 or in a group: id, priority, group, ...
local pauses = {} -- handlers' rate-limit pauses: id, scope, group, ms, attempt, ending JSON, ...
local schedArgs = {}
-- One read of the queue's settings serves the rollups, retention, the paused check and the rate
-- limits.
local meta = rcall('HMGET', KEYS[1], 'paused', 'rc:completed', 'ra:completed', 'rc:dead', 'ra:dead', 'nro', 'bq',
  'bnx', 'rlq', 'rlg', 'rqt', 'gm', 'rum')
local rollups = meta[6] ~= '1'
local racc, rlab = {}, {} -- the rollups of this call (includes/rollup)
-- Retry budgets (src/retry-budget.ts): the queue's ('bq') and, when any job name has its own
-- ('bnx'), each name's ('bn:<name>'), read once per name per call.
local budgets = meta[7] or (meta[8] and meta[8] ~= '0')
local queueBudget = meta[7] and budgetDecode(meta[7]) or nil
local nameBudgets = {}
local bcache = {}
local function budgetFor(name)
  if meta[8] and meta[8] ~= '0' then
    local nb = nameBudgets[name]
    if nb == nil then
      local t = rcall('HGET', KEYS[1], 'bn:' .. name)
      nb = t and budgetDecode(t) or false
      nameBudgets[name] = nb
    end
    if nb then return nb, 'n:' .. name end
  end
  if queueBudget then return queueBudget, '' end
  return nil, nil
end
-- Is the job's last attempt record this request's own (same attempt, worker and outcome)? Then the
-- request was applied already: a lease recovered or cancelled ends the attempt as stalled or
-- cancelled, never with the worker's outcome. Only asked of a job no longer active whose attempt
-- number still matches, which is rare: decoding the record costs nothing on the hot path.
local function isRepeat(P, id, attempt, wid, outcome)
  local last = rcall('LINDEX', P .. KEY_HISTORY .. id, -1)
  if not last then return false end
  -- (pcall: a record cjson cannot decode, say nested deeper than its limit, is not this one's)
  local ok, rec = pcall(cjson.decode, last)
  return ok and rec.n == attempt and rec.workerId == wid and rec.outcome == outcome
end

-- How every short request ('d') ends: succeeded, done.
local DONE_ENDING = '{"outcome":"succeeded","decision":{"action":"done"}}'

local pos = 7
for _ = 1, count do
  local A
  if ARGV[pos] == 'd' then
    A = { ARGV[pos + 1], ARGV[pos + 2], ARGV[4], 'succeeded', '', 'done', '', '',
      ARGV[pos + 4], '', '', '', '', '', ARGV[pos + 3] }
    pos = pos + 5
  else
    A = { unpack(ARGV, pos + 1, pos + 16) }
    pos = pos + 17
  end
  local id = A[1]
  local attempt = tonumber(A[2])
  local jk = P .. KEY_JOB .. id
  -- ru and fd (what the rollups keep on a job, below) are written from the first attempt's end on:
  -- a first attempt does not look for them (a missing field is a scan of the hash), fd is read
  -- for a success only.
  local f
  if A[2] == '1' or not rollups then
    f = rcall('HMGET', jk, 'st', 'cur', 'trg', 'due', 'sa', 'wid', 'man', 'fl', 'pr', 'name', 'grp', 'cw')
  elseif A[6] == 'done' then
    f = rcall('HMGET', jk, 'st', 'cur', 'trg', 'due', 'sa', 'wid', 'man', 'fl', 'pr', 'name', 'grp', 'cw', 'ru', 'fd')
  else
    f = rcall('HMGET', jk, 'st', 'cur', 'trg', 'due', 'sa', 'wid', 'man', 'fl', 'pr', 'name', 'grp', 'cw', 'ru')
  end
  if not f[1] then
    out[#out + 1] = 'not_found,,,' .. nowS
  elseif f[1] ~= 'active' and tonumber(f[2]) == attempt and isRepeat(P, id, attempt, A[3], A[4]) then
    -- This very finish, applied already and sent again (a client resends a command whose reply a
    -- broken connection lost): answered as before, nothing recorded twice.
    out[#out + 1] = 'ok,' .. f[1] .. ',,' .. nowS
  elseif f[1] ~= 'active' or tonumber(f[2]) ~= attempt then
    local rn = rcall('HINCRBY', jk, 'rn', 1)
    rcall('HSET', jk, 'r' .. rn, '{"attempt":' .. A[2] .. ',"workerId":"' .. A[3] .. '","at":' .. nowS ..
      ',"outcome":"' .. A[4] .. '"}')
    ev('refused', id, 'attempt', A[2], 'worker', A[3])
    out[#out + 1] = 'stale,' .. f[1] .. ',,' .. nowS
  else
    local outcome = A[4]
    local action = A[6]
    local decision = A[7]
    if budgets then
      local b, scope = budgetFor(f[10] or '')
      if b then
        local st = budgetState(P, bcache, scope, b, now)
        if f[2] == '1' then
          st.firsts = st.firsts + 1
          st.add = st.add + 1
        end
        if action == 'retry' and countsAsFailure(outcome) then
          local delay = tonumber(A[8])
          local defer, tat = budgetPlace(b, st.firsts, st.tat, now + delay)
          st.tat = tat
          st.dirty = true
          if defer > 0 then
            local text = budgetExplanation(b, st.firsts, defer, b.dead)
            if b.dead then
              action = 'dead'
              A[8] = 'budget'
              local ok, e = pcall(cjson.decode, A[5])
              if ok and type(e) == 'table' and type(e.error) == 'table' then A[13] = cjson.encode(e.error) end
              decision = '{"action":"dead","reason":"budget","explanation":' .. cjson.encode(text) .. '}'
              ev('budget', id, 'scope', scope, 'dead', '1', 'attempt', f[2])
            else
              A[8] = S(delay + defer)
              decision = budgetNote(decision, delay + defer, defer, st.firsts, budgetAllowed(b, st.firsts), text)
              ev('budget', id, 'scope', scope, 'deferred', S(defer), 'attempt', f[2])
            end
          end
        end
      end
    end
    local nextDue = ''
    if action == 'retry' then
      nextDue = S(now + tonumber(A[8]))
      decision = jsonMerge(decision, '{"nextDueAt":' .. nextDue .. '}')
    end
    local cur = f[2]
    local due = tonumber(f[4])
    local sa = tonumber(f[5])
    local saS = f[5]
    if A[15] ~= '0' then
      sa = sa + tonumber(A[15])
      if sa > now then sa = now end
      saS = S(sa)
    end
    local ending = DONE_ENDING
    if A[5] ~= '' then ending = jsonMerge(A[5], '{"decision":' .. decision .. '}') end
    local rec = attemptRecord(cur, f[3], f[4], saS, nowS, f[6], ending, f[7], f[12])
    if f[7] and f[7] ~= '' then rcall('HSET', jk, 'man', '') end
    local fl = f[8]
    if countsAsFailure(outcome) then fl = S(tonumber(fl) + 1) end
    activeDone[#activeDone + 1] = id
    local facets, frule = RU.NONE, ''
    if A[5] ~= '' then
      facets, frule = failureFacets(A)
      indexFacets(P, id, facets)
    end
    -- The rollups (includes/rollup), and what they keep on the job hash (jx: written with the
    -- state below, no extra call): the due time of its first attempt (fd, for the time to
    -- success), the keys of its last failure (rk) and every key it failed with (rks) in ru
    -- (RU.pack).
    local jx = RU.NONE
    if rollups then
      local rk, rks = '', ''
      if cur ~= '1' then rk, rks = RU.unpack(f[13], jk) end
      local tts = 0
      if action == 'done' then
        local first = due
        if cur ~= '1' then
          first = tonumber(f[14])
          if not first then
            -- (a job whose first attempt ended before fd was kept: the first record's dueAt)
            local r1 = rcall('LINDEX', P .. KEY_HISTORY .. id, 0)
            first = tonumber(r1 and string.match(r1, '^{"n":%d+,"trigger":"%a+","dueAt":(%-?%d+)')) or due
          end
        end
        tts = now - first
      end
      local reason = ''
      if action == 'dead' then reason = A[8] end
      -- frule: the rule, from the ending failureFacets decodes anyway (no second decode).
      local nrk, nrks = RU.attemptEnd(racc, rlab, f[10] or '', tonumber(cur), outcome, action, reason, A[14], frule,
        A[10], A[11], sa - due, tts, rk, rks)
      -- (a success changes nothing a later attempt reads: see RU.pack)
      if action ~= 'done' then
        if cur == '1' then
          jx = { 'fd', f[4], 'ru', RU.pack(nrk, nrks) }
        elseif nrk ~= rk or nrks ~= rks then
          jx = { 'ru', RU.pack(nrk, nrks) }
        end
      end
    end
    local st
    if action == 'done' then
      st = 'completed'
      appendAttempt(P, id, rec)
      rcall('HSET', jk, 'n', cur, 'fl', fl, 'st', st, 'res', A[9], 'ft', nowS, unpack(jx))
      doneArgs[#doneArgs + 1] = nowS
      doneArgs[#doneArgs + 1] = id
      evEnd(now, 'completed', id, cur, f[6], outcome, A[14], sa, due)
    elseif action == 'dead' then
      st = 'dead'
      local fp = A[10]
      appendAttempt(P, id, rec)
      rcall('HSET', jk, 'n', cur, 'fl', fl, 'st', st, 'dr', A[8], 'dat', nowS, 'fp', fp,
        'ec', A[12], 'derr', A[13], 'ft', nowS, unpack(jx))
      addDead(KEYS, P, id, fp, A[11], now)
      evEnd(now, 'dead', id, cur, f[6], outcome, A[14], sa, due, 'reason', A[8])
    else
      local delay = tonumber(A[8])
      if delay > 0 then
        st = 'scheduled'
        schedArgs[#schedArgs + 1] = nextDue
        schedArgs[#schedArgs + 1] = id
        if earliest == false then earliest = earliestDue(KEYS) end
        local dueN = now + delay
        if earliest == nil or dueN < earliest then
          earliest = dueN
          if wakeN == 0 then wakeN = 1 end
        end
      else
        st = 'waiting'
        if (f[9] and f[9] ~= '0') or (f[11] and f[11] ~= '') then
          levelIds[#levelIds + 1] = id
          levelIds[#levelIds + 1] = tonumber(f[9] or '0')
          levelIds[#levelIds + 1] = f[11] or ''
        else
          waitIds[#waitIds + 1] = id
        end
      end
      appendAttempt(P, id, rec)
      if keepsPreviousDelay(outcome) then
        rcall('HSET', jk, 'n', cur, 'fl', fl, 'st', st, 'due', nextDue, 'trg', 'auto', unpack(jx))
      else
        rcall('HSET', jk, 'n', cur, 'fl', fl, 'st', st, 'due', nextDue, 'pd', A[8], 'trg', 'auto', unpack(jx))
      end
      evEnd(now, 'retrying', id, cur, f[6], outcome, A[14], sa, due, 'delay', A[8], 'due', nextDue)
      if A[16] and A[16] ~= '' then
        local scope = string.sub(A[16], 1, 1)
        local g = f[11] or ''
        if g == '' then scope = 'q' end
        pauses[#pauses + 1] = id
        pauses[#pauses + 1] = scope
        pauses[#pauses + 1] = g
        pauses[#pauses + 1] = tonumber(string.sub(A[16], 3))
        pauses[#pauses + 1] = tonumber(cur)
        pauses[#pauses + 1] = A[5]
      end
    end
    touched[st] = true
    out[#out + 1] = 'ok,' .. st .. ',' .. nextDue .. ',' .. nowS
  end
end
bulk('ZREM', KEYS[4], activeDone, 1000)
bulk('ZADD', KEYS[5], doneArgs, 1000)
notePending(KEYS, P, doneArgs)
bulk('ZADD', KEYS[3], schedArgs, 1000)
pushPlain(KEYS, P, waitIds)
for i = 1, #levelIds, 3 do pushWaiting(KEYS, P, levelIds[i], levelIds[i + 1], levelIds[i + 2]) end
if rollups then RU.flush(P, KEYS[1], now, racc, rlab, meta[13]) end
budgetFlush(bcache, now)
RL.init(meta[9], meta[10], meta[11])
for i = 1, #pauses, 6 do
  local scope, g, ms = pauses[i + 1], pauses[i + 2], pauses[i + 3]
  RL.pause(P, scope, g, now, ms)
  RL.notePause(KEYS, P, scope, g, now, ms, pauses[i], pauses[i + 4], pauses[i + 5])
  ev('rate-limited', pauses[i], 'scope', scope == 'g' and 'group' or 'queue', 'group', g, 'pause', S(ms))
end
if touched['completed'] and (meta[2] or meta[3]) then applyRetention(KEYS, P, 'completed', now) end
if touched['dead'] and (meta[4] or meta[5]) then applyRetention(KEYS, P, 'dead', now) end
-- Claim next: retries pushed just now are claimable by this same call. Wake tokens only for
-- what this call leaves behind.
local claimMax = tonumber(ARGV[3])
local claim = { 0, 0, -1, CLAIM_OPTS_LIST, '' }
if meta[1] == '1' then
  claim[2] = 1
elseif claimMax > 0 then
  promoteDue(KEYS, P, now)
  -- 'gm' read again: a retry pushed into a group by this call may have just turned group turns on.
  local jobs, blocked, tokenAt = claimJobs(KEYS, P, now, ARGV[4], tonumber(ARGV[5]), claimMax, ARGV[6] == '1',
    rcall('HGET', KEYS[1], 'gm') == '1')
  claim[5] = table.concat(jobs, '\30')
  if #jobs == 0 then
    if blocked then claim[3] = SUSPECT_RECHECK_MS else claim[3] = nextWakeIn(KEYS, now, tokenAt) end
  elseif tokenAt then
    -- A rate limit stopped the claim before claimMax: when its next token exists.
    claim[3] = nextWakeIn(KEYS, now, tokenAt)
  end
end
RL.flush(KEYS, P, now)
-- Wake idle workers for the retries this call left waiting (not for jobs it claimed itself),
-- plus one if a delayed retry became the earliest due.
if #waitIds > 0 then
  local left = rcall('LLEN', KEYS[2])
  if left > #waitIds then left = #waitIds end
  wakeN = wakeN + left
end
wakeN = wakeN + #levelIds / 3
wake(KEYS, wakeN)
flushEvents(KEYS, now)
return { table.concat(out, ';'), claim }
