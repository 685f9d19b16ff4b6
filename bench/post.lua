-- wrk script: POST the body in BENCH_BODY with the headers in BENCH_HEADERS
-- ("Name: value" lines).  A "{n}" in the body or a header value becomes a
-- per-request counter, so deliveries get distinct Idempotency-Keys.
local body = os.getenv("BENCH_BODY") or ""
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
  local id = tostring(tid) .. "-" .. tostring(n)
  local h = {}
  for k, v in pairs(headers) do h[k] = v:gsub("{n}", id) end
  return wrk.format("POST", nil, h, (body:gsub("{n}", id)))
end
