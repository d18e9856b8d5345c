--[[
  Reads jobs whole, in one consistent step: each job's hash, its attempt history and the text of its
  interned options. Read-only.
  ARGV[1] key prefix  ARGV[2..] ids
  Returns per id { hash as a flat field/value array (empty = no such job), attempt records,
    options JSON, progress/log counters (the trail hash, flat), log lines (JSON {n, at, line}) }
]]
--- @include "includes/rcall"
--- @include "includes/optsText"
--- @include "generated/keys"
local P = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local h = rcall('HGETALL', P .. KEY_JOB .. id)
  if #h == 0 then
    out[#out + 1] = { h, {}, '' }
  else
    local oh
    for j = 1, #h, 2 do
      if h[j] == 'oh' then
        oh = h[j + 1]
        break
      end
    end
    out[#out + 1] = { h, rcall('LRANGE', P .. KEY_HISTORY .. id, 0, -1), optsText(P, oh),
      rcall('HGETALL', P .. KEY_TRAIL .. id), rcall('LRANGE', P .. KEY_LOG .. id, 0, -1) }
  end
end
return out
