"""Connection abuse on the public port (security review H2) against the release binary: one address
holding idle, half-sent requests gets at most HTTP_CONNECTIONS_PER_ADDRESS (256) connections, while
another address and Kamailio's internal listener are served as usual."""
import http.client
import socket
import time
from urllib.parse import urlparse

import requests


def get_from(source: str, base_url: str, path: str) -> int:
    address = urlparse(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5, source_address=(source, 0))
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def closed_by_server(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_one_address_cannot_take_every_connection(switchboard):
    address = urlparse(switchboard.url)
    held = []
    try:
        for _ in range(300):
            s = socket.create_connection((address.hostname, address.port), timeout=5)
            s.sendall(b"POST /api/v1/account/login HTTP/1.1\r\nHost: x\r\n")  # and never the rest
            held.append(s)
        time.sleep(0.5)
        refused = sum(closed_by_server(s) for s in held)
        # 256 stay open (a few fewer if an earlier test's kept connection still holds a slot).
        assert 300 - 256 <= refused <= 300 - 250, f"{refused} of 300 connections from one address were closed"
        assert get_from("127.0.0.2", switchboard.url, "/healthz") == 200, "another address is served"
        assert requests.get(f"{switchboard.hooks_url}/healthz", timeout=5).status_code == 200, "the hooks' listener is served"
        r = requests.get(f"{switchboard.hooks_url}/hooks/sip/ha1?user=nobody&realm=example.com",
                         headers={"X-Hook-Secret": switchboard.env["HOOK_SECRET"]}, timeout=5)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_user", "the hooks answer (an unknown user)"
    finally:
        for s in held:
            s.close()
    # The slots come back once the server has seen the connections close.
    deadline = time.monotonic() + 5
    while True:
        try:
            if requests.get(f"{switchboard.url}/healthz", timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            pass  # still at the limit: accepted and closed at once
        assert time.monotonic() < deadline, "the slots of closed connections did not come back"
        time.sleep(0.1)


def test_a_request_trickled_one_byte_at_a_time_is_cut_off_at_the_read_deadline(switchboard):
    """Slowloris: a header byte every 2 s never lets an idle timeout fire; the request deadline (30 s
    from the connection's start, HTTPServer.Limits) closes it all the same, without an answer."""
    address = urlparse(switchboard.url)
    s = socket.create_connection((address.hostname, address.port), timeout=5)
    started = time.monotonic()
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while time.monotonic() - started < 45:
            if closed_by_server(s):
                break
            s.setblocking(True)
            try:
                s.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(2)
        held = time.monotonic() - started
    finally:
        s.close()
    assert 29 < held < 36, f"the trickling connection was held {held:.1f} s"
    assert requests.get(f"{switchboard.url}/healthz", timeout=5).status_code == 200
