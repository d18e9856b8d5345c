--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/bulk"
--- @include "generated/keys"
--- @include "generated/transitions"
-- Waiting jobs by priority. Priority 0 (the default) waits in KEYS[2] (`wait`), every other
-- priority p in its own list P .. KEY_LEVEL .. p, FIFO like `wait` (LPUSH adds, RPOP claims); the
-- levels other than 0 that hold jobs are the zset P .. KEY_LEVELS, scored by levelRank (lower =
-- claimed first; src/transitions.ts). A queue whose jobs all have priority 0 never creates a level:
-- its claim is the plain RPOP of `wait`, after one EXISTS.

-- The queue's priority aging step (ms per level, 0 = strict order), read once per call.
local LEVEL_AGING = nil
local function levelAging(K)
  if LEVEL_AGING == nil then LEVEL_AGING = tonumber(rcall('HGET', K[1], 'ag') or '0') end
  return LEVEL_AGING
end

local function levelKey(K, P, p)
  if p == 0 then return K[2] end
  return P .. KEY_LEVEL .. S(p)
end

-- The rank of level p (other than 0) from its head (the next job it gives), or removes the level
-- from the zset when it is empty.
local function rankLevel(K, P, p)
  local key = levelKey(K, P, p)
  local head = rcall('LINDEX', key, -1)
  if not head then
    rcall('ZREM', P .. KEY_LEVELS, S(p))
    return
  end
  local ag = levelAging(K)
  local due = 0
  if ag > 0 then due = tonumber(rcall('HGET', P .. KEY_JOB .. head, 'due')) end
  rcall('ZADD', P .. KEY_LEVELS, S(levelRank(p, due, ag)), S(p))
end

-- Priority waits (the `priority` of an attempt record, priorityWait in src/transitions.ts). From the
-- first push into a level other than 0, the hash P .. KEY_PRIO_SERVED counts the jobs without a
-- group claimed: `t` all of them, `<p>` those of level p. A job pushed while it exists stores the
-- two counts of its level as `ps` ("t,c"; absent = 0,0: nothing was counted before); at its claim,
-- priorityAhead of the counts then and now is how many jobs of another level were claimed ahead of
-- it. O(1): the counts are read once per call (per level), kept here, and written by PR.flush.
-- Every name lives in the table PR (a script has at most 200 locals).
local PR = { loaded = false, on = false, t = 0, lv = {}, dirty = {}, tdirty = false }

-- Are the counters on (the queue has had a job of a priority other than 0)?
function PR.load(P)
  if not PR.loaded then
    PR.loaded = true
    local t = rcall('HGET', P .. KEY_PRIO_SERVED, 't')
    if t then
      PR.on = true
      PR.t = tonumber(t)
    end
  end
  return PR.on
end

-- The jobs of level p claimed so far.
function PR.level(P, p)
  local c = PR.lv[p]
  if c == nil then
    c = tonumber(rcall('HGET', P .. KEY_PRIO_SERVED, S(p)) or '0')
    PR.lv[p] = c
  end
  return c
end

-- A job is pushed into level p (without a group): turns the counters on for a level other than 0,
-- and while they are on, stores its snapshot.
function PR.push(P, id, p)
  if p ~= 0 and not PR.load(P) then
    PR.on = true
    PR.t = 0
    rcall('HSETNX', P .. KEY_PRIO_SERVED, 't', '0')
  end
  if PR.load(P) then rcall('HSET', P .. KEY_JOB .. id, 'ps', S(PR.t) .. ',' .. S(PR.level(P, p))) end
end

-- The effective priority of a job of priority p that waited `waited` ms ready (agedPriority).
function PR.aged(p, waited, ag)
  if ag > 0 then
    if waited < 0 then waited = 0 end
    return p + math.floor(waited / ag)
  end
  return p
end

-- A job of level p (without a group; due at `due`, snapshot `ps` or nil) is claimed at `now`:
-- counts it, and returns its priority wait as "priority,effective,waitedMs,ahead" (the short form
-- of `cw`, includes/claimFacts.lua), or nil when nothing was claimed ahead of it.
function PR.claimed(K, P, p, due, ps, now)
  if not PR.load(P) then return nil end
  local t, c = PR.t, PR.level(P, p)
  PR.t = t + 1
  PR.lv[p] = c + 1
  PR.tdirty = true
  PR.dirty[p] = true
  local t0, c0 = 0, 0
  if ps then
    local a, b = string.match(ps, '^(%d+),(%d+)$')
    t0, c0 = tonumber(a), tonumber(b)
  end
  local ahead = priorityAhead(t, t0, c, c0)
  if ahead <= 0 then return nil end
  local waited = now - due
  if waited < 0 then waited = 0 end
  return PR.short(p, PR.aged(p, waited, levelAging(K)), waited, ahead)
end

-- The short form of a priority wait (`cw`, expanded by claimFactsJson in includes/claimFacts.lua).
function PR.short(p, effective, waited, ahead)
  return S(p) .. ',' .. S(effective) .. ',' .. S(waited) .. ',' .. S(ahead)
end

-- Writes the counts this call changed.
function PR.flush(P)
  if not PR.tdirty then return end
  local args = { 't', S(PR.t) }
  for p in pairs(PR.dirty) do
    args[#args + 1] = S(p)
    args[#args + 1] = S(PR.lv[p])
  end
  rcall('HSET', P .. KEY_PRIO_SERVED, unpack(args))
  PR.tdirty = false
  PR.dirty = {}
end

-- Groups (`group` on a job). A group's waiting jobs are the zset P .. KEY_GROUP .. g, scored by
-- groupRank (priority, then arrival: meta `gsq` counts). Groups take turns through the ring
-- P .. KEY_GROUP_RING (a list, head = next), one job per turn; '' in the ring stands for the jobs
-- without a group (meta `gu` = '1' while it is there). A group whose bucket is empty leaves the
-- ring for P .. KEY_GROUP_PARKED (a zset, score = its next token) until a claim at or after that
-- time moves it back. While no group has waiting jobs, neither key exists and a claim is the plain
-- path above (one EXISTS more).

-- Every name of the groups' half lives in the table GR (a script has at most 200 locals).
local GR = { ungroupedChecked = false }

-- Are there jobs without a group waiting?
function GR.ungroupedWaiting(K, P)
  return rcall('LLEN', K[2]) > 0 or rcall('EXISTS', P .. KEY_LEVELS) == 1
end

-- Jobs without a group joined the waiting jobs: if groups are taking turns, '' takes turns too.
function GR.ringUngroupedNow(K, P)
  if rcall('EXISTS', P .. KEY_GROUP_RING, P .. KEY_GROUP_PARKED) == 0 then return end
  if rcall('HSETNX', K[1], 'gu', '1') == 1 then rcall('RPUSH', P .. KEY_GROUP_RING, '') end
end
-- The same, checked once per script call: the pushes of a call come before its claims, so once
-- '' is in, it stays in for the rest of them.
function GR.ringUngrouped(K, P)
  if GR.ungroupedChecked then return end
  GR.ungroupedChecked = true
  GR.ringUngroupedNow(K, P)
end

-- Group g has waiting jobs again: it takes turns (at the back), and so do the jobs without a
-- group if they wait and are not in yet.
function GR.ringJoin(K, P, g)
  rcall('RPUSH', P .. KEY_GROUP_RING, g)
  rcall('HSET', K[1], 'gm', '1')
  if rcall('HEXISTS', K[1], 'gu') == 0 and GR.ungroupedWaiting(K, P) then
    rcall('HSET', K[1], 'gu', '1')
    rcall('RPUSH', P .. KEY_GROUP_RING, '')
  end
end

-- When no group takes turns any more (the ring holds only '' and none is parked), the jobs
-- without a group go back to the plain path (meta `gm`, groups mode, read by every claim, goes).
function GR.ringCollapse(K, P)
  local ring = P .. KEY_GROUP_RING
  if rcall('EXISTS', P .. KEY_GROUP_PARKED) == 1 then return end
  local n = rcall('LLEN', ring)
  if n == 0 or (n == 1 and rcall('LINDEX', ring, 0) == '') then
    rcall('DEL', ring)
    rcall('HDEL', K[1], 'gu', 'gm')
  end
end

-- Makes job `id` of group g wait, behind its group's jobs of its priority (`score`: a score it
-- had before, to put it back where it was).
function GR.pushGrouped(K, P, id, p, g, score)
  local key = P .. KEY_GROUP .. g
  if not score then score = groupRank(p, rcall('HINCRBY', K[1], 'gsq', 1)) end
  rcall('ZADD', key, S(score), id)
  if rcall('ZCARD', key) == 1 then GR.ringJoin(K, P, g) end
end

-- Makes job `id` (priority p, group g or nil/''; its `due` already written) wait, behind the jobs
-- of its priority (of its group).
local function pushWaiting(K, P, id, p, g)
  if g and g ~= '' then
    GR.pushGrouped(K, P, id, p, g, nil)
    return
  end
  GR.ringUngrouped(K, P)
  PR.push(P, id, p)
  if p == 0 then
    rcall('LPUSH', K[2], id)
    return
  end
  if rcall('LPUSH', levelKey(K, P, p), id) == 1 then rankLevel(K, P, p) end
end

-- Makes jobs of priority 0 without a group wait (their `due` already written), in bulk: what add,
-- tick and finish push after their other jobs.
local function pushPlain(K, P, ids)
  if #ids == 0 then return end
  GR.ringUngrouped(K, P)
  if PR.load(P) then
    for _, id in ipairs(ids) do PR.push(P, id, 0) end
  end
  bulk('LPUSH', K[2], ids, 1000)
end

-- Puts popped jobs back at the head of their levels, in their order (ids[from..] were popped in
-- that order from levels lvls[from..]; lvls nil = all from `wait`).
local function unpopWaiting(K, P, ids, lvls, from)
  local touched = {}
  for j = #ids, from, -1 do
    local p = 0
    if lvls then p = lvls[j] end
    rcall('RPUSH', levelKey(K, P, p), ids[j])
    if p ~= 0 then touched[p] = true end
  end
  for p in pairs(touched) do rankLevel(K, P, p) end
end

-- Takes a waiting job out of its level or group (cancel); a group left empty stops taking turns.
local function removeWaiting(K, P, id, p, g)
  if g and g ~= '' then
    local key = P .. KEY_GROUP .. g
    rcall('ZREM', key, id)
    if rcall('EXISTS', key) == 0 then
      rcall('LREM', P .. KEY_GROUP_RING, 0, g)
      rcall('ZREM', P .. KEY_GROUP_PARKED, g)
      GR.ringCollapse(K, P)
    end
    return
  end
  rcall('LREM', levelKey(K, P, p), 0, id)
  if p ~= 0 then rankLevel(K, P, p) end
  if rcall('HEXISTS', K[1], 'gu') == 1 and not GR.ungroupedWaiting(K, P) then
    rcall('LREM', P .. KEY_GROUP_RING, 0, '')
    rcall('HDEL', K[1], 'gu')
    GR.ringCollapse(K, P)
  end
end

-- Pops up to `max` waiting jobs in claim order: the best-ranked level first, FIFO within a level.
-- Returns the ids and their levels (nil when every id came from `wait`). Strict order takes a whole
-- batch from one level per step; with aging, ranks change as heads leave, so one job per step.
-- Each step costs O(log levels).
local function popWaiting(K, P, max)
  if max <= 0 then return {}, nil end
  local lvKey = P .. KEY_LEVELS
  if rcall('EXISTS', lvKey) == 0 then
    return rcall('RPOP', K[2], max) or {}, nil
  end
  local ag = levelAging(K)
  local ids, lvls = {}, {}
  while #ids < max do
    local best = rcall('ZRANGE', lvKey, 0, 0, 'WITHSCORES')
    local head0 = rcall('LINDEX', K[2], -1)
    local p
    if best[1] then
      p = tonumber(best[1])
      if head0 then
        local due0 = 0
        if ag > 0 then due0 = tonumber(rcall('HGET', P .. KEY_JOB .. head0, 'due')) end
        local s0 = levelRank(0, due0, ag)
        local sb = tonumber(best[2])
        -- Equal ranks: the zset's order, by member text (the memory backend compares the same way).
        if s0 < sb or (s0 == sb and '0' < best[1]) then p = 0 end
      end
    elseif head0 then
      p = 0
    else
      break
    end
    local want = max - #ids
    if ag > 0 then want = 1 end
    local got = rcall('RPOP', levelKey(K, P, p), want) or {}
    for _, id in ipairs(got) do
      ids[#ids + 1] = id
      lvls[#lvls + 1] = p
    end
    if p ~= 0 then rankLevel(K, P, p) end
  end
  return ids, lvls
end
