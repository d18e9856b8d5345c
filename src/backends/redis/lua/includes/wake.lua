--- @include "includes/rcall"
-- Most wake tokens the queue's wake list holds (a Redis-only mechanism: the memory backend wakes
-- its waiters directly).
local MAX_WAKE_TOKENS = 64

-- Wakes up to n idle workers blocked on the wake list. Tokens are capped: a surplus only costs a
-- worker one empty claim, a missing token would cost it an idle-check period.
local function wake(K, n)
  if n <= 0 then return end
  if n > MAX_WAKE_TOKENS then n = MAX_WAKE_TOKENS end
  local tokens = {}
  for i = 1, n do tokens[i] = '1' end
  rcall('LPUSH', K[9], unpack(tokens))
  rcall('LTRIM', K[9], 0, MAX_WAKE_TOKENS - 1)
end
