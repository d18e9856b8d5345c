--- @include "includes/rcall"
--- @include "includes/S"
--- @include "generated/keys"
--- @include "generated/transitions"
-- The retry analytics rollups: the twin of rollupIncrements, rollupJobKeys, rollupWrite and
-- rollupTimeBucket in src/rollup.ts (see there). Every name lives in the table RU (a script has at
-- most 200 locals; the generated constants are locals of the block below only).
--
-- RU.attemptEnd collects what one attempt end adds into `acc` (name → metric → key → count) and
-- `lab` (fingerprint → label), and answers what the job remembers next (`rk`, `rks`);
-- RU.cancel counts a cancel; RU.flush writes them once per script call into the minute bucket of
-- `now`. Only the minute bucket is written per call: the minute bucket not yet folded into its hour
-- bucket is named by the queue's meta field `rum`, and when a call writes a newer minute it first
-- folds that one into its hour (one HGETALL and one write per field, once a minute, not per call).
-- Until then the minute bucket lives as long as an hour bucket; readers of hour buckets add the
-- unfolded minute (redis-backend.ts readRollups).
-- RU.NONE: no extra job hash field to write (most finishes).
local RU = { NONE = {} }
do
  --- @include "generated/rollup"
  local SEP = ROLLUP_SEP
  local JSEP = ROLLUP_JOB_KEYS_SEP
  -- The key kind of each metric counted by key (ROLLUP_KEYED).
  local KIND = {
    [ROLLUP_FAILED_CLASS] = 'c', [ROLLUP_DEAD_CLASS] = 'c', [ROLLUP_NEXT_CLASS] = 'c',
    [ROLLUP_NEXT_OK_CLASS] = 'c', [ROLLUP_RECOVERED_CLASS] = 'c', [ROLLUP_LOST_CLASS] = 'c',
    [ROLLUP_FAILED_RULE] = 'r', [ROLLUP_DEAD_RULE] = 'r', [ROLLUP_NEXT_RULE] = 'r',
    [ROLLUP_NEXT_OK_RULE] = 'r', [ROLLUP_RECOVERED_RULE] = 'r', [ROLLUP_LOST_RULE] = 'r',
    [ROLLUP_FAILED_FINGERPRINT] = 'f', [ROLLUP_DEAD_FINGERPRINT] = 'f', [ROLLUP_NEXT_FINGERPRINT] = 'f',
    [ROLLUP_NEXT_OK_FINGERPRINT] = 'f', [ROLLUP_RECOVERED_FINGERPRINT] = 'f', [ROLLUP_LOST_FINGERPRINT] = 'f',
  }
  local bounds = false
  -- Twins of keyedFailure and rollupVerdict (src/rollup.ts).
  local function keyedFailure(outcome)
    return countsAsFailure(outcome) or outcome == 'stalled'
  end
  local function rollupVerdict(outcome)
    return outcome == 'succeeded' or keyedFailure(outcome)
  end

  -- A bucket finder: a binary search over the bounds, after a look at the bucket it found last
  -- (the jobs of one call tend to share their buckets: one or two comparisons each).
  local function bucketer()
    local ci, clo, chi = 0, -1e300, -1e300
    return function(ms)
      if ms >= clo and ms < chi then return ci end
      if not bounds then bounds = cjson.decode(ROLLUP_TIME_BOUNDS_MS) end
      local b = bounds
      -- The bucket is the number of bounds <= ms: the largest lo with b[lo] <= ms (b[0] = -inf).
      local lo, hi = 0, #b
      while lo < hi do
        local mid = lo + hi + 1
        mid = (mid - mid % 2) / 2
        if ms >= b[mid] then lo = mid else hi = mid - 1 end
      end
      ci = lo
      if lo == 0 then clo = -1e300 else clo = b[lo] end
      chi = b[lo + 1] or 1e300
      return lo
    end
  end
  local ttsBucket = bucketer()
  local driftBucket = bucketer()
  RU.timeBucket = bucketer()

  -- acc[name][metric][key] = count: per attempt end only table lookups (no text is built); the
  -- field names are spelled once per distinct field, at the flush.
  local function add(acc, name, metric, key, by)
    local m = acc[name]
    if not m then
      m = {}
      acc[name] = m
    end
    local t = m[metric]
    if not t then
      t = {}
      m[metric] = t
    end
    t[key] = (t[key] or 0) + (by or 1)
  end
  RU.add = add

  -- What a job remembers after an attempt (twin of rollupJobKeys): rk, rks.
  local function jobKeys(outcome, class, rule, fp, rk, rks)
    if not keyedFailure(outcome) then
      if outcome == 'succeeded' then return '', rks end
      return rk, rks
    end
    local seen = rks
    local count = 0
    if seen ~= '' then
      local _, c = string.gsub(seen, JSEP, '')
      count = c - 1
    end
    for _, k in ipairs({ 'c:' .. class, 'r:' .. rule, 'f:' .. fp }) do
      if #k > 2 and not string.find(seen, JSEP .. k .. JSEP, 1, true) then
        if count >= ROLLUP_JOB_KEYS_MAX then break end
        if seen == '' then seen = JSEP .. k .. JSEP else seen = seen .. k .. JSEP end
        count = count + 1
      end
    end
    local last = ''
    if class ~= '' or rule ~= '' or fp ~= '' then last = class .. SEP .. rule .. SEP .. fp end
    return last, seen
  end
  RU.jobKeys = jobKeys

  -- Per attempt end only table increments: what is counted under a job's keys is counted per
  -- distinct key text (the keys of one attempt `class SEP rule SEP fp`, or a job's `rks`) under
  -- a pseudo-metric of acc, and spelled out into the real metrics once per distinct text, at the
  -- flush (expand). The rks a failure leaves is cached per (rks, keys) for the call.
  local TRIPLE = {
    ['#F'] = { ROLLUP_FAILED_CLASS, ROLLUP_FAILED_RULE, ROLLUP_FAILED_FINGERPRINT },
    ['#D'] = { ROLLUP_DEAD_CLASS, ROLLUP_DEAD_RULE, ROLLUP_DEAD_FINGERPRINT },
    ['#N'] = { ROLLUP_NEXT_CLASS, ROLLUP_NEXT_RULE, ROLLUP_NEXT_FINGERPRINT },
    ['#O'] = { ROLLUP_NEXT_OK_CLASS, ROLLUP_NEXT_OK_RULE, ROLLUP_NEXT_OK_FINGERPRINT },
  }
  local SET = {
    ['#R'] = { c = ROLLUP_RECOVERED_CLASS, r = ROLLUP_RECOVERED_RULE, f = ROLLUP_RECOVERED_FINGERPRINT },
    ['#L'] = { c = ROLLUP_LOST_CLASS, r = ROLLUP_LOST_RULE, f = ROLLUP_LOST_FINGERPRINT },
  }
  local seenCache = {}

  local function bump(m, metric, key)
    local t = m[metric]
    if not t then
      t = {}
      m[metric] = t
    end
    t[key] = (t[key] or 0) + 1
  end

  -- One attempt end: n a number, drift and tts (time to success, successes only) numbers in ms;
  -- reason, class, rule, fp, label, rk, rks texts ('' = none). Returns the job's next rk, rks.
  function RU.attemptEnd(acc, lab, name, n, outcome, action, reason, class, rule, fp, label, drift, tts, rk, rks)
    if n > ROLLUP_MAX_ATTEMPT then n = ROLLUP_MAX_ATTEMPT end
    local m = acc[name]
    if not m then
      m = { [ROLLUP_ATTEMPTS] = {}, [ROLLUP_DRIFT] = {}, [ROLLUP_SUCCEEDED] = {}, [ROLLUP_TIME_TO_SUCCESS] = {} }
      acc[name] = m
    end
    local t = m[ROLLUP_ATTEMPTS]
    t[n] = (t[n] or 0) + 1
    local k = driftBucket(drift)
    t = m[ROLLUP_DRIFT]
    t[k] = (t[k] or 0) + 1
    if action == 'done' and outcome == 'succeeded' then
      -- The hot path (most attempt ends), inline.
      t = m[ROLLUP_SUCCEEDED]
      t[n] = (t[n] or 0) + 1
      k = ttsBucket(tts)
      t = m[ROLLUP_TIME_TO_SUCCESS]
      t[k] = (t[k] or 0) + 1
      if rk ~= '' then
        bump(m, '#N', rk)
        bump(m, '#O', rk)
      end
      if rks ~= '' then bump(m, '#R', rks) end
      return '', rks
    end
    local keyed = countsAsFailure(outcome)
    if keyed then bump(m, ROLLUP_FAILED, n) end
    if outcome == 'stalled' then
      bump(m, ROLLUP_STALLED, n)
      keyed = true
    end
    local keys = class .. SEP .. rule .. SEP .. fp
    if keyed then bump(m, '#F', keys) end
    -- Only a text labels (the worker sends one with a dead-letter): an empty one would overwrite it.
    if fp ~= '' and label ~= '' and (keyed or action == 'dead') then lab[fp] = label end
    if rk ~= '' and (keyed or outcome == 'succeeded') then
      bump(m, '#N', rk)
      if outcome == 'succeeded' then bump(m, '#O', rk) end
    end
    local nrk, nrks = rk, rks
    if keyed then
      if keys == SEP .. SEP then nrk = '' else nrk = keys end
      if nrk ~= rk then
        -- (the same keys as the last failure leave rks as it is: a fixed point of jobKeys)
        local c = seenCache[rks]
        if not c then
          c = {}
          seenCache[rks] = c
        end
        nrks = c[keys]
        if not nrks then
          local _
          _, nrks = jobKeys(outcome, class, rule, fp, rk, rks)
          c[keys] = nrks
        end
      end
    elseif outcome == 'succeeded' then
      nrk = ''
    end
    if action == 'dead' then
      bump(m, ROLLUP_DEAD, n)
      bump(m, ROLLUP_DEAD_REASON, reason)
      bump(m, '#D', keys)
      if nrks ~= '' then bump(m, '#L', nrks) end
    end
    return nrk, nrks
  end

  -- What the rollups keep on a job hash besides fd (the due time of its first attempt, its own
  -- field, written once): the keys of its last failure (rk) and every key it failed with (rks), in
  -- one field `ru` = `<#rk>:<rk><rks>` (rk length-prefixed: its texts are free), where rks is left
  -- out when it is what rk alone gives (a job that failed with one set of keys, most do): one
  -- field of ~45 bytes, under the 64 that keep the job hash a listpack (hash-max-listpack-value),
  -- where rk and rks took two fields and ~95 bytes. Written at a failure that changes them; a
  -- success leaves it (a completed job never runs again: replay takes dead jobs only), so what a
  -- success clears is cleared in the finish's memory, not on the hash.
  local canonCache = {}
  -- The rks of a job whose only failure keys are rk's (false: rk is not three texts).
  local function canon(rk)
    local c = canonCache[rk]
    if c == nil then
      local a = string.find(rk, SEP, 1, true)
      local b = a and string.find(rk, SEP, a + 1, true)
      c = false
      if b then
        local _
        _, c = jobKeys('failed', string.sub(rk, 1, a - 1), string.sub(rk, a + 1, b - 1), string.sub(rk, b + 1), '', '')
      end
      canonCache[rk] = c
    end
    return c
  end
  function RU.pack(rk, rks)
    if rk ~= '' and rks == canon(rk) then return #rk .. ':' .. rk end
    return #rk .. ':' .. rk .. rks
  end
  -- rk, rks from an `ru` field; without one, from the two fields the releases before `ru` kept (a
  -- job that failed under one of them), or none.
  function RU.unpack(ru, jk)
    if ru then
      local _, e, n = string.find(ru, '^(%d+):')
      if e then
        n = tonumber(n)
        local rk, rks = string.sub(ru, e + 1, e + n), string.sub(ru, e + n + 1)
        -- (a job with an rk has an rks: an empty one is rk's own)
        if rks == '' and rk ~= '' then rks = canon(rk) or '' end
        return rk, rks
      end
    end
    local old = rcall('HMGET', jk, 'rk', 'rks')
    return old[1] or '', old[2] or ''
  end

  -- Spells the pseudo-metrics of acc out into the real metrics (see RU.attemptEnd).
  local function expand(acc)
    for name, m in pairs(acc) do
      for pm, metrics in pairs(TRIPLE) do
        local t = m[pm]
        if t then
          m[pm] = nil
          for keys, v in pairs(t) do
            local c, r, f = string.match(keys, '^(.-)\031(.-)\031(.*)$')
            if c then
              if c ~= '' then add(acc, name, metrics[1], c, v) end
              if r ~= '' then add(acc, name, metrics[2], r, v) end
              if f ~= '' then add(acc, name, metrics[3], f, v) end
            end
          end
        end
      end
      for pm, metrics in pairs(SET) do
        local t = m[pm]
        if t then
          m[pm] = nil
          for rks, v in pairs(t) do
            for k in string.gmatch(rks, '[^\030]+') do
              local metric = metrics[string.sub(k, 1, 1)]
              if metric then add(acc, name, metric, string.sub(k, 3), v) end
            end
          end
        end
      end
    end
  end

  -- A job of `name` cancelled while in `state`.
  function RU.cancel(acc, name, state)
    add(acc, name, ROLLUP_CANCELLED, state)
  end

  -- Admits `key` of `kind` into bucket bk (twin of rollupAdmit): false when the bucket holds
  -- ROLLUP_MAX_KEYS keys of that kind already. `seen` caches the answers of one write.
  local function admit(bk, kind, key, lab, seen)
    local ck = kind .. key
    local a = seen[ck]
    if a ~= nil then return a end
    local pf = ROLLUP_KEY .. SEP .. kind .. SEP .. key
    local label = kind == 'f' and lab[key] or ''
    local created
    if label ~= '' then created = rcall('HSET', bk, pf, label) == 1 else created = rcall('HSETNX', bk, pf, '') == 1 end
    a = true
    if created then
      local cf = ROLLUP_KEY_COUNT .. SEP .. kind .. SEP
      if rcall('HINCRBY', bk, cf, 1) > ROLLUP_MAX_KEYS then
        rcall('HINCRBY', bk, cf, -1)
        rcall('HDEL', bk, pf)
        a = false
      end
    end
    seen[ck] = a
    return a
  end

  -- Adds acc's counts to bucket bk (twin of rollupWrite): a keyed field new to the bucket admits
  -- its key first, or counts under ROLLUP_OTHER.
  local function write(bk, acc, lab)
    local seen = {}
    for name, metrics in pairs(acc) do
      local pre = SEP .. name .. SEP
      for metric, t in pairs(metrics) do
        local kind = KIND[metric]
        for key, v in pairs(t) do
          if type(key) == 'number' then key = S(key) end
          local f = metric .. pre .. key
          if rcall('HINCRBY', bk, f, v) == v and kind and key ~= ROLLUP_OTHER and not admit(bk, kind, key, lab, seen) then
            rcall('HDEL', bk, f)
            rcall('HINCRBY', bk, metric .. pre .. ROLLUP_OTHER, v)
          end
        end
      end
    end
  end

  -- Folds minute bucket `start` (text) into its hour bucket; the minute bucket then keeps its own
  -- expiry.
  local function fold(P, start)
    local mk = P .. KEY_ROLLUP_MINUTE .. start
    local flat = rcall('HGETALL', mk)
    if #flat == 0 then return end
    local acc, lab = {}, {}
    for i = 1, #flat, 2 do
      local metric, name, key = string.match(flat[i], '^([^\031]*)\031([^\031]*)\031(.*)$')
      if metric == ROLLUP_KEY then
        if name == 'f' and flat[i + 1] ~= '' then lab[key] = flat[i + 1] end
      elseif metric and metric ~= ROLLUP_KEY_COUNT then
        add(acc, name, metric, key, tonumber(flat[i + 1]))
      end
    end
    local m = tonumber(start)
    local h = m - m % ROLLUP_HOUR_MS
    local hk = P .. KEY_ROLLUP_HOUR .. S(h)
    write(hk, acc, lab)
    rcall('PEXPIREAT', hk, S(h + ROLLUP_HOUR_MS + ROLLUP_HOUR_KEEP_MS))
    rcall('PEXPIREAT', mk, S(m + ROLLUP_MINUTE_MS + ROLLUP_MINUTE_KEEP_MS))
  end

  -- Writes acc into the minute bucket of `now`; `rum` is the meta field of that name as this script
  -- call knows it (the minute bucket not folded yet; nil/'' = none), metaKey the queue's meta hash.
  function RU.flush(P, metaKey, now, acc, lab, rum)
    if next(acc) == nil then return end
    expand(acc)
    local m = now - now % ROLLUP_MINUTE_MS
    local ms = S(m)
    local mk = P .. KEY_ROLLUP_MINUTE .. ms
    write(mk, acc, lab)
    if rum ~= ms then
      if rum and rum ~= '' then fold(P, rum) end
      rcall('HSET', metaKey, 'rum', ms)
      -- Unfolded, it holds part of its hour: kept as long as the hour bucket.
      local h = m - m % ROLLUP_HOUR_MS
      rcall('PEXPIREAT', mk, S(h + ROLLUP_HOUR_MS + ROLLUP_HOUR_KEEP_MS))
    end
  end
end
