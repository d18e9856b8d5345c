--[[
  A worker's heartbeat: registers it (first beat) or refreshes its entry, which then lives ttl ms
  from this server's clock. The entry is a hash with a TTL (so a killed worker's disappears by
  itself) and its id in the workers zset scored by that expiry (so listing is one range read).
  Expired ids left in the zset by killed workers are dropped here, and the queue's meta records
  when a worker was last seen (`wls`), which explain reads ("no live worker for 2 min").
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] host  ARGV[4] pid  ARGV[5] queues (JSON array)
  ARGV[6] concurrency  ARGV[7] jobs in flight  ARGV[8] version  ARGV[9] ttl ms
  Returns the entry's expiry.
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local now = nowMs()
local nowS = S(now)
local exp = now + tonumber(ARGV[9])
local expS = S(exp)
local hk = P .. KEY_WORKER .. id
local zk = P .. KEY_WORKERS
rcall('HSETNX', hk, 'st', nowS)
rcall('HSET', hk, 'host', ARGV[3], 'pid', ARGV[4], 'qs', ARGV[5], 'cc', ARGV[6], 'inf', ARGV[7],
  'ver', ARGV[8], 'hb', nowS, 'ex', expS)
rcall('PEXPIREAT', hk, exp)
rcall('ZREMRANGEBYSCORE', zk, '-inf', '(' .. nowS)
rcall('ZADD', zk, exp, id)
rcall('HSET', KEYS[1], 'wls', nowS)
return expS
