#!/usr/bin/env bash
# Server CPU time per request (user + system, from /proc) for server info and TURN credentials:
# a steadier figure than req/s on a shared VM, for comparing builds. Release build, one wrk run each.
#   bench/http_cpu_per_request.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
DURATION=${1:-5}
swift build -c release --product switchboard >/dev/null
SECRET=$(openssl rand -hex 32)
export SWITCHBOARD_ENV=development HTTP_HOST=127.0.0.1 HTTP_PORT=18700 DATABASE_URL=postgresql://bench@127.0.0.1:1/none \
  JWT_SECRET=$SECRET XMPP_COMPONENT_SECRET=x PUSH_COMPONENT_SECRET=x HOOK_SECRET=x TURN_SECRET=y LOG_LEVEL=critical
.build/release/switchboard serve & PID=$!
trap 'kill $PID' EXIT
sleep 0.5
TOKEN=$(.state/venv/bin/python -c "import jwt,time,sys; print(jwt.encode({'sub':'alice@example.com','iat':int(time.time()),'exp':int(time.time())+3600}, sys.argv[1], algorithm='HS256'))" "$SECRET")
TICKS=$(getconf CLK_TCK)
for path in api/v1/server/info api/v1/turn/credentials; do
  t0=$(awk '{print $14+$15}' /proc/$PID/stat)
  rps=$(wrk -t1 -c64 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:18700/$path" | awk '/Requests\/sec/ {print $2}')
  t1=$(awk '{print $14+$15}' /proc/$PID/stat)
  python3 -c "import sys; p,r,d,t,h=sys.argv[1:]; r=float(r); print(f'{p}: {r:,.0f} req/s, server CPU {float(d)/int(h)*1e6/(r*int(t)):.1f} us/request')" \
    "$path" "$rps" "$((t1 - t0))" "$DURATION" "$TICKS"
done
