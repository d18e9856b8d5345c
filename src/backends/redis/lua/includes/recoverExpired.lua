--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/attemptRecord"
--- @include "includes/appendAttempt"
--- @include "includes/addDead"
--- @include "includes/evEnd"
--- @include "includes/applyRetention"
--- @include "includes/wake"
--- @include "includes/indexFacets"
--- @include "includes/stallFacets"
--- @include "includes/waitLevels"
--- @include "generated/keys"
--- @include "generated/transitions"
-- Recovers jobs whose lease expired: the attempt is recorded as stalled; the job goes back to
-- waiting (trigger "stall") or, at its maxStalls-th stall, is dead-lettered as poison so a job that
-- kills its worker cannot loop forever (isPoison, stallAttemptEnd: src/transitions.ts). Returns how
-- many were recovered.
local function recoverExpired(K, P, now)
  local ids = rcall('ZRANGEBYSCORE', K[4], '-inf', now, 'LIMIT', 0, 100)
  local back = 0
  local recovered = 0
  local died = false
  for _, id in ipairs(ids) do
    local jk = P .. KEY_JOB .. id
    rcall('ZREM', K[4], id)
    local f = rcall('HMGET', jk, 'cur', 'trg', 'due', 'sa', 'wid', 'sc', 'ms', 'man', 'st', 'pr', 'grp', 'rlw')
    if f[1] and f[9] == 'active' then
      recovered = recovered + 1
      local cur = tonumber(f[1])
      local sc = tonumber(f[6]) + 1
      local ms = tonumber(f[7])
      local poison = isPoison(sc, ms)
      local ending = stallAttemptEnd(sc, ms, now)
      local rec = attemptRecord(f[1], f[2], f[3], f[4], S(now), f[5], ending, f[8], f[12])
      appendAttempt(P, id, rec)
      rcall('HSET', jk, 'n', cur, 'sc', sc, 'trg', 'stall')
      if f[8] and f[8] ~= '' then rcall('HSET', jk, 'man', '') end
      local class = stallErrorClass(sc, ms)
      indexFacets(P, id, stallFacets(class, poison))
      if poison then
        rcall('HSET', jk, 'st', 'dead', 'dr', 'poison', 'dat', now, 'fp', POISON_FINGERPRINT, 'ec', LEASE_EXPIRED_CODE,
          'derr', LEASE_EXPIRED_ERROR, 'ft', now)
        addDead(K, P, id, POISON_FINGERPRINT, POISON_LABEL, now)
        evEnd(now, 'dead', id, f[1], f[5], 'stalled', class, tonumber(f[4]), tonumber(f[3]), 'reason', 'poison')
        died = true
      else
        rcall('HSET', jk, 'st', 'waiting', 'due', now)
        pushWaiting(K, P, id, tonumber(f[10] or '0'), f[11])
        evEnd(now, 'stalled', id, f[1], f[5], 'stalled', class, tonumber(f[4]), tonumber(f[3]), 'stalls', S(sc))
        back = back + 1
      end
    end
  end
  if died then applyRetention(K, P, 'dead', now) end
  wake(K, back)
  return recovered
end
