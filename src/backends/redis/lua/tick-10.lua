--[[
  Applies planned scheduler ticks (planTick, made by the scheduler loop for each scheduler as it
  read it). Each is applied only if the scheduler's next run and spec are still the ones planned
  for (else 'stale': another process ticked it first, or it was upserted, paused or removed) and
  its next run is due by this server's clock (else 'early'), so two processes ticking together
  create each job once. For each planned occurrence: skipped if the overlap policy is 'skip' and
  the job it created last is not finished; else a job is created through createJob (as add does),
  id sch:<scheduler>:<planned ms>, trigger 'schedule', due at its planned time (so its first
  attempt's drift counts from the plan), waiting at once, in its priority's list or its group (pushWaiting, as add). Every tick goes to the ledger (missed
  occurrences as one entry), capped at TICK_LEDGER_LENGTH; then the next run is set. A skipped
  occurrence (or run of missed ones) is also a `tick-skipped` event {scheduler, reason, plannedAt,
  count}; a created job's `added` event names its scheduler.
  ARGV[1] key prefix  ARGV[2] count; per scheduler: id, expected next run, spec text, next run,
  missed first, last, count ('' first = none), '1' = more were missed, N, then N planned times.
  Returns per scheduler { status, created ids... }
]]
--- @include "includes/rcall"
--- @include "includes/waitLevels"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/wake"
--- @include "includes/internOpts"
--- @include "includes/optRefs"
--- @include "includes/waitLevels"
--- @include "includes/createJob"
--- @include "generated/keys"
--- @include "generated/schedule"
local P = ARGV[1]
local count = tonumber(ARGV[2])
local now = nowMs()
local nowS = S(now)
local zk = P .. KEY_SCHEDULERS
local out = {}
local waitIds = {}
local wakeN = 0
local a = 3
for _ = 1, count do
  local id, expect, spec, nextS = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local mFirst, mLast, mCount, mMore = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local nf = tonumber(ARGV[a + 8])
  local fireAt = a + 9
  a = a + 9 + nf
  local hk = P .. KEY_SCHEDULER .. id
  local h = rcall('HMGET', hk, 'nx', 'spec', 'pz', 'ovl', 'lj', 'name', 'data', 'opts', 'ms', 'pr', 'grp', 'mis')
  if h[1] ~= expect or h[2] ~= spec or h[3] == '1' then
    out[#out + 1] = { 'stale' }
  elseif tonumber(expect) > now then
    out[#out + 1] = { 'early' }
  else
    local res = { 'ticked' }
    local lk = P .. KEY_TICKS .. id
    local entries = {}
    if mFirst ~= '' then
      entries[#entries + 1] = '{"plannedAt":' .. mFirst .. ',"at":' .. nowS ..
        ',"outcome":"skipped","reason":"missed","count":' .. mCount .. ',"lastPlannedAt":' .. mLast ..
        (mMore == '1' and ',"more":true' or '') .. '}'
      ev('tick-skipped', '', 'scheduler', id, 'reason', 'missed', 'plannedAt', mFirst, 'count', mCount)
    end
    local last = h[5]
    local digest = nil
    for f = 0, nf - 1 do
      local p = ARGV[fireAt + f]
      local overlap = false
      if h[4] == 'skip' and last ~= '' then
        local st = rcall('HGET', P .. KEY_JOB .. last, 'st')
        overlap = st == 'scheduled' or st == 'waiting' or st == 'active'
      end
      if overlap then
        entries[#entries + 1] = '{"plannedAt":' .. p .. ',"at":' .. nowS ..
          ',"outcome":"skipped","reason":"overlap"}'
        ev('tick-skipped', '', 'scheduler', id, 'reason', 'overlap', 'plannedAt', p, 'count', '1')
      else
        local jobId = SCHEDULED_JOB_PREFIX .. id .. ':' .. p
        if rcall('EXISTS', P .. KEY_JOB .. jobId) == 0 then
          if digest == nil then digest = internOpts(P, h[8]) end
          refOpts(digest) -- a job created holds one reference to its options
          local st = createJob(P, jobId, h[6], h[7], digest, h[9], tonumber(p), now, nowS, '', 'schedule',
            '{"id":"' .. id .. '","plannedAt":' .. p .. '}', id)
          -- As add: the priority and group only when given, and a prioritised job waits in its
          -- level, a grouped one in its group.
          local pr = tonumber(h[10] or '0') or 0
          local grp = h[11]
          if grp == '' then grp = false end
          if pr ~= 0 then rcall('HSET', P .. KEY_JOB .. jobId, 'pr', h[10]) end
          -- What its first attempt records (`schedule`, scheduledTick in src/schedule.ts): its
          -- claim keeps it while the trigger is 'schedule'.
          rcall('HSET', P .. KEY_JOB .. jobId, 'cw', '{"schedule":{"scheduler":"' .. id .. '","missed":"' ..
            (h[12] or 'skip') .. '",' .. string.sub(scheduledTickTimes(tonumber(p), now, tonumber(mCount) or 0), 2) .. '}')
          if grp then rcall('HSET', P .. KEY_JOB .. jobId, 'grp', grp) end
          if st == 'waiting' and (pr ~= 0 or grp) then
            pushWaiting(KEYS, P, jobId, pr, grp)
            wakeN = wakeN + 1
          elseif st == 'waiting' then
            waitIds[#waitIds + 1] = jobId
          else
            rcall('ZADD', KEYS[3], p, jobId)
          end
          res[#res + 1] = jobId
        end
        last = jobId
        entries[#entries + 1] = '{"plannedAt":' .. p .. ',"at":' .. nowS ..
          ',"outcome":"created","jobId":"' .. jobId .. '"}'
      end
    end
    if #entries > 0 then
      rcall('LPUSH', lk, unpack(entries))
      rcall('LTRIM', lk, 0, TICK_LEDGER_LENGTH - 1)
    end
    rcall('HSET', hk, 'nx', nextS, 'lj', last, 'lt', nowS)
    rcall('ZADD', zk, nextS, id)
    out[#out + 1] = res
  end
end
flushOptRefs(P)
pushPlain(KEYS, P, waitIds)
wake(KEYS, wakeN + #waitIds)
flushEvents(KEYS, now)
return out
