"""SIP hooks benchmark (issue 5), release build, everything on loopback.

    .state/venv/bin/python bench/sip_bench.py [--seconds 10] [--calls 200] [--pin]

1. Hook latency under load from a second process: wrk (one thread, paced with a Lua `delay()` so the
   offered rate stays near 5k/s rather than saturating) against GET /hooks/sip/ha1 (1,000 users in
   turn, answered from the cache), POST /hooks/sip/call (a new Call-ID each time: one INSERT plus
   two pushes queued, to an nghttpd APNs sink), and, as the floor of the HTTP server itself, the
   fixed GET /api/v1/server/info under the same pacing. Rounds alternate so all see the same noise.
2. INVITE to push: SIPp places `--calls` calls (20 per second) through Kamailio (deploy/kamailio,
   loopback) to sleeping callees; each INVITE's send time (SIPp's message trace) is paired with the
   time the fake APNs (fixtures/fakes/fake_apns.py) received the VoIP push of that Call-ID. The
   caller cancels each call after 1.5 s.
Accounts are rows written straight into `subscriber` and `push_registrations` (no ejabberd needed).
"""
import argparse
import hashlib
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from stack.fakes import FakeAPNs  # noqa: E402
from stack.kamailio import Kamailio  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, Pinning, state_dir, wait_for_port  # noqa: E402
from stack.rtpengine import Rtpengine  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

DOMAIN, PASSWORD = "example.com", "bench password"
HTTP_PORT, PG_PORT, APNS_PORT, SINK_PORT, SIPP_PORT = 18630, 15439, 28460, 28462, 25180
KAMAILIO_PORTS = {"udp": 25160, "tls": 25161, "wss": 25189}
RTPENGINE = (22323, 29901, (30200, 30300))
USERS = 1000
PROFILE = "bench-sip"


def wrk(url: str, script: str, seconds: int, env: dict[str, str], connections: int = 12) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "lua" / script), url],
                         capture_output=True, text=True, check=True, env={**os.environ, **env})
    text = out.stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", text) and "hook_call" not in script or "unexpected status" in out.stderr:
        raise RuntimeError(f"errors from wrk:\n{text}\n{out.stderr[-2000:]}")

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", text).groups()
        return float(value) / 1000 if unit == "us" else float(value) * 1000 if unit == "s" else float(value)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), "p50": pct(50), "p99": pct(99)}


def psql(postgres, sql: str, rows: str | None = None) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", postgres.database, "-v", "ON_ERROR_STOP=1", "-c", sql],
                   input=rows, text=True, check=True, capture_output=True)


def seed(postgres, tokens: list[str]) -> None:
    """u0 … u999 with SIP rows and one iOS device (VoIP token) each; the caller alice."""
    subscribers = "\n".join(f"u{i}\t{DOMAIN}\t{hashlib.md5(f'u{i}:{DOMAIN}:{PASSWORD}'.encode()).hexdigest()}" for i in range(USERS))
    subscribers += f"\nalice\t{DOMAIN}\t{hashlib.md5(f'alice:{DOMAIN}:{PASSWORD}'.encode()).hexdigest()}"
    psql(postgres, "COPY subscriber (username, domain, ha1) FROM STDIN", subscribers)
    devices = "\n".join(f"{i:08x}-0000-4000-8000-000000000000\tu{i}@{DOMAIN}\tios\t{'ab' * 32}\t{tokens[i]}\tcom.example.phone\tproduction\tnode{i}\tsecret{i}"
                        for i in range(USERS))
    psql(postgres, "COPY push_registrations (device_uuid, jid, platform, push_token, voip_token, app_id, environment, node, secret) FROM STDIN", devices)


def hook_latency(url: str, hooks_url: str, secret: str, seconds: int, rounds: int) -> list[tuple[str, dict]]:
    """(case, {rps, p50, p99: per round}); each case paced to its own offered rate. The floor is on
    the public listener, the hooks on the internal one: two MHD servers on the same loop."""
    floor_script = state_dir(PROFILE, "lua") / "paced_get.lua"
    floor_script.write_text('function delay() return tonumber(os.getenv("DELAY_MS") or "2") end\n')
    base = {"HOOK_SECRET": secret, "USERS": str(USERS)}
    # connections × 1 / (delay + latency): 13 × 2 ms ≈ 5k/s, 12 × 11 ms ≈ 1k/s, 12 × 47 ms ≈ 250/s.
    floor = ("server info, the floor", f"{url}/api/v1/server/info", str(floor_script))
    cases = [(f"{floor[0]} (~5k/s)", *floor[1:], {**base, "DELAY_MS": "2"}, 13),
             ("HA1 hook (~5k/s)", hooks_url, "hook_ha1.lua", {**base, "DELAY_MS": "2"}, 13),
             (f"{floor[0]} (~1k/s)", *floor[1:], {**base, "DELAY_MS": "11"}, 12),
             ("call hook (~1k/s)", hooks_url, "hook_call.lua", {**base, "DELAY_MS": "11"}, 12),
             (f"{floor[0]} (~250/s)", *floor[1:], {**base, "DELAY_MS": "47"}, 12),
             ("call hook (~250/s)", hooks_url, "hook_call.lua", {**base, "DELAY_MS": "47"}, 12)]
    results: dict[str, list[dict]] = {name: [] for name, *_ in cases}
    for _ in range(rounds):
        for name, target, script, env, connections in cases:
            # 2 s of the same traffic first: steady state (a warm HA1 cache), as in production.
            wrk(target, script, 2, env, connections)
            results[name].append(wrk(target, script, seconds, env, connections))
    return [(name, {k: sorted(r[k] for r in runs) for k in ("rps", "p50", "p99")}) for name, runs in results.items()]


def invite_to_push(kamailio_port: int, calls: int, fake: FakeAPNs) -> list[float]:
    sipp_dir = state_dir(PROFILE, "sipp")
    csv = sipp_dir / "calls.csv"
    csv.write_text("SEQUENTIAL\n" + "".join(f"alice;u{i % USERS};{DOMAIN};\n" for i in range(calls)))
    started = len(fake.pushes())
    subprocess.run(["sipp", f"127.0.0.1:{kamailio_port}", "-sf", str(ROOT / "fixtures" / "sipp" / "caller_cancel.xml"), "-inf", str(csv),
                    "-i", "127.0.0.1", "-p", str(SIPP_PORT), "-m", str(calls), "-r", "20", "-l", "100", "-d", "1500", "-nostdin",
                    "-au", "alice", "-ap", PASSWORD, "-trace_msg", "-message_file", str(sipp_dir / "messages.log"),
                    "-timeout", "120s", "-timeout_error"], cwd=sipp_dir, check=True, capture_output=True)
    # SIPp stamps each message: "----------------------------------------------- 2026-11-29\t11:00:00.123456\t1795…"
    sent: dict[str, float] = {}
    for block in (sipp_dir / "messages.log").read_text(errors="replace").split("----------------------------------------------- ")[1:]:
        head, _, body = block.partition("\n")
        if "message sent" not in block[:400] or "CSeq: 2 INVITE" not in body:
            continue
        stamp = re.match(r"(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d\.\d+)", head)
        call_id = re.search(r"^\s*Call-ID: (\S+)", body, re.M).group(1)
        sent[call_id] = datetime.strptime(f"{stamp.group(1)} {stamp.group(2)}", "%Y-%m-%d %H:%M:%S.%f").timestamp()
    latencies = []
    for push in fake.pushes()[started:]:
        if push["payload"].get("type") == "call" and push["payload"]["call_id"] in sent:
            latencies.append((push["received"] - sent[push["payload"]["call_id"]]) * 1000)
    return sorted(latencies)


def percentile(values, p):
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--pin", action="store_true",
                        help="Switchboard alone on CPU 1; wrk, PostgreSQL, the sinks, Kamailio and SIPp on CPU 0")
    args = parser.parse_args()
    pinning = Pinning(args.pin)

    def start_switchboard(environment):
        with pinning.switchboard():
            return Switchboard(binary, PROFILE, environment).start()
    binary = build("release")
    stops, switchboard = [], None
    try:
        postgres = Postgres(PROFILE, PG_PORT).start().create_database()
        stops.append(postgres.fast_stop)
        fake = FakeAPNs(PROFILE, APNS_PORT)
        stops.append(fake.daemon.stop)
        secret = secrets.token_hex(32)
        env = {"SWITCHBOARD_ENV": "production", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(HTTP_PORT), "DATABASE_URL": postgres.url,
               "CALL_LIMIT_PER_CALLER_PER_MINUTE": "1000000",  # the load comes from one caller
               "JWT_SECRET": secrets.token_hex(32), "XMPP_DOMAIN": DOMAIN, "XMPP_COMPONENT_HOST": "127.0.0.1", "XMPP_COMPONENT_PORT": "1",
               "XMPP_COMPONENT_SECRET": secrets.token_hex(32), "PUSH_COMPONENT_SECRET": secrets.token_hex(32), "HOOK_SECRET": secret,
               "TURN_SECRET": secrets.token_hex(32), "LOG_LEVEL": "error", "CALL_RING_SECONDS": "30", **fake.environment()}
        tokens = [secrets.token_hex(32) for _ in range(USERS)]
        # Part 1 pushes to an nghttpd sink (the Python fake would be the bottleneck at 5k calls/s).
        sink_dir = state_dir(PROFILE, "sink")
        (sink_dir / "htdocs" / "3" / "device").mkdir(parents=True)
        for token in tokens:
            (sink_dir / "htdocs" / "3" / "device" / token).write_text("")
        sink = Daemon("nghttpd", ["nghttpd", "-a", "127.0.0.1", "-d", str(sink_dir / "htdocs"), str(SINK_PORT),
                                  str(fake.tls_key), str(fake.cert)], sink_dir / "nghttpd.log")
        stops.append(sink.stop)
        wait_for_port(SINK_PORT, process=sink)
        sink_env = {**env, "APNS_URL": f"https://127.0.0.1:{SINK_PORT}", "APNS_SANDBOX_URL": f"https://127.0.0.1:{SINK_PORT}"}
        switchboard = start_switchboard(sink_env)
        deadline = time.monotonic() + 20
        while postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'sip_calls'") != "1":
            assert time.monotonic() < deadline, "migrations did not run"
            time.sleep(0.1)
        seed(postgres, tokens)
        latency = hook_latency(switchboard.url, switchboard.hooks_url, secret, args.seconds, args.rounds)
        switchboard.stop()

        # Part 2 against the strict fake, through Kamailio.
        switchboard = start_switchboard(env)
        rtpengine = Rtpengine(PROFILE, *RTPENGINE).start()
        stops.append(rtpengine.stop)
        kamailio = Kamailio(PROFILE, KAMAILIO_PORTS, RTPENGINE[0], switchboard.hooks_url, secret, DOMAIN, ring_seconds=30,
                            flood_requests=100000).start()  # every call comes from one address
        stops.append(kamailio.stop)
        time.sleep(1)
        invite = invite_to_push(KAMAILIO_PORTS["udp"], args.calls, fake)
    finally:
        if switchboard:
            switchboard.stop()
        for stop in reversed(stops):
            stop()

    print(f"\n### SIP hooks, {time.strftime('%Y-%m-%d')} (release build, wrk -t1, paced per connection, {args.rounds} rounds × {args.seconds} s{pinning.label})\n")
    print("| case | req/s | p50 ms | p99 ms (rounds) | worst p99 / its floor's |")
    print("|---|---|---|---|---|")
    floor = None
    for name, r in latency:
        floor = max(r["p99"]) if name.startswith("server info") else floor
        print(f"| {name} | {' / '.join(f'{v:.0f}' for v in r['rps'])} | {' / '.join(f'{v:.3f}' for v in r['p50'])} | "
              f"{' / '.join(f'{v:.3f}' for v in r['p99'])} | {max(r['p99']) / floor:.2f}× |")
    print(f"\nINVITE sent (SIPp) → VoIP push received (fake APNs), {len(invite)} of {args.calls} calls at 20 calls/s: "
          f"p50 {percentile(invite, 0.5):.2f} ms, p99 {percentile(invite, 0.99):.2f} ms, max {invite[-1] if invite else float('nan'):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
