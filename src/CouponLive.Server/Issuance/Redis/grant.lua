-- Admits users for one bulk grant atomically, by Redis's clock: admit.lua's rules without windows (one per user,
-- the stock, pause and cancel). An admission's window is minus the grant's number, so the holder's value tells
-- which grant admitted it (an interrupted grant replays exactly). One outbox entry for the call, as admit.lua.
-- KEYS: as admit.lua. ARGV: 1 grant number, then user ids. Returns as admit.lua ({-1} not loaded, {-2} a part missing).
local present = redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if present < 5 then
  if redis.call('DEL', KEYS[1]) == 1 then return {-2} end
  return {-1}
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local meta = redis.call('HMGET', KEYS[1], 'total', 'issued', 'seq', 'state')
local total, issued, seq, state = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), meta[4]
local users = {unpack(ARGV, 2)}
local held = redis.call('HMGET', KEYS[2], unpack(users))
local admittedNow = {}
local fields = {'', 'b'}
local suffix = ':' .. string.format('%d', now) .. ':' .. string.format('%d', -tonumber(ARGV[1]))
local out = {now, -1, ''}
for i = 1, #users do
  local user = users[i]
  local h = held[i] or admittedNow[user]
  if state == 'r' then
    out[#out + 1] = 'C'
  elseif h then
    out[#out + 1] = 'H' .. h
  elseif state == 'c' then
    out[#out + 1] = 'C'
  elseif state == 'p' then
    out[#out + 1] = 'P'
  elseif issued >= total then
    out[#out + 1] = 'S'
  else
    seq, issued = seq + 1, issued + 1
    local v = string.format('%d', seq) .. suffix
    admittedNow[user] = v
    fields[#fields + 1] = user
    fields[#fields + 1] = v
    out[#out + 1] = 'A' .. v
  end
end
if #fields > 2 then
  -- The outbox entry first: it unpacks the most values, so if a call could fail there it fails before writing anything.
  out[3] = redis.call('XADD', KEYS[5], '*', unpack(fields))
  redis.call('HSET', KEYS[2], unpack(fields, 3))
  redis.call('HSET', KEYS[1], 'issued', string.format('%d', issued), 'seq', string.format('%d', seq))
end
return out
