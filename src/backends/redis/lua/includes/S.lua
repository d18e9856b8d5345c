-- Integer to text. Lua 5.1 turns numbers into text with a float printf ("%.14g"), which is most of
-- the instructions of a script that writes many timestamps; "%d" takes the integer path.
local function S(x)
  return string.format('%d', x)
end
