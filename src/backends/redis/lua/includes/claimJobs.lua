--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/bulk"
--- @include "includes/ev"
--- @include "includes/optsText"
--- @include "includes/claimFacts"
--- @include "includes/waitLevels"
--- @include "includes/rateLimit"
--- @include "generated/keys"
--- @include "generated/transitions"
--- @include "generated/rate-limit"
-- The helpers of claimJobs live in the table CJ (a script has at most 200 locals).
local CJ = {}

-- The options texts of the jobs claimed by this call, once each: digest, text, digest, text...
local CLAIM_OPTS = {}
local CLAIM_OPTS_LIST = {}

-- Leases one popped job (its hash fields f, read by the caller) to worker `wid`: the attempt
-- number is the lease token. `cw`: what its claim records on the attempt (CJ.facts), or nil;
-- joined to the `schedule` its tick wrote for the first attempt of a scheduler's job. Returns its string (see claim-10.lua for the fields).
function CJ.leaseJob(P, jk, id, f, nowS, leS, wid, suspect, cw, za)
  local n = tonumber(f[4]) + 1
  local nS = S(n)
  -- The first attempt of a job a scheduler created keeps what its tick wrote (`schedule`).
  local kept = f[5] == 'schedule' and f[13]
  if kept and cw then cw = claimFactsWith(cw, f[13]) end
  if kept and not cw then
    rcall('HSET', jk, 'st', 'active', 'cur', nS, 'wid', wid, 'sa', nowS, 'le', leS)
  elseif cw then
    rcall('HSET', jk, 'st', 'active', 'cur', nS, 'wid', wid, 'sa', nowS, 'le', leS, 'cw', cw)
  else
    rcall('HSET', jk, 'st', 'active', 'cur', nS, 'wid', wid, 'sa', nowS, 'le', leS)
    if f[13] then rcall('HDEL', jk, 'cw') end
  end
  za[#za + 1] = leS
  za[#za + 1] = id
  ev('active', id, 'attempt', nS, 'worker', wid)
  if f[3] and not CLAIM_OPTS[f[3]] then
    CLAIM_OPTS[f[3]] = true
    CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = f[3]
    CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = optsText(P, f[3])
  end
  -- One string per job, fields apart by \31 (see claim-10.lua for why and why it is safe).
  return id .. '\31' .. f[1] .. '\31' .. f[2] .. '\31' .. (f[3] or '') .. '\31' .. nS .. ',' .. f[5] .. ',' ..
    f[6] .. ',' .. nowS .. ',' .. leS .. ',' .. f[7] .. ',' .. f[8] .. ',' .. (f[9] or '') .. ',' ..
    (suspect and '1' or '0') .. '\31' .. (f[10] or '') .. '\31' .. (f[12] or '') .. '\31' .. (f[14] or '')
end

CJ.FIELDS = { 'name', 'data', 'oh', 'n', 'trg', 'due', 'fl', 'sc', 'pd', 'man', 'ms', 'tc', 'cw', 'grp' }
-- The same and the priority snapshot `ps` (f[15]), read only while the queue counts priority waits
-- (a field missing from a small hash costs a scan of it).
CJ.FIELDS_PS = { 'name', 'data', 'oh', 'n', 'trg', 'due', 'fl', 'sc', 'pd', 'man', 'ms', 'tc', 'cw', 'grp', 'ps' }

-- The claim facts of an attempt (`cw`, includes/claimFacts.lua; nil = none): its rate-limit wait
-- (JSON or nil) and its priority wait (PR.claimed's short text or nil).
function CJ.facts(rlw, pw)
  if not rlw then return pw end
  return claimFactsWith(pw, '{"rateLimit":' .. rlw .. '}')
end

-- Is the job a suspect, and may this claim take it?
function CJ.suspectOf(f, exclusiveOk, taken)
  -- (sc '0', by far the most common, is never a suspect: no need to convert it)
  local suspect = false
  if f[1] and f[8] ~= '0' then suspect = isSuspect(tonumber(f[8]), tonumber(f[11])) end
  return suspect, suspect and not (exclusiveOk and taken == 0)
end

-- The plain claim (no group takes turns, no queue bucket): pops up to `max` waiting jobs (highest
-- priority first: popWaiting) in one go.
function CJ.claimPlain(K, P, now, wid, leaseMs, max, exclusiveOk)
  local jobs = {}
  local blocked = false
  local ids, lvls = popWaiting(K, P, max)
  if #ids == 0 then return jobs, blocked end
  local leS = S(now + leaseMs)
  local nowS = S(now)
  local za = {}
  local fields = PR.load(P) and CJ.FIELDS_PS or CJ.FIELDS
  for i, id in ipairs(ids) do
    local jk = P .. KEY_JOB .. id
    local f = rcall('HMGET', jk, unpack(fields))
    local suspect, refused = CJ.suspectOf(f, exclusiveOk, #jobs)
    if refused then
      -- Back to the head, in their order: this one and every id popped after it.
      unpopWaiting(K, P, ids, lvls, i)
      blocked = true
      break
    end
    if f[1] then
      local pw = PR.claimed(K, P, lvls and lvls[i] or 0, tonumber(f[6]), f[15], now)
      jobs[#jobs + 1] = CJ.leaseJob(P, jk, id, f, nowS, leS, wid, suspect, CJ.facts(nil, pw), za)
    end
    if suspect then
      unpopWaiting(K, P, ids, lvls, i + 1)
      break
    end
  end
  bulk('ZADD', K[4], za, 1000)
  return jobs, blocked
end

-- The claim under rate limits or groups: one job per step. Each step first needs a token of the
-- queue's bucket (none: the claim stops, and answers when the next exists); then the group at the
-- head of the ring gives its next job if its bucket has a token (else it is parked until its next
-- token and the next group is asked), and goes to the back of the ring. Returns the jobs, whether a
-- suspect stopped the claim, and when the next token exists if a bucket stopped it (else nil).
function CJ.claimLimited(K, P, now, wid, leaseMs, max, exclusiveOk, groups)
  local jobs = {}
  local blocked = false
  local nextAt = nil
  local leS = S(now + leaseMs)
  local nowS = S(now)
  local za = {}
  local ring = P .. KEY_GROUP_RING
  local parked = P .. KEY_GROUP_PARKED
  if groups then
    -- Parked groups whose next token exists now take turns again, in the order of their tokens.
    local due = rcall('ZRANGEBYSCORE', parked, '-inf', now)
    if #due > 0 then
      rcall('RPUSH', ring, unpack(due))
      rcall('ZREM', parked, unpack(due))
    end
  end
  while #jobs < max do
    local ql = RL.queue()
    local qStart, qAt
    if ql then
      qStart = bucketStart(RL.qtat, now)
      qAt = bucketTokenAt(qStart, ql.iv, ql.b)
      if qAt > now then
        nextAt = qAt
        break
      end
    end
    local id, p, g, score, gl, gb, gStart, gAt
    if groups then
      g = rcall('LINDEX', ring, 0)
      if not g then
        local first = rcall('ZRANGE', parked, 0, 0, 'WITHSCORES')
        if first[2] then
          nextAt = tonumber(first[2])
          break
        end
        -- No group takes turns any more: the jobs without a group, in their plain order.
        groups = false
      end
    end
    if not groups then
      local ids, lvls = popWaiting(K, P, 1)
      if #ids == 0 then break end
      id = ids[1]
      p = lvls and lvls[1] or 0
    elseif g == '' then
      local ids, lvls = popWaiting(K, P, 1)
      if #ids > 0 then
        id = ids[1]
        p = lvls and lvls[1] or 0
      end
      if #ids > 0 and GR.ungroupedWaiting(K, P) then
        rcall('LMOVE', ring, ring, 'LEFT', 'RIGHT')
      else
        rcall('LPOP', ring)
        rcall('HDEL', K[1], 'gu')
        GR.ringCollapse(K, P)
      end
    else
      gl, gb = RL.group(P, g)
      if gl then
        gStart = bucketStart(gb.tat, now)
        gAt = bucketTokenAt(gStart, gl.iv, gl.b)
      end
      if gl and gAt > now then
        rcall('LPOP', ring)
        rcall('ZADD', parked, string.format('%.17g', gAt), g)
        gl = nil
      else
        local key = P .. KEY_GROUP .. g
        local got = rcall('ZPOPMIN', key)
        if got[1] then
          id = got[1]
          score = tonumber(got[2])
        end
        if got[1] and rcall('EXISTS', key) == 1 then
          rcall('LMOVE', ring, ring, 'LEFT', 'RIGHT')
        else
          rcall('LPOP', ring)
          GR.ringCollapse(K, P)
        end
      end
    end
    if id then
      local jk = P .. KEY_JOB .. id
      local f = rcall('HMGET', jk, unpack(PR.load(P) and CJ.FIELDS_PS or CJ.FIELDS))
      local suspect, refused = CJ.suspectOf(f, exclusiveOk, #jobs)
      if refused then
        -- Back where it was (its group's turn is spent): the claim stops, tokens untaken.
        if g and g ~= '' then
          GR.pushGrouped(K, P, id, 0, g, score)
        else
          unpopWaiting(K, P, { id }, { p }, 1)
          GR.ringUngroupedNow(K, P)
        end
        blocked = true
        break
      end
      if f[1] then
        local due = tonumber(f[6])
        local waited, scope, label = 0, nil, nil
        if ql then
          -- Its token existed from the state's own time less the tolerance (long ago for a bucket
          -- that was full), not from this claim's start.
          waited = RL.waitedFor(bucketTokenAt(RL.qtat, ql.iv, ql.b), due)
          RL.qtat = qStart + ql.iv
          RL.qdirty = true
          if waited > 0 then
            scope = 'queue'
            label = ql.label
          end
        end
        if gl then
          local w = RL.waitedFor(bucketTokenAt(gb.tat, gl.iv, gl.b), due)
          gb.tat = gStart + gl.iv
          gb.dirty = true
          if w > 0 and w >= waited then
            waited = w
            scope = 'group'
            label = gl.label
          end
        end
        local rlw = nil
        if scope then rlw = RL.waitJson(scope, g, label, waited) end
        -- A job without a group: counted for the priority waits (a group's order is its own).
        local pw = nil
        if not g or g == '' then pw = PR.claimed(K, P, p, due, f[15], now) end
        jobs[#jobs + 1] = CJ.leaseJob(P, jk, id, f, nowS, leS, wid, suspect, CJ.facts(rlw, pw), za)
        if rlw then ev('throttled', id, 'scope', scope, 'group', scope == 'group' and g or '', 'waited', S(waited)) end
      end
      if suspect then break end
    end
  end
  bulk('ZADD', K[4], za, 1000)
  return jobs, blocked, nextAt
end

-- Claims up to `max` waiting jobs for worker `wid`, each with a lease. The caller has checked the
-- queue is not paused, and read the meta fields rlInit needs (`groups`: meta `gm`, a group takes
-- turns). Returns one string per job (see claim-10.lua for the fields), whether a suspect stopped
-- the claim, and when the next token exists if a rate limit stopped it.
--
-- Isolation of suspects (isSuspect, src/transitions.ts): a suspect is only handed to an idle worker
-- (`exclusiveOk`), alone, and that worker takes nothing else until it ends; a suspect at the head of
-- the list stops a busy worker's claim (the ids popped after it go back in order). So the poison
-- verdict always follows a stall in isolation: a job that crashes its worker dies, and its
-- neighbours complete. Only a job's last permitted delivery runs alone, which keeps the cost low.
local function claimJobs(K, P, now, wid, leaseMs, max, exclusiveOk, groups)
  if max <= 0 then return {}, false, nil end
  if not groups and not RL.queue() then
    local jobs, blocked = CJ.claimPlain(K, P, now, wid, leaseMs, max, exclusiveOk)
    PR.flush(P)
    return jobs, blocked, nil
  end
  local jobs, blocked, nextAt = CJ.claimLimited(K, P, now, wid, leaseMs, max, exclusiveOk, groups)
  RL.flush(K, P, now)
  PR.flush(P)
  return jobs, blocked, nextAt
end
