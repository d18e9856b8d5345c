--- @include "includes/S"
--- @include "includes/jsonMerge"
--- @include "includes/claimFacts"
-- One attempt record, as JSON, appended once and never rewritten: what the job hash knows of the
-- attempt (n, trigger, dueAt, startedAt, workerId; n, due and sa as the hash's own text), the
-- script's time (nowS), then `ending`, the JSON object of how the attempt ended (outcome, error,
-- errorClass, rule, decision), the manual trigger that caused it ('' = none), and what its claim
-- recorded (`cw`, includes/claimFacts.lua: `rateLimit`, src/rate-limit.ts's RateLimitWait,
-- `priority`, src/transitions.ts's priorityWait, `schedule`, src/schedule.ts's scheduledTick; nil =
-- none).
local function attemptRecord(n, trg, due, sa, nowS, wid, ending, man, cw)
  local head = '{"n":' .. n .. ',"trigger":"' .. trg .. '","dueAt":' .. due .. ',"startedAt":' .. sa ..
    ',"finishedAt":' .. nowS .. ',"driftMs":' .. S(tonumber(sa) - tonumber(due)) .. ',"workerId":"' .. wid .. '"}'
  local rec = jsonMerge(head, ending)
  if man and man ~= '' then rec = jsonMerge(rec, '{"manual":' .. man .. '}') end
  if cw and cw ~= '' then rec = jsonMerge(rec, claimFactsJson(cw)) end
  return rec
end
