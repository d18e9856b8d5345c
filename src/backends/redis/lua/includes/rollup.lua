--- @include "includes/rcall"
--- @include "includes/S"
--- @include "generated/keys"
--- @include "generated/rollup"
--- @include "generated/transitions"
-- The retry analytics rollups: the twin of rollupIncrements and rollupTimeBucket in src/rollup.ts
-- (see there). rollupEnd collects what one attempt end adds into `acc` (field → count) and `lab`
-- (field → fingerprint label); flushRollups writes them once per script call into the minute and
-- the hour bucket of `now`, each with its own expiry.
local ROLLUP_BOUNDS = false
local function rollupTimeBucket(ms)
  if not ROLLUP_BOUNDS then ROLLUP_BOUNDS = cjson.decode(ROLLUP_TIME_BOUNDS_MS) end
  local i = 0
  local nb = #ROLLUP_BOUNDS
  while i < nb and ms >= ROLLUP_BOUNDS[i + 1] do i = i + 1 end
  return i
end

local function rollupAdd(acc, f)
  acc[f] = (acc[f] or 0) + 1
end

-- One attempt end: n a number, drift and tts (time to success, successes only) numbers in ms;
-- reason, class, rule, fp, label texts ('' = none).
local function rollupEnd(acc, lab, name, n, outcome, action, reason, class, rule, fp, label, drift, tts)
  local pre = ROLLUP_SEP .. name .. ROLLUP_SEP
  if n > ROLLUP_MAX_ATTEMPT then n = ROLLUP_MAX_ATTEMPT end
  local ns = S(n)
  rollupAdd(acc, ROLLUP_ATTEMPTS .. pre .. ns)
  rollupAdd(acc, ROLLUP_DRIFT .. pre .. S(rollupTimeBucket(drift)))
  local failed = countsAsFailure(outcome)
  if failed then
    rollupAdd(acc, ROLLUP_FAILED .. pre .. ns)
    if class ~= '' then rollupAdd(acc, ROLLUP_FAILED_CLASS .. pre .. class) end
    if rule ~= '' then rollupAdd(acc, ROLLUP_FAILED_RULE .. pre .. rule) end
    if fp ~= '' then rollupAdd(acc, ROLLUP_FAILED_FINGERPRINT .. pre .. fp) end
  end
  if fp ~= '' and (failed or action == 'dead') then
    lab[ROLLUP_LABEL .. ROLLUP_SEP .. ROLLUP_SEP .. fp] = label
  end
  if action == 'done' and outcome == 'succeeded' then
    rollupAdd(acc, ROLLUP_SUCCEEDED .. pre .. ns)
    rollupAdd(acc, ROLLUP_TIME_TO_SUCCESS .. pre .. S(rollupTimeBucket(tts)))
  elseif action == 'dead' then
    rollupAdd(acc, ROLLUP_DEAD .. pre .. ns)
    rollupAdd(acc, ROLLUP_DEAD_REASON .. pre .. reason)
    if class ~= '' then rollupAdd(acc, ROLLUP_DEAD_CLASS .. pre .. class) end
    if rule ~= '' then rollupAdd(acc, ROLLUP_DEAD_RULE .. pre .. rule) end
    if fp ~= '' then rollupAdd(acc, ROLLUP_DEAD_FINGERPRINT .. pre .. fp) end
  end
end

local function flushRollupsInto(key, acc, lab, expireAt)
  local any = false
  for f, v in pairs(acc) do
    rcall('HINCRBY', key, f, v)
    any = true
  end
  for f, v in pairs(lab) do
    rcall('HSET', key, f, v)
    any = true
  end
  if any then rcall('PEXPIREAT', key, S(expireAt)) end
end

local function flushRollups(P, now, acc, lab)
  local m = now - now % ROLLUP_MINUTE_MS
  local h = now - now % ROLLUP_HOUR_MS
  flushRollupsInto(P .. KEY_ROLLUP_MINUTE .. S(m), acc, lab, m + ROLLUP_MINUTE_MS + ROLLUP_MINUTE_KEEP_MS)
  flushRollupsInto(P .. KEY_ROLLUP_HOUR .. S(h), acc, lab, h + ROLLUP_HOUR_MS + ROLLUP_HOUR_KEEP_MS)
end
