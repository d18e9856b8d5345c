--[[
  Dead jobs matching a filter, most recently dead first: the filter is answered here, from each
  dead job's summary fields (name, dr, dat, fp, ec), never from its history. Reads only.

  The index is the dead zset (KEYS[6]) or, with a fingerprint, that fingerprint's zset; both are
  scored by the time of death, so the time range is a rank range found with two ZCOUNTs. One call
  looks at no more than `budget` index entries, so Redis is never held long whatever the filter
  matches: the caller calls again from `position` until it has its page or the index ends.

  ARGV[1] key prefix  ARGV[2] fingerprint ('' = every dead job)
  ARGV[3] dead at or before, ms ('' = no bound)  ARGV[4] dead at or after, ms ('' = no bound)
  ARGV[5] position: index entries of the range already looked at by earlier calls
  ARGV[6] matches still to skip  ARGV[7] matches still wanted  ARGV[8] budget (entries per call)
  ARGV[9] reasons, comma-separated ('' = any)  ARGV[10] error code ('' = any)  ARGV[11] name ('' = any)
  Returns { next position (-1 when the range is exhausted), matches skipped,
            id, name, reason, at, fingerprint, error code, ... }
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local P = ARGV[1]
local index = KEYS[6]
if ARGV[2] ~= '' then index = P .. KEY_FINGERPRINT .. ARGV[2] end
local to, from = ARGV[3], ARGV[4]

local first = 0
if to ~= '' then first = rcall('ZCOUNT', index, '(' .. to, '+inf') end
local size
if to == '' and from == '' then
  size = rcall('ZCARD', index)
else
  size = rcall('ZCOUNT', index, from == '' and '-inf' or from, to == '' and '+inf' or to)
end

local reasons = nil
if ARGV[9] ~= '' then
  reasons = {}
  for r in string.gmatch(ARGV[9], '[^,]+') do reasons[r] = true end
end
local code, name = ARGV[10], ARGV[11]

local position = tonumber(ARGV[5])
local skip = tonumber(ARGV[6])
local want = tonumber(ARGV[7])
local stop = math.min(size, position + tonumber(ARGV[8]))
local skipped = 0
local out = { 0, 0 }
local found = 0
while position < stop do
  local n = math.min(100, stop - position)
  local ids = rcall('ZREVRANGE', index, first + position, first + position + n - 1)
  if #ids == 0 then
    position = size
    break
  end
  for i = 1, #ids do
    position = position + 1
    local f = rcall('HMGET', P .. KEY_JOB .. ids[i], 'name', 'dr', 'dat', 'fp', 'ec')
    if f[2] and (not reasons or reasons[f[2]]) and (code == '' or f[5] == code)
        and (name == '' or f[1] == name) then
      if skip > 0 then
        skip = skip - 1
        skipped = skipped + 1
      else
        local b = #out
        out[b + 1] = ids[i]
        out[b + 2] = f[1] or ''
        out[b + 3] = f[2]
        out[b + 4] = f[3] or '0'
        out[b + 5] = f[4] or ''
        out[b + 6] = f[5] or ''
        found = found + 1
        if found >= want then
          out[1] = position < size and position or -1
          out[2] = skipped
          return out
        end
      end
    end
  end
end
out[1] = position < size and position or -1
out[2] = skipped
return out
