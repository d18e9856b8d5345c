--- @include "includes/rcall"
-- A variadic command over a long argument list, in chunks: Lua's unpack stops near 8000 values,
-- and a failure halfway would leave a transition half-applied. `step` keeps pairs together.
local function bulk(cmd, key, arr, step)
  for i = 1, #arr, step do
    rcall(cmd, key, unpack(arr, i, math.min(i + step - 1, #arr)))
  end
end
