--- @include "includes/rcall"
--- @include "generated/keys"
-- Removes a job from every search index it is in (its name's, and each facet of its `xi` field, see
-- indexFacets), before the job's hash is deleted.
local function unindexJob(P, id)
  local f = rcall('HMGET', P .. KEY_JOB .. id, 'name', 'xi')
  if not f[1] then return end
  rcall('ZREM', P .. KEY_INDEX .. 'n:' .. f[1], id)
  if f[2] and f[2] ~= '' then
    for facet in string.gmatch(f[2], '[^\30]+') do rcall('ZREM', P .. KEY_INDEX .. facet, id) end
  end
end
