-- KEYS: 1 outbox stream. ARGV: 1 max entry id (inclusive), 2 count.
-- Returns a flat list: id, user, value, id, user, value, ...
local entries = redis.call('XRANGE', KEYS[1], '-', ARGV[1], 'COUNT', ARGV[2])
local out = {}
for _, e in ipairs(entries) do
  local fields, user, value = e[2], nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'u' then user = fields[i + 1] elseif fields[i] == 'v' then value = fields[i + 1] end
  end
  out[#out + 1] = e[1]
  out[#out + 1] = user or ''
  out[#out + 1] = value or ''
end
return out
