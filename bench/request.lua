-- wrk script: sends BENCH_METHOD (default POST) with the body in BENCH_BODY
-- and the headers in BENCH_HEADERS ("Name: value" lines).  A "{n}" in the
-- body or a header value becomes BENCH_TAG-thread-counter, so deliveries
-- get distinct Idempotency-Keys and runs do not repeat each other's.
local method = os.getenv("BENCH_METHOD") or "POST"
local body = os.getenv("BENCH_BODY")
local tag = os.getenv("BENCH_TAG") or "w"
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local k, v = line:match("^([^:]+):%s*(.*)$")
  if k then headers[k] = v end
end
local n = 0
local tid = 0
setup = function(thread) thread:set("tid", tid); tid = tid + 1 end
request = function()
  n = n + 1
  local id = tag .. "-" .. tostring(tid) .. "-" .. tostring(n)
  local h = {}
  for k, v in pairs(headers) do h[k] = (v:gsub("{n}", id)) end
  return wrk.format(method, nil, h, body and (body:gsub("{n}", id)) or nil)
end
