--- @include "includes/rcall"
--- @include "generated/keys"
-- Files a new job under its name's search index (facet `n:<name>`, see src/job-index.ts), scored by
-- its creation time. The name is in the job's hash, so unindexJob finds this entry without `xi`.
local function indexName(P, id, name, ctS)
  rcall('ZADD', P .. KEY_INDEX .. 'n:' .. name, ctS, id)
end
