--[[
  Claims up to `max` jobs for a worker, each with a lease. First recovers expired leases and
  promotes due scheduled jobs, so an idle worker that wakes at a due time starts that job now.
  ARGV[1] key prefix  ARGV[2] worker id  ARGV[3] lease ms  ARGV[4] max
  ARGV[5] lease-expired error JSON  ARGV[6] poison fingerprint  ARGV[7] poison label
  ARGV[8] '1' when the worker is idle and may take a suspect (a job that stalled before) alone
  Returns { recovered, paused (1|0), nextWakeInMs (-1 = none or jobs claimed), options, job, job, ... }
  where options is a flat { digest, options JSON, ... } of the claimed jobs' interned options, once
  each, and each job is { id, name, data, options digest, packed, manual JSON ('' = none) } with
  packed = "attempt,trigger,dueAt,startedAt,leaseExpiresAt,failures,stalls,prevDelayMs ('' =
  none),exclusive (1|0)". The attempt number is the lease token. Packed, because a client decodes
  a reply element by element: 6 per job instead of 14 made a claim of 50 cheaper to read.
]]
--- @include "includes/base"
local P = ARGV[1]
local now = nowMs()
local recovered = recoverExpired(KEYS, P, now, ARGV[5], ARGV[6], ARGV[7])
promoteDue(KEYS, P, now)
local paused = rcall('HGET', KEYS[1], 'paused') == '1'
local jobs = {}
local blocked = false
if not paused then jobs, blocked = claimJobs(KEYS, P, now, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[8] == '1') end
local out = { recovered, paused and 1 or 0, -1, CLAIM_OPTS_LIST }
for _, j in ipairs(jobs) do out[#out + 1] = j end
if #jobs == 0 then
  if blocked then out[3] = SUSPECT_RECHECK_MS else out[3] = nextWakeIn(KEYS, now) end
end
flushEvents(KEYS, now)
return out
