-- wrk script: POST /hooks/sip/call, each request a new Call-ID for callee u0 … u(USERS-1) in turn,
-- paced by DELAY_MS per connection.
local users = tonumber(os.getenv("USERS") or "1000")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "2")
local counter = 0
local run = tostring(os.time()) .. "-" .. tostring(math.random(1000000))

wrk.method = "POST"
wrk.headers["X-Hook-Secret"] = os.getenv("HOOK_SECRET")
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local body = '{"event":"incoming_call","caller":"alice","caller_display":"Alice","callee":"u' .. (counter % users) ..
    '","call_id":"bench-' .. run .. '-' .. counter .. '@127.0.0.1","t_index":1,"t_label":2}'
  return wrk.format(nil, "/hooks/sip/call", nil, body)
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
