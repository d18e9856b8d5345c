--- @include "includes/rcall"
--- @include "includes/S"
--- @include "generated/keys"
--- @include "generated/retryBudget"
-- Retry budgets: the twin of src/retry-budget.ts (see there for the rule). A budget is stored as
-- the text 'permille,windowMs,minPerSecond,defer|dead'; a scope ('' = the queue, 'n:<name>' = one
-- job name) keeps its state in the hash P .. KEY_BUDGET .. scope: 'tat' (µs) and the first attempts
-- per slot ('f<slot>').
local function budgetDecode(text)
  local p, w, m, mode = string.match(text, '^(%d+),(%d+),(%d+),(%a+)$')
  if not p then return nil end
  return { permille = tonumber(p), windowMs = tonumber(w), minPerSecond = tonumber(m), dead = mode == 'dead' }
end

local function budgetAllowed(b, firsts)
  local a = math.floor(b.permille * firsts / 1000 + b.minPerSecond * b.windowMs / 1000)
  if a < 1 then a = 1 end
  return a
end

-- One retry due at dueMs: its deferral (0 = within budget) and the scope's next tat (µs).
local function budgetPlace(b, firsts, tatUs, dueMs)
  local dueUs = dueMs * 1000
  local tolUs = b.windowMs * 1000 / RETRY_BUDGET_BURST_DIVISOR
  local interval = math.floor(b.windowMs * 1000 / budgetAllowed(b, firsts))
  if tatUs <= dueUs + tolUs then
    if tatUs < dueUs then tatUs = dueUs end
    return 0, tatUs + interval
  end
  return math.ceil((tatUs - tolUs - dueUs) / 1000), tatUs + interval
end

local function budgetDuration(ms)
  if ms < 1000 then return S(ms) .. ' ms' end
  local tenths = math.floor((ms + 50) / 100)
  return S(math.floor(tenths / 10)) .. '.' .. S(tenths % 10) .. ' s'
end

local function budgetExplanation(b, firsts, deferMs, dead)
  local p = b.permille
  local pct
  if p % 10 == 0 then pct = S(p / 10) .. ' %' else pct = S(math.floor(p / 10)) .. '.' .. S(p % 10) .. ' %' end
  local head = 'retry budget: ' .. pct .. ' of first attempts over ' .. S(b.windowMs / 1000) .. ' s + ' ..
    S(b.minPerSecond) .. '/s (allows ' .. S(budgetAllowed(b, firsts)) .. ' retries for ' .. S(firsts) ..
    ' first attempts) used up'
  if dead then return head .. '; dead-lettered (onExhausted: dead)' end
  return head .. '; deferred ' .. budgetDuration(deferMs)
end

-- The state of a scope in this script call: read on first need, written back by budgetFlush.
local function budgetState(P, cache, scope, b, now)
  local st = cache[scope]
  if st then return st end
  local slot = math.floor(now / (b.windowMs / RETRY_BUDGET_SLOTS))
  local fields = { 'tat' }
  for i = slot - RETRY_BUDGET_SLOTS + 1, slot do fields[#fields + 1] = 'f' .. S(i) end
  local key = P .. KEY_BUDGET .. scope
  local vals = rcall('HMGET', key, unpack(fields))
  local firsts = 0
  for i = 2, #vals do firsts = firsts + (tonumber(vals[i]) or 0) end
  st = { b = b, key = key, slot = slot, firsts = firsts, add = 0, tat = tonumber(vals[1]) or 0, dirty = false }
  cache[scope] = st
  return st
end

local function budgetFlush(cache, now)
  for _, st in pairs(cache) do
    if st.add > 0 then
      rcall('HINCRBY', st.key, 'f' .. S(st.slot), st.add)
      rcall('HDEL', st.key, 'f' .. S(st.slot - RETRY_BUDGET_SLOTS))
    end
    if st.dirty then rcall('HSET', st.key, 'tat', S(st.tat)) end
    if st.add > 0 or st.dirty then
      local ahead = math.floor(st.tat / 1000) - now
      if ahead < 0 then ahead = 0 end
      rcall('PEXPIRE', st.key, S(ahead + 2 * st.b.windowMs))
    end
  end
end

-- A retry's decision JSON with the budget's deferral: delay, explanation and a budget member.
local function budgetNote(decision, delayMs, deferMs, firsts, allowed, text)
  decision = string.gsub(decision, '^{"action":"retry","delayMs":%d+', '{"action":"retry","delayMs":' .. S(delayMs), 1)
  local ok, d = pcall(cjson.decode, decision)
  if ok and type(d) == 'table' and type(d.explanation) == 'string' then
    local old = '"explanation":' .. cjson.encode(d.explanation)
    local s, e = string.find(decision, old, 1, true)
    if s then
      decision = string.sub(decision, 1, s - 1) .. '"explanation":' .. cjson.encode(d.explanation .. '; ' .. text) ..
        string.sub(decision, e + 1)
    end
  end
  return string.sub(decision, 1, -2) .. ',"budget":{"deferredMs":' .. S(deferMs) .. ',"firstAttempts":' ..
    S(firsts) .. ',"allowed":' .. S(allowed) .. '}}'
end
