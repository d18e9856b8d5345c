--[[
  How many waiting jobs a claim takes before this one (read-only, for explain): the jobs ahead of
  it in its own priority's list (FIFO), and in the other levels those claimed first: with strict
  order every job of a higher priority; with aging (meta `ag`), every job whose rank (levelRank of
  its due time) is lower, or equal with a smaller priority text, as popWaiting orders heads. Each
  list is walked from its tail (the oldest) and stops at the first job not ahead; at most `max`
  jobs are counted in all (then 'capped').
  ARGV[1] key prefix  ARGV[2] job id  ARGV[3] max
  A job of a group (`grp`) counts the jobs ahead of it in its group only (its zset's rank, as
  `same`; at most `max`): groups take turns, so the others' jobs are not ahead of it.
  Returns { state } when the job is not waiting (or '' when there is none); else
  { 'waiting', priority, same, higher, aged, capped (1|0) }.
]]
--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/waitLevels"
--- @include "generated/keys"
--- @include "generated/transitions"
local P = ARGV[1]
local id = ARGV[2]
local max = tonumber(ARGV[3])
local h = rcall('HMGET', P .. KEY_JOB .. id, 'st', 'pr', 'due', 'grp')
if h[1] ~= 'waiting' then return { h[1] or '' } end
local p = tonumber(h[2] or '0')
if h[4] then
  local r = rcall('ZRANK', P .. KEY_GROUP .. h[4], id) or 0
  if r >= max then return { 'waiting', p, max, 0, 0, 1 } end
  return { 'waiting', p, r, 0, 0, 0 }
end
local ag = levelAging(KEYS)
local rank = levelRank(p, tonumber(h[3]), ag)
local pText = S(p)
local counted = 0
local capped = 0
local own = levelKey(KEYS, P, p)
local pos = rcall('LPOS', own, id)
local same = 0
if pos then same = rcall('LLEN', own) - 1 - pos end
counted = same
local levels = rcall('ZRANGE', P .. KEY_LEVELS, 0, -1)
if p ~= 0 then levels[#levels + 1] = '0' end
local higher, aged = 0, 0
for _, qText in ipairs(levels) do
  local q = tonumber(qText)
  if q ~= p and counted < max then
    local key = levelKey(KEYS, P, q)
    local n = 0
    if ag == 0 then
      if q > p then n = math.min(rcall('LLEN', key), max - counted) end
    else
      -- Oldest first: from the tail, 100 at a time, until a job is not ahead.
      local off = 0
      local done = false
      while not done and counted + n < max do
        local chunk = rcall('LRANGE', key, -(off + 100), -(off + 1))
        if #chunk == 0 then break end
        for i = #chunk, 1, -1 do
          local r = levelRank(q, tonumber(rcall('HGET', P .. KEY_JOB .. chunk[i], 'due')), ag)
          if r < rank or (r == rank and qText < pText) then
            n = n + 1
            if counted + n >= max then done = true break end
          else
            done = true
            break
          end
        end
        if #chunk < 100 then break end
        off = off + 100
      end
    end
    if q > p then higher = higher + n else aged = aged + n end
    counted = counted + n
  end
end
if counted >= max then capped = 1 end
return { 'waiting', pText, same, higher, aged, capped }
