"""HTTP benchmark of issue 2: Switchboard (release build) beside nginx serving static files of the same
sizes, same machine, same wrk command, alternating rounds so both see the same noise.

    .state/venv/bin/python bench/http_bench.py [--rounds 2] [--duration 10] [--binary B]

Prints a markdown table of requests/s, p50/p99, Switchboard's CPU time per request (user + system,
from /proc: steadier than req/s on a shared VM) and the ratios, and Switchboard's RSS after the run.
PostgreSQL runs too: authenticated routes check the token's credential version (cached 1 s).
"""
import argparse
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import jwt
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, state_dir, wait_for_port  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

SB_PORT, NGINX_PORT, PG_PORT = 18600, 18601, 15436


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, duration: int, headers: dict[str, str], pid: int | None = None) -> dict:
    argv = ["wrk", "-t1", "-c64", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    cpu_before = cpu_seconds(pid) if pid else 0
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu_before if pid else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if errors or socket_errors:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}")
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "us_per_request": cpu * 1e6 / (rps * duration) if pid else 0}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--binary", type=Path, help="a release binary to measure instead of this tree's (comparisons)")
    args = parser.parse_args()

    binary = args.binary or build("release")
    postgres = Postgres("bench", PG_PORT).start().create_database()
    jwt_secret, turn_secret = secrets.token_hex(32), secrets.token_hex(32)
    env = {"SWITCHBOARD_ENV": "production", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(SB_PORT),
           "DATABASE_URL": postgres.url,
           "JWT_SECRET": jwt_secret, "XMPP_COMPONENT_SECRET": secrets.token_hex(32),
           "PUSH_COMPONENT_SECRET": secrets.token_hex(32), "HOOK_SECRET": secrets.token_hex(32),
           "TURN_SECRET": turn_secret, "LOG_LEVEL": "critical"}
    switchboard = Switchboard(binary, "bench", env).start()
    deadline = time.monotonic() + 20
    while postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'account_credentials'") != "1":
        assert time.monotonic() < deadline, "migrations did not run"
        time.sleep(0.1)
    postgres.psql("INSERT INTO account_credentials (jid, version) VALUES ('alice@example.com', 1)")
    now = int(time.time())
    token = jwt.encode({"sub": "alice@example.com", "iat": now, "exp": now + 86400, "ver": 1}, jwt_secret, algorithm="HS256")
    auth = {"Authorization": f"Bearer {token}"}

    # nginx serves files of exactly the sizes Switchboard answers with.
    nginx_dir = state_dir("bench", "nginx")
    (nginx_dir / "html").mkdir()
    info = requests.get(f"{switchboard.url}/api/v1/server/info").content
    turn = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers=auth).content
    (nginx_dir / "html" / "info.json").write_bytes(info)
    (nginx_dir / "html" / "turn.json").write_bytes(turn)
    (nginx_dir / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {nginx_dir}/nginx.pid;
error_log {nginx_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  types {{ }}
  client_body_temp_path {nginx_dir}; proxy_temp_path {nginx_dir}; fastcgi_temp_path {nginx_dir};
  uwsgi_temp_path {nginx_dir}; scgi_temp_path {nginx_dir};
  server {{ listen 127.0.0.1:{NGINX_PORT}; root {nginx_dir}/html; }}
}}
""")
    nginx = Daemon("nginx", ["nginx", "-c", str(nginx_dir / "nginx.conf"), "-p", str(nginx_dir)], nginx_dir / "stdout.log")
    wait_for_port(NGINX_PORT, process=nginx)

    cases = [
        ("server info", f"{switchboard.url}/api/v1/server/info", {}, f"http://127.0.0.1:{NGINX_PORT}/info.json", len(info)),
        ("TURN credentials", f"{switchboard.url}/api/v1/turn/credentials", auth, f"http://127.0.0.1:{NGINX_PORT}/turn.json", len(turn)),
    ]
    results = {name: {"sb": [], "nginx": []} for name, *_ in cases}
    try:
        for name, sb_url, headers, nginx_url, _ in cases:  # warm-up
            wrk(sb_url, 3, headers)
            wrk(nginx_url, 3, {})
        for _ in range(args.rounds):
            for name, sb_url, headers, nginx_url, _ in cases:
                results[name]["sb"].append(wrk(sb_url, args.duration, headers, switchboard.daemon.proc.pid))
                results[name]["nginx"].append(wrk(nginx_url, args.duration, {}))
        rss = rss_mb(switchboard.daemon.proc.pid)
    finally:
        nginx.stop()
        switchboard.stop()
        postgres.fast_stop()

    print(f"\n`wrk -t1 -c64 -d{args.duration}s --latency`, {args.rounds} alternating rounds, release build\n")
    print("| route | bytes | round | Switchboard req/s | p50 ms | p99 ms | CPU µs/req | nginx req/s | nginx p99 ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _, _, _, size in cases:
        for i, (sb, ng) in enumerate(zip(results[name]["sb"], results[name]["nginx"]), 1):
            print(f"| {name} | {size} | {i} | {sb['rps']:,.0f} | {sb['p50']:.2f} | {sb['p99']:.2f} | {sb['us_per_request']:.1f} | {ng['rps']:,.0f} | "
                  f"{ng['p99']:.2f} | {sb['rps'] / ng['rps']:.2f}x |")
    print(f"\nSwitchboard RSS after the run: {rss:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
