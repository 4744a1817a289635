-- Evicts a campaign's gate state (the next request rebuilds it from the store, the arbiter) when
--  * the node holding it now is not the node that loaded it: a promoted replica (asynchronous replication may have
--    lost the last admissions), a restarted node, or a slot that moved; or
--  * its version is not the store's while no change holds the campaign lock, on two checks in a row: a change applied
--    to the gate whose store transaction never committed (the process died, or the store failed and the gate could not
--    be dropped then). The first sighting answers 'suspect:<version>'; the caller passes it back on the next check.
-- Run by every process each second. KEYS: 1 meta 2 the campaign lock. ARGV: 1 the campaign's version in the store,
-- 2 the version suspected on the last check ('' none).
-- Returns '' not loaded, 'ok', 'suspect:<v>', or 'evicted:<why>'.
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local server = redis.call('INFO', 'server')
local replication = redis.call('INFO', 'replication')
local node = string.match(server, 'run_id:(%x+)') .. ':' .. string.match(replication, 'master_replid:(%x+)')
local loader = redis.call('HGET', KEYS[1], 'node') or 'unknown'
if loader ~= node then
  redis.call('DEL', KEYS[1])
  return 'evicted:node ' .. loader .. '>' .. node
end
local version = redis.call('HGET', KEYS[1], 'version') or ''
if version == ARGV[1] or redis.call('EXISTS', KEYS[2]) == 1 then return 'ok' end
if version ~= ARGV[2] then return 'suspect:' .. version end
redis.call('DEL', KEYS[1])
return 'evicted:version ' .. version .. '>' .. ARGV[1]
