-- wrk script for the hot-entity read (bench/serve/hot.sh): `wrk -s hot.lua URL -- VIEW AT USER`.
-- Every request reads USER from VIEW as of AT.
local body

function init(args)
  body = '{"view":"' .. args[1] .. '","at":"' .. args[2] .. '","entities":[{"user_id":' ..
         args[3] .. '}]}'
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  return wrk.format(nil, "/v1/features", nil, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d max_us=%d socket_errors=%d " ..
                         "non2xx=%d requests=%d\n", summary.requests / seconds,
                         latency:percentile(50), latency:percentile(99), latency.max,
                         e.connect + e.read + e.write + e.timeout, e.status, summary.requests))
end
