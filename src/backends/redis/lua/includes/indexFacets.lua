--- @include "includes/rcall"
--- @include "generated/keys"
-- Files a job under search facets (see src/job-index.ts): each facet's index (a zset of job ids
-- scored by creation time), and the job's own list of its facets (field `xi`, apart by \30) so that
-- deleting the job removes every entry (unindexJob). A facet the job has already is skipped.
local function indexFacets(P, id, facets)
  if #facets == 0 then return end
  local jk = P .. KEY_JOB .. id
  local f = rcall('HMGET', jk, 'ct', 'xi')
  if not f[1] then return end
  local xi = f[2] or ''
  local have = '\30' .. xi .. '\30'
  local added = false
  for _, facet in ipairs(facets) do
    if not string.find(have, '\30' .. facet .. '\30', 1, true) then
      rcall('ZADD', P .. KEY_INDEX .. facet, f[1], id)
      if xi == '' then xi = facet else xi = xi .. '\30' .. facet end
      have = have .. facet .. '\30'
      added = true
    end
  end
  if added then rcall('HSET', jk, 'xi', xi) end
end
