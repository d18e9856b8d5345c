--[[
  Marks jobs archived: each leaves the archive-pending zset if its score is still the one the
  archiver read (a job replayed and finished again since then is noted again with a later score,
  and stays, so its new attempts are archived too). Retention may then evict them.
  ARGV[1] key prefix  ARGV[2..] id, score pairs
  Returns how many left the pending zset
]]
--- @include "includes/rcall"
--- @include "generated/keys"
local ap = ARGV[1] .. KEY_ARCHIVE_PENDING
local n = 0
for i = 2, #ARGV, 2 do
  local s = rcall('ZSCORE', ap, ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[i + 1]) then
    rcall('ZREM', ap, ARGV[i])
    n = n + 1
  end
end
return n
