-- wrk script for POST /v1/features: `wrk -s features.lua URL -- ENTITIES TOTAL AT`.
-- Each request asks for ENTITIES random accounts out of 1..TOTAL (all 10 features of view
-- `acct`) as of AT. Bodies are built once in init() so wrk measures the server, not Lua.
-- WRK_DELAY_MS=N (environment) makes every connection wait N ms between requests: a paced,
-- roughly constant-rate load instead of a saturating one.
local bodies = {}
local next_body = 0

function init(args)
  local per, total, at = tonumber(args[1]), tonumber(args[2]), args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  for i = 1, 4000 do
    local parts = {}
    for j = 1, per do
      parts[j] = '{"account_id":' .. math.random(1, total) .. '}'
    end
    bodies[i] = '{"view":"acct","at":"' .. at .. '","entities":[' .. table.concat(parts, ",") .. ']}'
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, "/v1/features", nil, bodies[next_body])
end

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if delay_ms then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d p999_us=%d max_us=%d " ..
                         "socket_errors=%d non2xx=%d requests=%d\n",
                         summary.requests / seconds, latency:percentile(50),
                         latency:percentile(99), latency:percentile(99.9), latency.max,
                         e.connect + e.read + e.write + e.timeout, e.status, summary.requests))
end
