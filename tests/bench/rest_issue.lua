-- wrk script for tests/bench/rest_vs_grpc.sh: POST /v1/assets/{id}/playback
-- with the same viewer IP edgepass-load sends over gRPC. Counts every response
-- whose status is not 2xx (wrk's own "Non-2xx or 3xx" line counts only >= 400)
-- and prints "status_not_2xx N responses M" at the end.
--   wrk -c64 -d10s -s tests/bench/rest_issue.lua http://127.0.0.1:8080/v1/assets/1/playback
wrk.method = "POST"
wrk.body = '{"viewer":{"ip":"192.0.2.1"}}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_2xx = 0
  responses = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local bad, total = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_2xx")
    total = total + thread:get("responses")
  end
  io.write(string.format("status_not_2xx %d responses %d\n", bad, total))
end
