--- @include "includes/jsonMerge"
--- @include "generated/transitions"
-- What a claim records for its attempt (the job field `cw`). Most often only a priority wait, kept
-- as the short text "priority,effective,waitedMs,ahead" (PR.claimed): a job hash whose values are
-- all short stays a listpack, and most claimed jobs of a queue with priorities have one. Otherwise
-- a JSON object of `rateLimit`, `priority` and `schedule`. Returns it as that JSON object.
local function claimFactsJson(cw)
  if string.sub(cw, 1, 1) == '{' then return cw end
  local p, e, w, a = string.match(cw, '^(-?%d+),(-?%d+),(%d+),(%d+)$')
  return '{"priority":' .. priorityWait(tonumber(p), tonumber(e), tonumber(w), tonumber(a)) .. '}'
end

-- The claim's facts (`cw`) joined to more of them (`more`, a JSON object, or nil).
local function claimFactsWith(cw, more)
  if not more then return cw end
  if not cw then return more end
  return jsonMerge(claimFactsJson(cw), more)
end
