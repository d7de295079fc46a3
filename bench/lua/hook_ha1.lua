-- wrk script: GET /hooks/sip/ha1 for users u0 … u(USERS-1) in turn, paced by DELAY_MS per
-- connection so that the offered rate stays near the target instead of saturating the server.
local users = tonumber(os.getenv("USERS") or "1000")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "2")
local realm = os.getenv("REALM") or "example.com"
local counter = 0

wrk.headers["X-Hook-Secret"] = os.getenv("HOOK_SECRET")

function request()
  counter = counter + 1
  return wrk.format("GET", "/hooks/sip/ha1?user=u" .. (counter % users) .. "&realm=" .. realm)
end

function delay()
  return delay_ms
end
