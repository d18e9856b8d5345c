--- @include "includes/rcall"
--- @include "includes/optsText"
--- @include "generated/keys"
-- The jobs of ARGV[from..] (ids) read whole, in one consistent step (read-10.lua, archive-read-10.lua):
-- per id { hash as a flat field/value array (empty = no such job), attempt records, options JSON,
-- progress/log counters (the trail hash, flat), log lines (JSON {n, at, line}) }. Read-only.
local function readJobs(P, from)
  local out = {}
  for i = from, #ARGV do
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
end
