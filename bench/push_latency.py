"""Publish → push arrival latency (issue 4), release build: this process plays ejabberd's side of
XEP-0114 (push_load.py's generator) and publishes at a steady `--rate`, one publish per device, and
bench/h2_sink.py stands in for APNs, stamping each push's arrival. Latency = arrival at the sink minus
the publish's send time, both from the same machine's clock.

    .state/venv/bin/python bench/push_latency.py [--rates 500,1000,2000] [--seconds 5]

The sink is Python (h2): its own ceiling is printed (h2load against it) and bounds the rates worth
asking; the nghttpd sink of push_load.py is faster but cannot stamp arrivals finer than 1 ms.
"""
import argparse
import asyncio
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from push_load import ADMIN_PORT, DOMAIN, PUSH_PORT, Generator, percentile, seed_devices, start_components  # noqa: E402
from stack.fakes import FakeAPNs  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, state_dir, wait_for_port  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

HTTP_PORT, SINK_PORT, PG_PORT = 18640, 28470, 15440
PROFILE = "bench-push-latency"


async def steady(generator: Generator, devices, rate: int, seconds: int, offset: int) -> dict[str, float]:
    """Publishes `rate × seconds` times, one device each; the wall-clock send time per token."""
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(rate * seconds):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        node, secret, token = devices[offset + i]
        sent[token] = time.time()
        generator.publish(offset + i, node, secret)
        if i % 50 == 0:
            await generator.push_writer.drain()
    return sent


def arrivals(record: Path) -> dict[str, float]:
    result = {}
    for line in record.read_text().splitlines():
        path, _, stamp = line.rpartition(" ")
        result[path.rsplit("/", 1)[-1]] = float(stamp)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="500,1000,2000")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--binary", help="a release build to measure instead of building this tree (side-by-side runs)")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    needed = sum(rates) * args.seconds
    binary = Path(args.binary) if args.binary else build("release")
    postgres = Postgres(PROFILE, PG_PORT).start().create_database()
    keys = FakeAPNs(PROFILE, SINK_PORT + 1)  # its key, certificate and CA
    sink_dir = state_dir(PROFILE, "sink")
    record = sink_dir / "arrivals.txt"
    sink = Daemon("h2-sink", [sys.executable, str(ROOT / "bench" / "h2_sink.py"), "--port", str(SINK_PORT), "--cert", str(keys.cert),
                              "--key", str(keys.tls_key), "--record", str(record)], sink_dir / "sink.log")
    wait_for_port(SINK_PORT, process=sink)
    devices = [(secrets.token_hex(10), secrets.token_hex(16), secrets.token_hex(32)) for _ in range(needed)]
    secret = secrets.token_hex(32)
    generator = Generator(secret)
    env = {"SWITCHBOARD_ENV": "production", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(HTTP_PORT), "DATABASE_URL": postgres.url,
           "JWT_SECRET": secrets.token_hex(32), "XMPP_DOMAIN": DOMAIN, "XMPP_COMPONENT_HOST": "127.0.0.1",
           "XMPP_COMPONENT_PORT": str(ADMIN_PORT), "PUSH_COMPONENT_PORT": str(PUSH_PORT),
           "XMPP_COMPONENT_SECRET": secret, "PUSH_COMPONENT_SECRET": secret, "HOOK_SECRET": secrets.token_hex(32),
           "TURN_SECRET": secrets.token_hex(32), "LOG_LEVEL": "error", **keys.environment(),
           "APNS_URL": f"https://127.0.0.1:{SINK_PORT}", "APNS_SANDBOX_URL": f"https://127.0.0.1:{SINK_PORT}"}
    results = []

    async def orchestrate():
        admin, push = await start_components(generator)
        switchboard = Switchboard(binary, PROFILE, env).start()
        try:
            await seed_devices(postgres, devices)
            await asyncio.wait_for(generator.ready.wait(), 30)
            offset = 0
            for rate in rates:
                sent = await steady(generator, devices, rate, args.seconds, offset)
                offset += rate * args.seconds
                await asyncio.sleep(2)  # the last pushes land
                seen = arrivals(record)
                latencies = [seen[token] - at for token, at in sent.items() if token in seen]
                results.append((rate, len(latencies), len(sent), latencies))
        finally:
            switchboard.stop()
            admin.close()
            push.close()

    try:
        asyncio.run(orchestrate())
        out = subprocess.run(["h2load", "-n", "20000", "-c", "1", "-m", "100", f"https://127.0.0.1:{SINK_PORT}/3/device/ceiling"],
                             capture_output=True, text=True)
        ceiling = next((line for line in out.stdout.splitlines() if line.startswith("finished in")), out.stdout[-300:] + out.stderr[-300:])
    finally:
        sink.stop()
        keys.daemon.stop()
        postgres.fast_stop()
    print(f"\nrelease build; publish sent → push arrived at bench/h2_sink.py; {args.seconds} s per rate\n")
    print("| publishes/s | pushes arrived | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for rate, arrived, total, latencies in results:
        print(f"| {rate} | {arrived} of {total} | {percentile(latencies, 0.5):.2f} ms | {percentile(latencies, 0.99):.2f} ms | "
              f"{max(latencies) * 1000 if latencies else float('nan'):.2f} ms |")
    print(f"\nsink ceiling (h2load -n 20000 -c 1 -m 100): {ceiling}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
