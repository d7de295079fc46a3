"""Switchboard's I/O clients alone, each beside the plainest use of the same C library (issues 4, 5).

    .state/venv/bin/python bench/io_clients.py [--rounds 3] [--libcurl DIR]

Builds `switchboard-io-bench` (release) and runs, in one process per part, alternating rounds:
1. HTTP/2: 20,000 POSTs with APNs-like headers, 100 in flight on one connection, to nghttpd over TLS
   (the sink of bench/push_load.py): HTTP2Client on the loop beside a bare curl multi loop
   (curl_multi_perform + curl_multi_poll, the same options). Requests/s and CPU per request: the
   bare loop is what libcurl itself costs here. `--libcurl DIR` runs the same part once more with
   the libcurl.so.4 found in DIR (LD_LIBRARY_PATH), e.g. a newer release unpacked from a .deb.
2. PostgreSQL: round trips of one prepared statement through DatabasePool on the loop beside blocking
   PQexecPrepared on a thread: one client back to back; one client with a 1 ms pause between
   statements (each then starts from an idle wake-up); and 12 clients each pausing 11 ms (about
   1,000 statements/s, the hook benchmark's pacing: tasks sharing the pool's 4 connections against
   12 threads with a connection each).
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from stack.fakes import FakeAPNs  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, state_dir, wait_for_port  # noqa: E402

PROFILE, SINK_PORT, PG_PORT = "bench-io", 28470, 15440


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--libcurl", help="a directory holding another libcurl.so.4, measured as well")
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "switchboard-io-bench"], cwd=ROOT, check=True)
    binary = str(ROOT / ".build" / "release" / "switchboard-io-bench")

    keys = FakeAPNs(PROFILE, SINK_PORT + 1)  # for its TLS key and self-signed certificate
    sink_dir = state_dir(PROFILE, "sink")
    (sink_dir / "htdocs" / "3" / "device").mkdir(parents=True)
    (sink_dir / "htdocs" / "3" / "device" / "token").write_text("")
    sink = Daemon("nghttpd", ["nghttpd", "-a", "127.0.0.1", "-d", str(sink_dir / "htdocs"), str(SINK_PORT),
                              str(keys.tls_key), str(keys.cert)], sink_dir / "nghttpd.log")
    postgres = None
    try:
        wait_for_port(SINK_PORT, process=sink)
        h2 = [binary, "h2", f"https://127.0.0.1:{SINK_PORT}/3/device/token", str(keys.cert), "20000", "100", str(args.rounds)]
        print("\n### HTTP/2 client: 20,000 POSTs, 100 in flight, one connection, nghttpd over TLS\n", flush=True)
        subprocess.run(h2, check=True)
        if args.libcurl:
            print(f"\nThe same with the libcurl in {args.libcurl}:\n", flush=True)
            subprocess.run(h2, check=True, env={**os.environ, "LD_LIBRARY_PATH": args.libcurl})
        sink.stop()

        postgres = Postgres(PROFILE, PG_PORT).start()
        conninfo = f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres"
        for gap, clients, title in ((0, 1, "one client, back to back"), (1000, 1, "one client, 1 ms pause between statements"),
                                    (11000, 12, "12 clients, 11 ms pause each (~1,000/s)")):
            print(f"\n### PostgreSQL round trips, {title}\n", flush=True)
            subprocess.run([binary, "pg", conninfo, "3600", str(gap), str(clients), str(args.rounds)], check=True, stderr=subprocess.DEVNULL)
    finally:
        sink.stop()
        if postgres:
            postgres.fast_stop()


if __name__ == "__main__":
    main()
