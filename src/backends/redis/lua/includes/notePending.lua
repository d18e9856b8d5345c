--- @include "includes/rcall"
--- @include "includes/bulk"
--- @include "generated/keys"
-- Notes jobs that just finished for the archiver (`args` = { finished at, id, ... }) when the queue
-- has an archive (meta `arc`, read once per script call): the archive-pending zset holds them, and
-- retention with them, until the archiver has copied them (archive-mark).
local archiveOn = nil
local function notePending(K, P, args)
  if #args == 0 then return end
  if archiveOn == nil then archiveOn = rcall('HEXISTS', K[1], 'arc') == 1 end
  if archiveOn then bulk('ZADD', P .. KEY_ARCHIVE_PENDING, args, 1000) end
end
