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
--- @include "includes/rollup"
--- @include "generated/keys"
--- @include "generated/transitions"
-- Recovers jobs whose lease expired: the attempt is recorded as stalled; the job goes back to
-- waiting (trigger "stall") or, at its maxStalls-th stall, is dead-lettered as poison so a job that
-- kills its worker cannot loop forever (isPoison, stallAttemptEnd: src/transitions.ts). Returns how
-- many were recovered. A stalled attempt counts in the retry analytics rollups (includes/rollup),
-- a poison job as dead, like an attempt the finish ends.
local function recoverExpired(K, P, now)
  local ids = rcall('ZRANGEBYSCORE', K[4], '-inf', now, 'LIMIT', 0, 100)
  local back = 0
  local recovered = 0
  local died = false
  local ru = nil -- { acc, lab, rum } once a job was recovered and the queue keeps rollups; false: it does not
  for _, id in ipairs(ids) do
    local jk = P .. KEY_JOB .. id
    rcall('ZREM', K[4], id)
    local f = rcall('HMGET', jk, 'cur', 'trg', 'due', 'sa', 'wid', 'sc', 'ms', 'man', 'st', 'pr', 'grp', 'cw', 'name',
      'ru')
    if f[1] and f[9] == 'active' then
      recovered = recovered + 1
      local cur = tonumber(f[1])
      local sc = tonumber(f[6]) + 1
      local ms = tonumber(f[7])
      local poison = isPoison(sc, ms)
      local ending = stallAttemptEnd(sc, ms, now)
      local rec = attemptRecord(f[1], f[2], f[3], f[4], S(now), f[5], ending, f[8], f[12])
      appendAttempt(P, id, rec)
      local class = stallErrorClass(sc, ms)
      local jx = {}
      if ru == nil then
        local m = rcall('HMGET', K[1], 'nro', 'rum')
        ru = m[1] ~= '1' and { {}, {}, m[2] } or false
      end
      if ru then
        -- (ru: RU.pack; a first attempt has none yet, its due time becomes fd)
        local rk, rks = '', ''
        if f[1] ~= '1' then rk, rks = RU.unpack(f[14], jk) end
        local fp, label, reason = '', '', ''
        if poison then
          fp, label, reason = POISON_FINGERPRINT, POISON_LABEL, 'poison'
        end
        local nrk, nrks = RU.attemptEnd(ru[1], ru[2], f[13] or '', cur, 'stalled', poison and 'dead' or 'retry', reason,
          class, STALL_RULE, fp, label, tonumber(f[4]) - tonumber(f[3]), 0, rk, rks)
        jx = { 'ru', RU.pack(nrk, nrks) }
        if f[1] == '1' then
          jx[3] = 'fd'
          jx[4] = f[3]
        end
      end
      rcall('HSET', jk, 'n', cur, 'sc', sc, 'trg', 'stall', unpack(jx))
      if f[8] and f[8] ~= '' then rcall('HSET', jk, 'man', '') end
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
  if ru then RU.flush(P, K[1], now, ru[1], ru[2], ru[3]) end
  if died then applyRetention(K, P, 'dead', now) end
  wake(K, back)
  return recovered
end
