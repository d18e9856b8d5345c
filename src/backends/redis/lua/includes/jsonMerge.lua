-- Joins two JSON objects given as text: jsonMerge('{"a":1}', '{"b":2}') is '{"a":1,"b":2}'.
-- Records are assembled from objects the client sent whole (JSON.stringify) and members only the
-- script knows (times, the manual trigger); their keys never overlap. Joined as text, not through
-- cjson, so numbers and key order stay exactly as written (cjson re-encodes numbers with 14
-- significant digits) and nothing is parsed on the hot path.
local function jsonMerge(a, b)
  if b == '{}' then return a end
  if a == '{}' then return b end
  return string.sub(a, 1, -2) .. ',' .. string.sub(b, 2)
end
