"""Push throughput and latency end to end (issue 4), release build.

    .state/venv/bin/python bench/push_load.py [--devices 10000] [--rate 5000] [--seconds 5] [--pin] [--binary B]

This process plays ejabberd's side of XEP-0114: it accepts Switchboard's admin and push component
connections, handshakes, then sends publish IQs for `--devices` registered iOS devices (rows written
straight into push_registrations). The APNs sink is nghttpd over TLS (HTTP/2) serving
/3/device/<token> for every token. Two phases:
  1. flood: publishes as fast as Switchboard answers them (window of 2000 outstanding); pushes/s is
     read from Switchboard's /metrics (sent counter) over the same wall time;
  2. steady: `--rate` publishes per second for `--seconds`; latency from publish sent to its IQ
     result (Switchboard answers before delivering) and delivery throughput from /metrics.
Then RSS, and h2load's ceiling against the same sink and against fixtures/fakes/fake_apns.py.
"""
import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from stack.component_peer import ComponentPeer, seed_ios_registrations  # noqa: E402
from stack.fakes import FakeAPNs  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, Pinning, state_dir, wait_for_port  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

DOMAIN = "example.com"
ADMIN_PORT, PUSH_PORT, HTTP_PORT, SINK_PORT, PG_PORT = 27347, 27348, 18620, 28450, 15438


def sent_total(url: str) -> int:
    metrics = requests.get(f"{url}/metrics").text
    return int(re.search(r'switchboard_pushes_total\{platform="ios",outcome="sent"\} (\d+)', metrics).group(1))


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of all of the process's threads so far."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        total += sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", status.read_text()))
    return total


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


async def run(args, metrics_url: str, generator: ComponentPeer, devices):
    await asyncio.wait_for(generator.ready.wait(), 30)
    results = {}
    # Phase 1: flood.
    count = min(args.devices, len(devices)) * 2
    before, started = sent_total(metrics_url), time.perf_counter()
    for i in range(count):
        while len(generator.sent) > 2000:
            await asyncio.sleep(0.0005)
        node, secret, _ = devices[i % len(devices)]
        generator.publish(i, node, secret)
        if i % 200 == 0:
            await generator.push_writer.drain()
    while len(generator.sent) > 0 and time.perf_counter() - started < 60:
        await asyncio.sleep(0.01)
    answered_at = time.perf_counter()
    while sent_total(metrics_url) - before < count and time.perf_counter() - started < 60:
        await asyncio.sleep(0.01)
    delivered_at = time.perf_counter()
    results["flood"] = {"publishes": count, "answers_per_s": count / (answered_at - started),
                        "pushes_per_s": (sent_total(metrics_url) - before) / (delivered_at - started), "errors": generator.errors}
    # Phase 2: steady rate.
    generator.latencies.clear()
    before, started = sent_total(metrics_url), time.perf_counter()
    total = args.rate * args.seconds
    for i in range(total):
        target = started + i / args.rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        node, secret, _ = devices[i % len(devices)]
        generator.publish(count + i, node, secret)
    while len(generator.sent) > 0 and time.perf_counter() - started < args.seconds + 30:
        await asyncio.sleep(0.01)
    while sent_total(metrics_url) - before < total and time.perf_counter() - started < args.seconds + 30:
        await asyncio.sleep(0.01)
    results["steady"] = {"rate": args.rate, "p50_ms": percentile(generator.latencies, 0.5), "p99_ms": percentile(generator.latencies, 0.99),
                         "delivered": sent_total(metrics_url) - before, "expected": total}
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--log-level", default="error", help="LOG_LEVEL: info writes one line per push ending (docs/operations.md)")
    parser.add_argument("--binary", help="a release build to measure instead of building this tree (side-by-side runs)")
    parser.add_argument("--pin", action="store_true",
                        help="Switchboard alone on CPU 1; this generator, PostgreSQL and the sink on CPU 0")
    args = parser.parse_args()
    pinning = Pinning(args.pin)
    binary = Path(args.binary) if args.binary else build("release")
    postgres = Postgres("bench-push", PG_PORT).start().create_database()
    apns_keys = FakeAPNs("bench-push", SINK_PORT + 1)  # for its key, certificate and the fake's ceiling below
    sink_dir = state_dir("bench-push", "sink")
    devices = [(secrets.token_hex(10), secrets.token_hex(16), secrets.token_hex(32)) for _ in range(args.devices)]
    (sink_dir / "htdocs" / "3" / "device").mkdir(parents=True)
    for _, _, token in devices:
        (sink_dir / "htdocs" / "3" / "device" / token).write_text("")
    sink = Daemon("nghttpd", ["nghttpd", "-a", "127.0.0.1", "-d", str(sink_dir / "htdocs"), str(SINK_PORT),
                              str(apns_keys.tls_key), str(apns_keys.cert)], sink_dir / "nghttpd.log")
    wait_for_port(SINK_PORT, process=sink)
    component_secret = secrets.token_hex(32)
    generator = ComponentPeer(component_secret, DOMAIN, ADMIN_PORT, PUSH_PORT)
    env = {"SWITCHBOARD_ENV": "production", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(HTTP_PORT), "DATABASE_URL": postgres.url,
           "JWT_SECRET": secrets.token_hex(32), "XMPP_DOMAIN": DOMAIN, "XMPP_COMPONENT_HOST": "127.0.0.1",
           "XMPP_COMPONENT_PORT": str(ADMIN_PORT), "PUSH_COMPONENT_PORT": str(PUSH_PORT),
           "XMPP_COMPONENT_SECRET": component_secret, "PUSH_COMPONENT_SECRET": component_secret,
           "HOOK_SECRET": secrets.token_hex(32), "TURN_SECRET": secrets.token_hex(32), "LOG_LEVEL": args.log_level,
           **apns_keys.environment(), "APNS_URL": f"https://127.0.0.1:{SINK_PORT}", "APNS_SANDBOX_URL": f"https://127.0.0.1:{SINK_PORT}"}

    async def orchestrate():
        await generator.start()
        with pinning.switchboard():
            switchboard = Switchboard(binary, "bench-push", env).start()
        try:
            await asyncio.to_thread(seed_ios_registrations, postgres, devices, f"bench@{DOMAIN}")
            results = await run(args, switchboard.hooks_url, generator, devices)
            pid = switchboard.daemon.proc.pid
            rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
            results["switches"] = context_switches(pid)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            results["cpu_seconds"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            return results, rss
        finally:
            switchboard.stop()
            generator.close()

    try:
        results, rss = asyncio.run(orchestrate())
        ceilings = {}
        for name, port in (("nghttpd sink", SINK_PORT), ("fake APNs (Python)", apns_keys.PORT)):
            out = subprocess.run(["h2load", "-n", "20000", "-c", "1", "-m", "100",
                                  f"https://127.0.0.1:{port}/3/device/{devices[0][2]}"], capture_output=True, text=True).stdout
            found = re.search(r"finished in .*?, ([\d.]+) req/s", out)
            ceilings[name] = float(found.group(1)) if found else float("nan")
    finally:
        sink.stop()
        apns_keys.daemon.stop()
        postgres.fast_stop()
    flood, steady = results["flood"], results["steady"]
    print(f"\nrelease build; {args.devices} registered iOS devices; one push component connection; APNs sink = nghttpd (HTTP/2 + TLS){pinning.label}\n")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| flood: publishes answered per second | {flood['answers_per_s']:,.0f} |")
    print(f"| flood: pushes delivered per second (sink 200s, from /metrics) | {flood['pushes_per_s']:,.0f} |")
    print(f"| flood: error answers | {flood['errors']} |")
    print(f"| steady {steady['rate']}/s: publish → IQ result p50 / p99 | {steady['p50_ms']:.2f} ms / {steady['p99_ms']:.2f} ms |")
    print(f"| steady {steady['rate']}/s: pushes delivered | {steady['delivered']} of {steady['expected']} |")
    print(f"| Switchboard RSS after the run | {rss:.1f} MB |")
    delivered = results["flood"]["publishes"] + results["steady"]["delivered"]
    print(f"| context switches of Switchboard's threads per push delivered (whole run) | {results['switches'] / max(1, delivered):.2f} |")
    print(f"| Switchboard CPU (user + system) per push delivered (whole run) | {results['cpu_seconds'] * 1e6 / max(1, delivered):.0f} µs |")
    for name, value in ceilings.items():
        print(f"| h2load ceiling, {name} (POST-less GET, 1 connection, 100 streams) | {value:,.0f} req/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
