--[[
  The job waiting longest, read in one atomic step without a scan: the next job of each priority's
  FIFO (priority 0 in `wait`, the others in `w:<p>`; LPUSH adds, RPOP claims, so a list's tail is
  its oldest), the one with the earliest due time (when it became runnable). One LINDEX and one
  HGET per priority that has waiting jobs.
  ARGV[1] key prefix
  Returns { id, due, priority } or {} when nothing waits.
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local P = ARGV[1]
local best
local function consider(list, p)
  local id = rcall('LINDEX', list, -1)
  if not id then return end
  local due = tonumber(rcall('HGET', P .. KEY_JOB .. id, 'due'))
  if due and (not best or due < best[2]) then best = { id, due, p } end
end
consider(KEYS[2], '0')
for _, p in ipairs(rcall('ZRANGE', P .. KEY_LEVELS, 0, -1)) do
  consider(P .. KEY_LEVEL .. p, p)
end
if not best then return {} end
return { best[1], tostring(best[2]), best[3] }
