--[[
  Claims up to `max` jobs for a worker, each with a lease. First recovers expired leases and
  promotes due scheduled jobs, so an idle worker that wakes at a due time starts that job now.
  ARGV[1] key prefix  ARGV[2] worker id  ARGV[3] lease ms  ARGV[4] max
  ARGV[5] lease-expired error JSON  ARGV[6] poison fingerprint  ARGV[7] poison label
  Returns { recovered, paused (1|0), nextWakeInMs (-1 = none), job, job, ... } where each job is
  { id, name, data, opts, attempt, trigger, dueAt, startedAt, leaseExpiresAt, failures, stalls,
    prevDelayMs ('' = none), manual JSON ('' = none) }. The attempt number is the lease token.
]]
--- @include "includes/base"
local P = ARGV[1]
local wid = ARGV[2]
local leaseMs = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local now = nowMs()
local recovered = recoverExpired(KEYS, P, now, ARGV[5], ARGV[6], ARGV[7])
promoteDue(KEYS, P, now)
local paused = rcall('HGET', KEYS[1], 'paused') == '1'
local out = { recovered, paused and 1 or 0, -1 }
if not paused then
  local ids = rcall('RPOP', KEYS[2], max)
  if ids then
    local le = now + leaseMs
    for _, id in ipairs(ids) do
      local jk = P .. 'j:' .. id
      local f = rcall('HMGET', jk, 'name', 'data', 'opts', 'n', 'trg', 'due', 'fl', 'sc', 'pd', 'man')
      if f[1] then
        local n = tonumber(f[4]) + 1
        rcall('HSET', jk, 'st', 'active', 'cur', n, 'wid', wid, 'sa', now, 'le', le)
        rcall('ZADD', KEYS[4], le, id)
        emit(KEYS, now, 'active', id, 'attempt', n, 'worker', wid)
        out[#out + 1] = { id, f[1], f[2], f[3], n, f[5], f[6], now, le, f[7], f[8], f[9] or '', f[10] or '' }
      end
    end
  end
end
if #out == 3 then
  local nextAt = earliestDue(KEYS)
  local firstLease = rcall('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if firstLease[2] and (nextAt == nil or tonumber(firstLease[2]) < nextAt) then nextAt = tonumber(firstLease[2]) end
  if nextAt then
    local wait = nextAt - now
    if wait < 0 then wait = 0 end
    out[3] = wait
  end
end
return out
