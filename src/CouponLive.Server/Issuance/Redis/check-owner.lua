-- Evicts a campaign's gate state when the node holding it now is not the node that loaded it: a promoted
-- replica (asynchronous replication may have lost the last admissions), a restarted node, or a slot that
-- moved. The next request rebuilds the state from the store, the arbiter. Run by every process each second.
-- KEYS: 1 meta. Returns '' when not loaded, 'ok' when the node is the loader, else 'evicted:<loader>><node>'.
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local server = redis.call('INFO', 'server')
local replication = redis.call('INFO', 'replication')
local node = string.match(server, 'run_id:(%x+)') .. ':' .. string.match(replication, 'master_replid:(%x+)')
local loader = redis.call('HGET', KEYS[1], 'node') or 'unknown'
if loader == node then return 'ok' end
redis.call('DEL', KEYS[1])
return 'evicted:' .. loader .. '>' .. node
