--[[
  Adds jobs. A caller-supplied id that exists already is left untouched (idempotent add).
  ARGV[1] key prefix   ARGV[2] job count   ARGV[3] how many ids to generate
  ARGV[4] M, the number of distinct options texts, then M pairs: options JSON, maxStalls
  then per job, 11 fields: id ('' = generate), name, data, options index (1..M), "delayMs" or
  "@runAt" (an absolute due time), the trace context JSON ('' = none), the priority ('' = the
  queue's default: meta 'dp', absent = 0), the dedup mode ('' = none, 'dedup' or 'debounce'), its
  ms (window or delay), its key, and the group ('' = none; its jobs take turns with other groups,
  under its rate limit)
  Returns { 'r', first id, state } when every job got a generated id, in one run of consecutive
  numbers, was created and has the same state (the common bulk add: the client expands it);
  else { 'l', id, created (1|0|2 = folded into that job), state, id, created, state, ... }.
  Folding (the rules in src/dedup.ts, generated/dedup.lua): a job with a dedup mode whose key names
  a job that foldsInto() accepts is not created; that job's fold count ('fo', 'fa') is raised and,
  for debounce, its data replaced and its due time moved to now + ms (scheduled again).
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/bulk"
--- @include "includes/flushEvents"
--- @include "includes/wake"
--- @include "includes/earliestDue"
--- @include "includes/internOpts"
--- @include "includes/optRefs"
--- @include "includes/waitLevels"
--- @include "includes/createJob"
--- @include "generated/keys"
--- @include "generated/dedup"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local toGenerate = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local now = nowMs()
local nowS = S(now)
local out = { 'l' }
local wakeN = 0
local earliest = earliestDue(KEYS)
rcall('HSETNX', KEYS[1], 'ct', nowS)
-- Generated ids are a counter, reserved in one step for the whole batch. They can only collide with
-- a job a caller added by hand with an all-digits id: "mid" records that one ever was, and only then
-- is each generated id checked.
local nextId = 0
local checkIds = false
if toGenerate > 0 then
  nextId = rcall('HINCRBY', KEYS[1], 'seq', toGenerate) - toGenerate + 1
  checkIds = rcall('HEXISTS', KEYS[1], 'mid') == 1
end
local optDigest = {}
local optStalls = {}
for j = 1, m do
  optDigest[j] = internOpts(P, ARGV[3 + 2 * j])
  optStalls[j] = ARGV[4 + 2 * j]
end
local waitIds = {}
local schedArgs = {}
local firstState = nil
local compact = toGenerate == count
local expectId = nextId
local markedMid = false
local defaultPr = nil
-- Folds the add into the job its dedup key names when the rules allow: returns that job's id and
-- state, or nil (the caller creates the job).
local function fold(b, dmode)
  local holder = rcall('GET', P .. KEY_DEDUP .. ARGV[b + 9])
  if not holder then return nil end
  local jk = P .. KEY_JOB .. holder
  local f = rcall('HMGET', jk, 'st', 'pr', 'due', 'grp')
  if not f[1] or not foldsInto(dmode, f[1]) then return nil end
  local st = f[1]
  local dueS = f[3]
  local cnt = rcall('HINCRBY', jk, 'fo', 1)
  rcall('HSET', jk, 'fa', nowS)
  if dmode == 'debounce' then
    local ms = tonumber(ARGV[b + 8])
    dueS = S(now + ms)
    if st == 'waiting' then removeWaiting(KEYS, P, holder, tonumber(f[2] or '0'), f[4]) end
    rcall('HSET', jk, 'data', ARGV[b + 2], 'due', dueS, 'st', 'scheduled')
    rcall('ZADD', KEYS[3], dueS, holder)
    rcall('PEXPIRE', P .. KEY_DEDUP .. ARGV[b + 9], keyTtlMs(dmode, ms))
    st = 'scheduled'
  end
  ev('folded', holder, 'mode', dmode, 'count', S(cnt), 'due', dueS)
  return holder, st
end

for i = 0, count - 1 do
  local b = 5 + 2 * m + i * 11
  local id = ARGV[b]
  local existing = false
  local dmode = ARGV[b + 7]
  local folded = nil
  if dmode ~= '' then
    local fid, fst = fold(b, dmode)
    if fid then
      folded = fid
      out[#out + 1] = fid
      out[#out + 1] = 2
      out[#out + 1] = fst
      compact = false
    end
  end
  if folded then
    -- nothing created
  elseif id == '' then
    id = tostring(nextId)
    nextId = nextId + 1
    -- Skip ids a caller already took by hand.
    if checkIds then
      while rcall('EXISTS', P .. KEY_JOB .. id) == 1 do
        id = tostring(rcall('HINCRBY', KEYS[1], 'seq', 1))
        compact = false
      end
    end
  else
    existing = rcall('HGET', P .. KEY_JOB .. id, 'st')
    if not existing and not markedMid and string.find(id, '^%d+$') then
      rcall('HSET', KEYS[1], 'mid', '1')
      markedMid = true
      checkIds = true
    end
  end
  if folded then
    -- answered above
  elseif existing then
    out[#out + 1] = id
    out[#out + 1] = 0
    out[#out + 1] = existing
    compact = false
  else
    local oi = tonumber(ARGV[b + 3])
    refOpts(optDigest[oi]) -- a job created holds one reference to its options
    local when = ARGV[b + 4]
    local due
    if string.byte(when, 1) == 64 then due = tonumber(string.sub(when, 2)) else due = now + tonumber(when) end
    local st, dueS = createJob(P, id, ARGV[b + 1], ARGV[b + 2], optDigest[oi], optStalls[oi], due, now, nowS,
      ARGV[b + 5], 'auto', nil)
    -- The priority only when not 0 (readers take a missing 'pr' as 0): most jobs pay nothing for it.
    -- None given: the queue's stored default, read once per call and only when a job needs it.
    local pr = ARGV[b + 6]
    if pr == '' then
      if defaultPr == nil then defaultPr = rcall('HGET', KEYS[1], 'dp') or '0' end
      pr = defaultPr
    end
    if pr ~= '0' then rcall('HSET', P .. KEY_JOB .. id, 'pr', pr) else pr = nil end
    -- The group likewise only when given.
    local grp = ARGV[b + 10]
    if grp ~= '' then rcall('HSET', P .. KEY_JOB .. id, 'grp', grp) else grp = nil end
    if dmode ~= '' then
      rcall('SET', P .. KEY_DEDUP .. ARGV[b + 9], id, 'PX', keyTtlMs(dmode, tonumber(ARGV[b + 8])))
      rcall('HSET', P .. KEY_JOB .. id, 'dm', dmode, 'dk', ARGV[b + 9])
    end
    if st == 'scheduled' and dmode ~= '' then
      -- At once, not in the bulk ZADD below: a later add of this call may fold into it and move it.
      rcall('ZADD', KEYS[3], dueS, id)
      if earliest == nil or due < earliest then
        earliest = due
        if wakeN == 0 then wakeN = 1 end
      end
    elseif st == 'waiting' and (pr or grp) then
      pushWaiting(KEYS, P, id, tonumber(pr or '0'), grp)
      wakeN = wakeN + 1
    elseif st == 'waiting' then
      waitIds[#waitIds + 1] = id
    else
      schedArgs[#schedArgs + 1] = dueS
      schedArgs[#schedArgs + 1] = id
      if earliest == nil or due < earliest then
        earliest = due
        if wakeN == 0 then wakeN = 1 end
      end
    end
    if firstState == nil then firstState = st elseif st ~= firstState then compact = false end
    if compact and id ~= tostring(expectId) then compact = false end
    expectId = expectId + 1
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = st
  end
end
flushOptRefs(P)
pushPlain(KEYS, P, waitIds)
bulk('ZADD', KEYS[3], schedArgs, 1000)
wakeN = wakeN + #waitIds
wake(KEYS, wakeN)
flushEvents(KEYS, now)
if compact and count > 0 then return { 'r', out[2], firstState } end
return out
