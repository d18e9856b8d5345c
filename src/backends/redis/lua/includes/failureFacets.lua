-- The facets a finished attempt adds (twin of failureFacets in src/job-index.ts), from a finish
-- request's fields as finish-10.lua reads them ('x' requests): A[5] the ending JSON {outcome, error?,
-- errorClass?, rule?}, A[6] the action, A[10] the error's fingerprint. Returns the facets and the
-- rule ('' when none), which the rollups count by.
local function failureFacets(A)
  local out = {}
  local rule = ''
  local ok, e = pcall(cjson.decode, A[5])
  if ok and type(e) == 'table' and type(e.error) == 'table' then
    if type(e.errorClass) == 'string' and e.errorClass ~= '' then out[#out + 1] = 'c:' .. e.errorClass end
    if type(e.rule) == 'string' and e.rule ~= '' then
      rule = e.rule
      out[#out + 1] = 'r:' .. rule
    end
    if type(e.error.code) == 'string' and e.error.code ~= '' then out[#out + 1] = 'e:' .. e.error.code end
    if A[10] ~= '' then out[#out + 1] = 'f:' .. A[10] end
  end
  if A[6] == 'retry' then out[#out + 1] = 'rt' end
  return out, rule
end
