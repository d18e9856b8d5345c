--- @include "includes/rcall"
--- @include "includes/S"
--- @include "generated/keys"
--- @include "generated/rollup"
--- @include "generated/transitions"
-- The retry analytics rollups: the twin of rollupIncrements and rollupTimeBucket in src/rollup.ts
-- (see there). rollupEnd collects what one attempt end adds into `acc` (name → metric → key →
-- count) and `lab` (field → fingerprint label); flushRollups writes them once per script call into
-- the minute and the hour bucket of `now`, each with its own expiry.
local ROLLUP_BOUNDS = false
-- A bucket finder: a binary search over the bounds, after a look at the bucket it found last
-- (the jobs of one call tend to share their buckets: one or two comparisons each).
local function rollupBucketer()
  local ci, clo, chi = 0, -1e300, -1e300
  return function(ms)
    if ms >= clo and ms < chi then return ci end
    if not ROLLUP_BOUNDS then ROLLUP_BOUNDS = cjson.decode(ROLLUP_TIME_BOUNDS_MS) end
    local b = ROLLUP_BOUNDS
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
local rollupTimeBucket = rollupBucketer()
local rollupDriftBucket = rollupBucketer()

-- acc[name][metric][key] = count: per attempt end only table lookups (no text is built); the
-- field names are spelled once per distinct field, at the flush.
local function rollupAdd(acc, name, metric, key)
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
  t[key] = (t[key] or 0) + 1
end

-- One attempt end: n a number, drift and tts (time to success, successes only) numbers in ms;
-- reason, class, rule, fp, label texts ('' = none).
local function rollupEnd(acc, lab, name, n, outcome, action, reason, class, rule, fp, label, drift, tts)
  if n > ROLLUP_MAX_ATTEMPT then n = ROLLUP_MAX_ATTEMPT end
  local m = acc[name]
  if not m then
    m = { [ROLLUP_ATTEMPTS] = {}, [ROLLUP_DRIFT] = {}, [ROLLUP_SUCCEEDED] = {}, [ROLLUP_TIME_TO_SUCCESS] = {} }
    acc[name] = m
  end
  local t = m[ROLLUP_ATTEMPTS]
  t[n] = (t[n] or 0) + 1
  local k = rollupDriftBucket(drift)
  t = m[ROLLUP_DRIFT]
  t[k] = (t[k] or 0) + 1
  if action == 'done' and outcome == 'succeeded' then
    -- The hot path (most attempt ends), inline.
    t = m[ROLLUP_SUCCEEDED]
    t[n] = (t[n] or 0) + 1
    k = rollupTimeBucket(tts)
    t = m[ROLLUP_TIME_TO_SUCCESS]
    t[k] = (t[k] or 0) + 1
    return
  end
  local failed = countsAsFailure(outcome)
  if failed then
    rollupAdd(acc, name, ROLLUP_FAILED, n)
    if class ~= '' then rollupAdd(acc, name, ROLLUP_FAILED_CLASS, class) end
    if rule ~= '' then rollupAdd(acc, name, ROLLUP_FAILED_RULE, rule) end
    if fp ~= '' then rollupAdd(acc, name, ROLLUP_FAILED_FINGERPRINT, fp) end
  end
  -- Only a text labels (the worker sends one with a dead-letter): an empty one would overwrite it.
  if fp ~= '' and label ~= '' and (failed or action == 'dead') then
    lab[ROLLUP_LABEL .. ROLLUP_SEP .. ROLLUP_SEP .. fp] = label
  end
  if action == 'dead' then
    rollupAdd(acc, name, ROLLUP_DEAD, n)
    rollupAdd(acc, name, ROLLUP_DEAD_REASON, reason)
    if class ~= '' then rollupAdd(acc, name, ROLLUP_DEAD_CLASS, class) end
    if rule ~= '' then rollupAdd(acc, name, ROLLUP_DEAD_RULE, rule) end
    if fp ~= '' then rollupAdd(acc, name, ROLLUP_DEAD_FINGERPRINT, fp) end
  end
end

-- Writes the counts into both buckets. A bucket's expiry is set when it is created: then every
-- field of the flush is new, among them an attempts field (every attempt end adds one), whose
-- HINCRBY answers exactly its increment; a flush that creates no attempts field leaves the expiry
-- alone (it was set when the bucket was created).
local function flushRollups(P, now, acc, lab)
  if next(acc) == nil then return end
  local m = now - now % ROLLUP_MINUTE_MS
  local h = now - now % ROLLUP_HOUR_MS
  local mk = P .. KEY_ROLLUP_MINUTE .. S(m)
  local hk = P .. KEY_ROLLUP_HOUR .. S(h)
  local newM, newH = false, false
  for name, metrics in pairs(acc) do
    local pre = ROLLUP_SEP .. name .. ROLLUP_SEP
    for metric, t in pairs(metrics) do
      local isA = metric == ROLLUP_ATTEMPTS
      for key, v in pairs(t) do
        local f
        if type(key) == 'number' then f = metric .. pre .. S(key) else f = metric .. pre .. key end
        local a = rcall('HINCRBY', mk, f, v)
        local b = rcall('HINCRBY', hk, f, v)
        if isA then
          if a == v then newM = true end
          if b == v then newH = true end
        end
      end
    end
  end
  for f, v in pairs(lab) do
    rcall('HSET', mk, f, v)
    rcall('HSET', hk, f, v)
  end
  if newM then rcall('PEXPIREAT', mk, S(m + ROLLUP_MINUTE_MS + ROLLUP_MINUTE_KEEP_MS)) end
  if newH then rcall('PEXPIREAT', hk, S(h + ROLLUP_HOUR_MS + ROLLUP_HOUR_KEEP_MS)) end
end
