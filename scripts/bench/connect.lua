-- wrk script: the Connect unary protocol's IssueCoupon (JSON over HTTP/1.1) for campaign $CAMPAIGN, rotating
-- pre-minted tokens (one a line in $TOKENS) like issue.lua does for REST, for the same answers.
local tokens = {}
local path = os.getenv("TOKENS") or "tokens.txt"
for line in io.lines(path) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
if #tokens == 0 then error("no tokens in " .. path) end
local body = '{"campaignId":"' .. (os.getenv("CAMPAIGN") or "1") .. '"}'

local i = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

function init(args)
  i = (offset or 0) % #tokens
end

function request()
  i = i % #tokens + 1
  return wrk.format("POST", nil, { ["Authorization"] = tokens[i], ["Content-Type"] = "application/json" }, body)
end
