-- KEYS: 1 outbox stream. ARGV: 1 max entry id (inclusive), 2 most entries.
-- Returns a flat list with one triple per admission: entry id, user, value, entry id, user, value, ...
-- An entry holds one batch's admissions ("" = "b", then user = value pairs; see admit.lua) or,
-- as written by earlier versions, one admission as the fields u and v.
local entries = redis.call('XRANGE', KEYS[1], '-', ARGV[1], 'COUNT', ARGV[2])
local out = {}
for _, e in ipairs(entries) do
  local f = e[2]
  if f[1] == '' then
    for i = 3, #f, 2 do
      out[#out + 1] = e[1]
      out[#out + 1] = f[i]
      out[#out + 1] = f[i + 1]
    end
  else
    local user, value = '', ''
    for i = 1, #f, 2 do
      if f[i] == 'u' then user = f[i + 1] elseif f[i] == 'v' then value = f[i + 1] end
    end
    out[#out + 1] = e[1]
    out[#out + 1] = user
    out[#out + 1] = value
  end
end
return out
