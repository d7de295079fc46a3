"""Login throughput, and the loop staying responsive under it (issue 3).

    .state/venv/bin/python bench/login_flood.py [--duration 10]

Starts PostgreSQL, ejabberd and a release Switchboard (login limits raised out of the way), registers
one account, then runs side by side on loopback: wrk flooding POST /api/v1/account/login with that
account's credentials (PBKDF2-SHA256, 4096 iterations, runs off the loop), and wrk measuring
GET /api/v1/server/info latency. Prints logins/s and the server-info p50/p99 with and without the flood.
"""
import argparse
import re
import secrets
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from stack.ejabberd import Ejabberd  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import state_dir  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

DOMAIN = "example.com"
PORTS = {"c2s": 26222, "c2s_tls": 26223, "http": 26280, "https": 26443, "admin": 26347, "push": 26348}
HTTP_PORT = 18610


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> subprocess.Popen:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"] + (["-s", str(script)] if script else []) + [url]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def parse(out: str) -> dict:
    def ms(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms(50), "p99": ms(99),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    binary = build("release")
    postgres = Postgres("bench-login", 15437).start().create_database()
    components = {"admin": (f"gateway.{DOMAIN}", secrets.token_hex(32)), "push": (f"push.{DOMAIN}", secrets.token_hex(32))}
    ejabberd = Ejabberd("bench-login", postgres, DOMAIN, PORTS, components).load_schema().start()
    env = {"SWITCHBOARD_ENV": "production", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(HTTP_PORT),
           "DATABASE_URL": postgres.url, "EJABBERD_DATABASE_URL": ejabberd.reader_url,
           "JWT_SECRET": secrets.token_hex(32), "XMPP_DOMAIN": DOMAIN,
           "XMPP_COMPONENT_HOST": "127.0.0.1", "XMPP_COMPONENT_PORT": str(PORTS["admin"]), "PUSH_COMPONENT_PORT": str(PORTS["push"]),
           "XMPP_COMPONENT_SECRET": components["admin"][1], "PUSH_COMPONENT_SECRET": components["push"][1],
           "HOOK_SECRET": secrets.token_hex(32), "TURN_SECRET": secrets.token_hex(32), "LOG_LEVEL": "error",
           "LOGIN_LIMIT_PER_USER_PER_MINUTE": "100000", "LOGIN_LIMIT_PER_ADDRESS_PER_MINUTE": "100000"}
    switchboard = Switchboard(binary, "bench-login", env).start()
    try:
        import time
        deadline = time.monotonic() + 30
        while requests.get(f"{switchboard.url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.1)
        r = requests.post(f"{switchboard.url}/api/v1/account/register", json={"username": "flood", "password": "flood password"})
        assert r.status_code == 201, r.text
        script = state_dir("bench-login", "wrk") / "login.lua"
        script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                          'wrk.body = \'{"username":"flood","password":"flood password"}\'\n')
        info = f"{switchboard.url}/api/v1/server/info"
        quiet = parse(wrk(info, args.duration, 16).communicate()[0])
        flood = wrk(f"{switchboard.url}/api/v1/account/login", args.duration, 16, script)
        during = parse(wrk(info, args.duration, 16).communicate()[0])
        logins = parse(flood.communicate()[0])
    finally:
        switchboard.stop()
        ejabberd.stop()
        postgres.fast_stop()
    print(f"\n`wrk -t1 -c16 -d{args.duration}s`, release build; login flood and server-info probe run at the same time\n")
    print("| measurement | req/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    print(f"| server info, alone | {quiet['rps']:,.0f} | {quiet['p50']:.2f} | {quiet['p99']:.2f} | {quiet['errors']} |")
    print(f"| login flood (16 connections) | {logins['rps']:,.0f} | {logins['p50']:.2f} | {logins['p99']:.2f} | {logins['errors']} |")
    print(f"| server info, during the flood | {during['rps']:,.0f} | {during['p50']:.2f} | {during['p99']:.2f} | {during['errors']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
