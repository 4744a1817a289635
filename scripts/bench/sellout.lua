-- wrk script: a sell-out crowd. Each wrk thread takes its own part of $TOKENS (fresh users, one click
-- each), so no two threads send the same user; a thread that runs out starts its part again (those are
-- then winners clicking again). Give wrk -t2 (the part size assumes 2 threads unless $THREADS says).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
if #tokens == 0 then error("no tokens in " .. os.getenv("TOKENS")) end
local threads = tonumber(os.getenv("THREADS") or "2")

local parts = 0
function setup(thread)
  thread:set("part", parts)
  parts = parts + 1
end

local first, last, i
function init(args)
  local size = math.floor(#tokens / threads)
  first = part * size + 1
  last = first + size - 1
  i = first - 1
end

function request()
  i = i + 1
  if i > last then i = first end
  return wrk.format("POST", nil, { ["Authorization"] = tokens[i], ["Content-Length"] = "0" }, nil)
end
