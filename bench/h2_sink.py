"""A minimal HTTP/2 + TLS sink for latency measurements: answers 200 to every request at once and
records `<path> <arrival time>` per request (time.time(), comparable with other processes on the
same machine). No checks: the strict fake APNs (fixtures/fakes/fake_apns.py) verifies; this one times.

    python bench/h2_sink.py --port P --cert C --key K --record FILE
"""
import argparse
import asyncio
import ssl
import time

import h2.config
import h2.connection
import h2.events


async def serve(reader, writer, record):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    paths: dict[int, str] = {}
    while data := await reader.read(65536):
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                paths[event.stream_id] = dict(event.headers).get(":path", "")
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                record.write(f"{paths.pop(event.stream_id, '')} {time.time():.6f}\n")
                conn.send_headers(event.stream_id, [(":status", "200")], end_stream=True)
        writer.write(conn.data_to_send())
        await writer.drain()
    record.flush()
    writer.close()


async def main():
    parser = argparse.ArgumentParser()
    for name in ("--cert", "--key", "--record"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["h2"])
    with open(args.record, "a", buffering=1) as record:  # line-buffered: readers see each arrival at once
        server = await asyncio.start_server(lambda r, w: serve(r, w, record), "127.0.0.1", args.port, ssl=context)
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
