--[[
  Claims up to `max` jobs for a worker, each with a lease. First recovers expired leases and
  promotes due scheduled jobs, so an idle worker that wakes at a due time starts that job now.
  ARGV[1] key prefix  ARGV[2] worker id  ARGV[3] lease ms  ARGV[4] max
  ARGV[5] '1' when the worker is idle and may take a suspect (a job that stalled before) alone
  Under rate limits or groups (includes/claimJobs.lua), a claim that a bucket stopped answers in
  nextWakeInMs when the next token exists, so idle workers sleep until then instead of polling.
  Returns { recovered, paused (1|0), nextWakeInMs (-1 = none, or jobs claimed and no rate limit stopped the claim), options, jobs } where
  options is a flat { digest, options JSON, ... } of the claimed jobs' interned options, once each,
  and jobs is one string: per job id, name, data, options digest, packed, manual JSON ('' = none),
  apart by \31 (unit separator), jobs apart by \30 (record separator); packed = "attempt,trigger,
  dueAt,startedAt,leaseExpiresAt,failures,stalls,prevDelayMs ('' = none),exclusive (1|0)", then trace
  context ('' = none) and group ('' = none). The
  attempt number is the lease token.
  Why one string: a client decodes a reply element by element, and at 50 jobs a claim the elements
  were a measurable share of a worker's time; one string is split natively. Why it is safe: ids are
  [A-Za-z0-9_.:-], names refuse control characters, data, options and manual are JSON texts, which
  never hold a raw control character, and the packed field is digits, commas and a trigger word.
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/flushEvents"
--- @include "includes/recoverExpired"
--- @include "includes/promoteDue"
--- @include "includes/claimJobs"
--- @include "includes/nextWakeIn"
--- @include "generated/transitions"
local P = ARGV[1]
local now = nowMs()
local recovered = recoverExpired(KEYS, P, now)
promoteDue(KEYS, P, now)
local meta = rcall('HMGET', KEYS[1], 'paused', 'rlq', 'rlg', 'rqt', 'gm')
local paused = meta[1] == '1'
local jobs = {}
local blocked = false
local tokenAt = nil
if not paused then
  RL.init(meta[2], meta[3], meta[4])
  jobs, blocked, tokenAt = claimJobs(KEYS, P, now, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1',
    meta[5] == '1')
end
local out = { recovered, paused and 1 or 0, -1, CLAIM_OPTS_LIST, table.concat(jobs, '\30') }
if #jobs == 0 then
  if blocked then out[3] = SUSPECT_RECHECK_MS else out[3] = nextWakeIn(KEYS, now, tokenAt) end
elseif tokenAt then
  -- A rate limit stopped the claim before max: when its next token exists.
  out[3] = nextWakeIn(KEYS, now, tokenAt)
end
flushEvents(KEYS, now)
return out
