-- Finishes loading a campaign's gate: the meta hash goes in last (until it exists every admit call answers
-- "not loaded"), stamped with the identity of the node that holds it (check-owner.lua compares it later) and the
-- campaign's version (a change whose store transaction never committed shows as a newer version than the store's).
-- Keys the first admissions would otherwise create are created now, so every gate key carries the same
-- expiry and a slot migration moves them together.
-- KEYS: 1 meta 2 holders 3 windows 4 window counts 5 outbox (as admit.lua).
-- ARGV: total, issued, seq (the last number handed out), expireAtMs, state, version.
-- Returns the node identity ("run_id:replication_id").
local server = redis.call('INFO', 'server')
local replication = redis.call('INFO', 'replication')
local node = string.match(server, 'run_id:(%x+)') .. ':' .. string.match(replication, 'master_replid:(%x+)')
-- A user id is never empty, so the placeholder field is never asked for.
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HSET', KEYS[2], '', '') end
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('XADD', KEYS[5], 'MAXLEN', '0', '*', '', '') end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'issued', ARGV[2], 'seq', ARGV[3], 'node', node, 'state', ARGV[5], 'version', ARGV[6])
for i = 1, 5 do redis.call('PEXPIREAT', KEYS[i], ARGV[4]) end
return node
