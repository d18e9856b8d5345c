--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/bulk"
--- @include "includes/ev"
--- @include "includes/optsText"
--- @include "includes/waitLevels"
--- @include "generated/keys"
--- @include "generated/transitions"
-- The options texts of the jobs claimed by this call, once each: digest, text, digest, text...
local CLAIM_OPTS = {}
local CLAIM_OPTS_LIST = {}

-- Pops up to `max` waiting jobs (highest priority first: popWaiting) and leases them to worker `wid`. The attempt number is the lease
-- token. The caller has checked the queue is not paused. Returns one string per job (see
-- claim-10.lua for the fields), and whether a suspect stopped the claim.
--
-- Isolation of suspects (isSuspect, src/transitions.ts): a suspect is only handed to an idle worker
-- (`exclusiveOk`), alone, and that worker takes nothing else until it ends; a suspect at the head of
-- the list stops a busy worker's claim (the ids popped after it go back in order). So the poison
-- verdict always follows a stall in isolation: a job that crashes its worker dies, and its
-- neighbours complete. Only a job's last permitted delivery runs alone, which keeps the cost low.
local function claimJobs(K, P, now, wid, leaseMs, max, exclusiveOk)
  local jobs = {}
  local blocked = false
  if max <= 0 then return jobs, blocked end
  local ids, lvls = popWaiting(K, P, max)
  if #ids == 0 then return jobs, blocked end
  local le = now + leaseMs
  local leS = S(le)
  local nowS = S(now)
  local za = {}
  for i, id in ipairs(ids) do
    local jk = P .. KEY_JOB .. id
    local f = rcall('HMGET', jk, 'name', 'data', 'oh', 'n', 'trg', 'due', 'fl', 'sc', 'pd', 'man', 'ms', 'tc')
    local suspect = false
    -- (sc '0', by far the most common, is never a suspect: no need to convert it)
    if f[1] and f[8] ~= '0' then suspect = isSuspect(tonumber(f[8]), tonumber(f[11])) end
    if suspect and not (exclusiveOk and #jobs == 0) then
      -- Back to the head, in their order: this one and every id popped after it.
      unpopWaiting(K, P, ids, lvls, i)
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
        (suspect and '1' or '0') .. '\31' .. (f[10] or '') .. '\31' .. (f[12] or '')
      if f[3] and not CLAIM_OPTS[f[3]] then
        CLAIM_OPTS[f[3]] = true
        CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = f[3]
        CLAIM_OPTS_LIST[#CLAIM_OPTS_LIST + 1] = optsText(P, f[3])
      end
    end
    if suspect then
      unpopWaiting(K, P, ids, lvls, i + 1)
      break
    end
  end
  bulk('ZADD', K[4], za, 1000)
  -- blocked: a suspect at the head stopped this busy worker's claim; it should look again soon.
  return jobs, blocked
end
