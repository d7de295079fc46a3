"""ejabberd's side of Switchboard's two XEP-0114 component connections, for load the real ejabberd
cannot make quickly: it accepts the admin and push connections, checks the handshake, sends publish
IQs shaped as ejabberd 23.01's mod_push sends them (docs/xmpp.md) and counts their answers.

Like ejabberd, it routes a stanza a component addresses to its own domain back to it, so
Switchboard's start-up probe for a second connection serving the admin domain passes. Used by
bench/push_load.py and by integration tests that need thousands of publishes at once (ejabberd
shapes each client connection to 1,000 bytes/s and keeps 100 offline messages per user).
"""
import asyncio
import hashlib
import re
import secrets
import subprocess
import threading
import time
import uuid

STANZA_TAG = re.compile(rb"<(/?)([^\s/>?!]+)[^>]*?(/?)>")
TO = re.compile(rb"""\sto=['"]([^'"]+)['"]""")
ANSWER = re.compile(rb"<iq[^>]*?(?:type='(\w+)'[^>]*?id='([^']+)'|id='([^']+)'[^>]*?type='(\w+)')")


def top_level_stanzas(buffer: bytes, depth: int) -> tuple[list[bytes], bytes, int]:
    """Cuts the complete stanzas (depth 1 under the stream header) out of `buffer`: (stanzas, the
    unfinished rest, the depth where the rest starts). Switchboard's serializer escapes `>` in
    attribute values and writes no comments or CDATA, so tags can be told apart by `<` and `>`."""
    stanzas, start, consumed = [], None, 0
    for tag in STANZA_TAG.finditer(buffer):
        closing, empty = tag.group(1) == b"/", tag.group(3) == b"/"
        if not closing and depth == 1:
            start = tag.start()
        if closing:
            depth -= 1
        elif not empty:
            depth += 1
        if depth == 1 and start is not None and (closing or empty):
            stanzas.append(buffer[start:tag.end()])
            consumed, start = tag.end(), None
        elif depth == 1 and start is None:
            consumed = tag.end()  # the stream header
    return stanzas, buffer[consumed:], depth


class ComponentPeer:
    """Both listeners on 127.0.0.1; `domain` is the XMPP domain publishes come from."""

    def __init__(self, secret: str, domain: str, admin_port: int, push_port: int):
        self.secret, self.domain = secret, domain
        self.admin_port, self.push_port = admin_port, push_port
        self.push_writer: asyncio.StreamWriter | None = None
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.answered = 0
        self.errors = 0
        self.error_samples: list[bytes] = []  # the first few error answers, for a test's message
        self.ready = asyncio.Event()
        self.servers: list[asyncio.Server] = []

    async def start(self) -> None:
        self.servers = [await asyncio.start_server(lambda r, w: self.serve(r, w, False), "127.0.0.1", self.admin_port),
                        await asyncio.start_server(lambda r, w: self.serve(r, w, True), "127.0.0.1", self.push_port)]

    def close(self) -> None:
        for server in self.servers:
            server.close()

    async def serve(self, reader, writer, is_push: bool):
        header = await reader.readuntil(b">")
        while b"stream:stream" not in header:  # past an XML declaration
            header = await reader.readuntil(b">")
        component = TO.search(header).group(1)
        stream_id = secrets.token_hex(8)
        writer.write(f"<?xml version='1.0'?><stream:stream id='{stream_id}' xmlns:stream='http://etherx.jabber.org/streams' "
                     f"xmlns='jabber:component:accept' from='{component.decode()}'>".encode())
        handshake = await reader.readuntil(b"</handshake>")
        expected = hashlib.sha1((stream_id + self.secret).encode()).hexdigest().encode()
        assert expected in handshake, "bad handshake"
        writer.write(b"<handshake/>")
        await writer.drain()
        if is_push:
            self.push_writer = writer
            self.ready.set()
        buffer, depth = b"", 1
        while True:
            data = await reader.read(1 << 20)
            if not data:
                return
            now = time.perf_counter()
            stanzas, buffer, depth = top_level_stanzas(buffer + data, depth)
            for stanza in stanzas:
                to = TO.search(stanza[:stanza.index(b">")])
                if to is not None and to.group(1) == component:
                    writer.write(stanza)  # routed back, as ejabberd does
                elif is_push:
                    self.note_answer(stanza, now)

    def note_answer(self, stanza: bytes, now: float) -> None:
        match = ANSWER.match(stanza)
        if match is None:
            return
        kind = match.group(1) or match.group(4)
        started = self.sent.pop((match.group(2) or match.group(3)).decode(), None)
        if started is None:
            return
        if kind == b"result":
            self.answered += 1
            self.latencies.append(now - started)
        else:
            self.errors += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(stanza)

    def publish(self, i: int, node: str, secret: str) -> None:
        """Writes publish `i` for (node, secret); the caller drains the writer now and then."""
        iq_id = f"p{i}"
        self.sent[iq_id] = time.perf_counter()
        self.push_writer.write(
            f"<iq type='set' id='{iq_id}' from='{self.domain}' to='push.{self.domain}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            f"<publish node='{node}'><item><notification xmlns='urn:xmpp:push:0'/></item></publish><publish-options>"
            f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value>"
            f"</field><field var='secret'><value>{secret}</value></field></x></publish-options></pubsub></iq>".encode())


class ThreadedComponentPeer:
    """A ComponentPeer on an event loop of its own thread, for synchronous tests."""

    def __init__(self, secret: str, domain: str, admin_port: int, push_port: int):
        self.loop = asyncio.new_event_loop()
        self.peer = ComponentPeer(secret, domain, admin_port, push_port)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self.peer.start())

    def _call(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def wait_connected(self, timeout: float = 30) -> None:
        self._call(asyncio.wait_for(self.peer.ready.wait(), timeout), timeout + 1)

    def publish_all(self, devices: list[tuple[str, str]], first_id: int = 0, window: int = 1000) -> None:
        """One publish per (node, secret), with at most `window` unanswered at a time (Switchboard
        answers `wait` to what its database pool cannot queue)."""
        async def write():
            for i, (node, secret) in enumerate(devices):
                while len(self.peer.sent) >= window:
                    await asyncio.sleep(0.001)
                self.peer.publish(first_id + i, node, secret)
                if i % 200 == 0:
                    await self.peer.push_writer.drain()
            await self.peer.push_writer.drain()
        self._call(write(), 120)

    @property
    def answered(self) -> int:
        return self.peer.answered

    @property
    def errors(self) -> int:
        return self.peer.errors

    @property
    def error_samples(self) -> list[bytes]:
        return self.peer.error_samples

    def close(self) -> None:
        async def stop():
            self.peer.close()
        self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def seed_ios_registrations(postgres, devices: list[tuple[str, str, str]], jid: str, app_id: str = "com.example.chat") -> None:
    """Waits for Switchboard's migrations, then writes one iOS registration of `jid` per (node,
    secret, token) straight into push_registrations (thousands in one COPY)."""
    deadline = time.monotonic() + 20
    while postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'push_registrations'") != "1":
        assert time.monotonic() < deadline, "migrations did not run"
        time.sleep(0.1)
    rows = "\n".join(f"{uuid.uuid4()}\t{jid}\tios\t{token}\t{app_id}\tproduction\t{node}\t{secret}"
                      for node, secret, token in devices)
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", postgres.database, "-c",
                    "COPY push_registrations (device_uuid, jid, platform, push_token, app_id, environment, node, secret) FROM STDIN"],
                   input=rows, text=True, check=True, capture_output=True)
