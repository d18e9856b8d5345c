--- @include "includes/rcall"
--- @include "generated/keys"
--- @include "generated/rate-limit"
-- Rate limits (src/rate-limit.ts): the queue's bucket and the groups' buckets, read at most once
-- per script call and written back at its end (rlFlush). A limit is stored as
-- `intervalMs,burst,rate,per,label` (encodeRateLimit), a bucket's state as its `tat` (%.17g: a
-- double read back exactly, so the arithmetic is the TypeScript's, bit for bit).

-- Every name of this include lives in the table RL (a script has at most 200 locals).
local RL = { q = nil, qtat = 0, qdirty = false, g = nil, groups = {} }

function RL.limit(text)
  if not text or text == '' then return nil end
  local iv, b, label = string.match(text, '^([^,]*),([^,]*),[^,]*,[^,]*,(.*)$')
  return { iv = tonumber(iv), b = tonumber(b), label = label }
end

-- The bucket of a pause without a limit: interval 0, burst 1 (a token once the pause is over).
RL.PAUSE_ONLY = { iv = 0, b = 1, label = RATE_LIMIT_PAUSE_LABEL }

-- Per call (the fields of RL): the queue's limit and state (meta `rlq`, `rqt`), the default group
-- limit (`rlg`), and the groups' buckets met so far (g -> { lim, tat, dirty }).

-- From the meta fields `rlq`, `rlg`, `rqt` (read by the caller with its own HMGET).
function RL.init(rlq, rlg, rqt)
  RL.q = RL.limit(rlq)
  RL.g = RL.limit(rlg)
  RL.qtat = tonumber(rqt or '0') or 0
end

-- The queue's bucket: nil when it has neither a limit nor a pause's state (a pause's state is
-- kept until the first claim after it, which records the wait and drops it: rlFlush).
function RL.queue()
  if RL.q then return RL.q end
  if RL.qtat > 0 then return RL.PAUSE_ONLY end
  return nil
end

-- Group g's bucket and its state { lim (its limit, or nil), tat }: the bucket is nil when the
-- group has neither a limit nor a pause's state.
function RL.group(P, g)
  local b = RL.groups[g]
  if not b then
    local own = RL.limit(rcall('HGET', P .. KEY_RATE_GROUP_LIMITS, g))
    b = { lim = own or RL.g, tat = tonumber(rcall('HGET', P .. KEY_RATE_GROUP_STATE, g) or '0') or 0 }
    RL.groups[g] = b
  end
  if not b.lim and b.tat > 0 then return RL.PAUSE_ONLY, b end
  return b.lim, b
end

-- How long a job due at `due` waited for a token that existed from `at` (rateLimitWaitedMs).
function RL.waitedFor(at, due)
  if at > due then return math.floor(at - due + 0.5) end
  return 0
end

-- The record of a rate-limit wait (rateLimitWait in src/rate-limit.ts), as JSON.
function RL.waitJson(scope, g, label, waited)
  local ws = string.format('%d', waited)
  if scope == 'group' then
    return '{"scope":"group","group":"' .. g .. '","limit":"' .. label .. '","waitedMs":' .. ws ..
      ',"explanation":"rate limit ' .. g .. ': ' .. label .. ', waited ' .. ws .. ' ms"}'
  end
  return '{"scope":"queue","limit":"' .. label .. '","waitedMs":' .. ws ..
    ',"explanation":"queue rate limit: ' .. label .. ', waited ' .. ws .. ' ms"}'
end

-- A handler's pause (RateLimitError): scope 'q' the queue, 'g' group g, for pauseMs from now.
function RL.pause(P, scope, g, now, pauseMs)
  if scope == 'g' then
    local _, b = RL.group(P, g)
    local lim = b.lim or RL.PAUSE_ONLY
    b.tat = bucketPaused(b.tat, now, pauseMs, lim.iv, lim.b)
    b.dirty = true
  else
    local lim = RL.q or RL.PAUSE_ONLY
    RL.qtat = bucketPaused(RL.qtat, now, pauseMs, lim.iv, lim.b)
    RL.qdirty = true
  end
end

-- At most this many expired pause records go per new group pause (PAUSE_PRUNE in the memory backend).
RL.PAUSE_PRUNE = 16

-- Why a bucket is paused, for the rate-limit view (RateLimitPauseRecord in src/rate-limit.ts): the
-- queue's in meta `rqp`, a group's in `rlp` ranked by its end in `rlpz` (a new group pause drops up
-- to RL.PAUSE_PRUNE records that are over, so they do not pile up).
-- `ending`: the attempt's ending JSON ({outcome, error?, ...}), whose error's message says why.
function RL.notePause(K, P, scope, g, now, pauseMs, id, attempt, ending)
  local msg = ''
  local ok, e = pcall(cjson.decode, ending or '')
  if ok and type(e) == 'table' and type(e.error) == 'table' and type(e.error.message) == 'string' then
    msg = e.error.message
  end
  local why = cjson.encode({ at = now, ['until'] = now + pauseMs, jobId = id, attempt = attempt, message = msg })
  if scope == 'g' then
    local over = rcall('ZRANGEBYSCORE', P .. KEY_RATE_PAUSED, '-inf', now, 'LIMIT', 0, RL.PAUSE_PRUNE)
    if #over > 0 then
      rcall('HDEL', P .. KEY_RATE_PAUSE, unpack(over))
      rcall('ZREM', P .. KEY_RATE_PAUSED, unpack(over))
    end
    rcall('HSET', P .. KEY_RATE_PAUSE, g, why)
    rcall('ZADD', P .. KEY_RATE_PAUSED, now + pauseMs, g)
  else
    rcall('HSET', K[1], 'rqp', why)
  end
end

-- Writes the buckets this call changed; drops the state of a pause without a limit that is over.
function RL.flush(K, P, now)
  if RL.qdirty then
    if not RL.q and RL.qtat <= now then
      rcall('HDEL', K[1], 'rqt')
      RL.qtat = 0
    else
      rcall('HSET', K[1], 'rqt', string.format('%.17g', RL.qtat))
    end
  end
  RL.qdirty = false
  local args = {}
  for g, b in pairs(RL.groups) do
    if b.dirty then
      if not b.lim and b.tat <= now then
        rcall('HDEL', P .. KEY_RATE_GROUP_STATE, g)
        b.tat = 0
      else
        args[#args + 1] = g
        args[#args + 1] = string.format('%.17g', b.tat)
      end
      b.dirty = false
    end
  end
  if #args > 0 then rcall('HSET', P .. KEY_RATE_GROUP_STATE, unpack(args)) end
end
