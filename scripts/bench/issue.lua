-- wrk script: POST the issue endpoint, rotating pre-minted tokens (one a line in $TOKENS), so the
-- server validates a different user's token on every request, as in a real crowd. With $BODY (a Connect
-- IssueCoupon JSON message) it posts that instead: the Connect phase, for the same answers.
local tokens = {}
local path = os.getenv("TOKENS") or "tokens.txt"
for line in io.lines(path) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
if #tokens == 0 then error("no tokens in " .. path) end
local body = os.getenv("BODY")
if body == "" then body = nil end

local i = 0
local threads = 0
function setup(thread)
  -- Each wrk thread starts at a different place in the list.
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

function init(args)
  i = (offset or 0) % #tokens
end

function request()
  i = i % #tokens + 1
  if body then
    return wrk.format("POST", nil, { ["Authorization"] = tokens[i], ["Content-Type"] = "application/json" }, body)
  end
  return wrk.format("POST", nil, { ["Authorization"] = tokens[i], ["Content-Length"] = "0" }, nil)
end
