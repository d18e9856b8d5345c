--[[
  Searches jobs by their index facets (see src/job-index.ts). Walks the smallest facet's index
  (job ids scored by creation time), newest created first, from the cursor; each candidate must be
  in every other facet's index, in the state asked, and match attempts made, the time range and the
  text in its data (a plain substring of the data's JSON text: the only filter that reads the data,
  and only of candidates the indexes already narrowed). Stops at `limit` matches or after `budget`
  candidates examined: a page may hold fewer than `limit` jobs while the cursor says more may follow.
  Reads only. An index entry whose job is gone (never left by a transition) simply does not match.
  ARGV[1] key prefix  ARGV[2] state  ARGV[3] limit  ARGV[4] budget
  ARGV[5] cursor ('' = from the newest): `<createdAt>:<id>` of the last candidate examined
  ARGV[6] min attempts  ARGV[7] max attempts  ARGV[8] from  ARGV[9] to ('' = none, each)
  ARGV[10] text in the data ('' = none)
  ARGV[11] '1' when the time range is on finishedAt (finished states), else on createdAt
  ARGV[12..] the facets (at least one)
  Returns { next cursor ('' = nothing more), id, id, ... }
]]
--- @include "includes/rcall"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local want = ARGV[2]
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local minA = tonumber(ARGV[6])
local maxA = tonumber(ARGV[7])
local from = tonumber(ARGV[8])
local to = tonumber(ARGV[9])
local text = ARGV[10]
local byFinish = ARGV[11] == '1'

local driver = nil
local driverSize = 0
local others = {}
for i = 12, #ARGV do
  local k = P .. KEY_INDEX .. ARGV[i]
  local n = rcall('ZCARD', k)
  if n == 0 then return { '' } end
  if driver == nil or n < driverSize then
    if driver then others[#others + 1] = driver end
    driver = k
    driverSize = n
  else
    others[#others + 1] = k
  end
end

local function matches(id, ct)
  local f = rcall('HMGET', P .. KEY_JOB .. id, 'st', 'n', 'ft')
  if f[1] ~= want then return false end
  local n = tonumber(f[2])
  if (minA and n < minA) or (maxA and n > maxA) then return false end
  local t = ct
  if byFinish and f[3] and f[3] ~= '' then t = tonumber(f[3]) end
  if (from and t < from) or (to and t > to) then return false end
  for _, k in ipairs(others) do
    if not rcall('ZSCORE', k, id) then return false end
  end
  if text ~= '' then
    local d = rcall('HGET', P .. KEY_JOB .. id, 'data')
    if not d or not string.find(d, text, 1, true) then return false end
  end
  return true
end

-- Where to start: just after the cursor's entry (by rank; if the entry is gone, after every newer
-- creation time, skipping the cursor's ties up to its id); on creation time, past `to`.
local start = 0
local tieCt = nil
local tieId = nil
if ARGV[5] ~= '' then
  local ct, cid = string.match(ARGV[5], '^(%d+):(.+)$')
  local r = rcall('ZREVRANK', driver, cid)
  if r and tonumber(rcall('ZSCORE', driver, cid)) == tonumber(ct) then
    start = r + 1
  else
    start = rcall('ZCOUNT', driver, '(' .. ct, '+inf')
    tieCt = tonumber(ct)
    tieId = cid
  end
end
if to and not byFinish then
  local newer = rcall('ZCOUNT', driver, '(' .. ARGV[9], '+inf')
  if newer > start then start = newer end
end

local ids = {}
local scanned = 0
local last = ''
local pos = start
local ended = false
while true do
  local chunk = rcall('ZREVRANGE', driver, pos, pos + 199, 'WITHSCORES')
  if #chunk == 0 then
    ended = true
    break
  end
  for i = 1, #chunk, 2 do
    local id = chunk[i]
    local ct = tonumber(chunk[i + 1])
    pos = pos + 1
    -- Newest first: past `from` on creation time, nothing further can match.
    if from and not byFinish and ct < from then
      ended = true
      break
    end
    if not (tieCt and ct == tieCt and id >= tieId) then
      scanned = scanned + 1
      last = S(ct) .. ':' .. id
      if matches(id, ct) then ids[#ids + 1] = id end
      if #ids >= limit or scanned >= budget then break end
    end
  end
  if ended or #ids >= limit or scanned >= budget then break end
end
if ended or pos >= driverSize then last = '' end
local out = { last }
for _, id in ipairs(ids) do out[#out + 1] = id end
return out
