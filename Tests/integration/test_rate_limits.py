"""Login and registration limits (429 + Retry-After), on a second instance with low limits."""
import http.client
import json
import secrets
import subprocess

import requests

from conftest import production_environment
from stack.processes import wait_for_port

PORT = 18445


def test_login_and_register_limits(binary, switchboard, postgres, ejabberd):
    name, password = "limited", "a fine password"
    assert requests.post(f"{switchboard.url}/api/v1/account/register", json={"username": name, "password": password}).status_code == 201
    env = production_environment(postgres.url, secrets.token_hex(32), ejabberd.reader_url)
    env.update({"HTTP_PORT": str(PORT), "HOOKS_HTTP_PORT": str(PORT + 1000), "LOGIN_LIMIT_PER_USER_PER_MINUTE": "3",
                "LOGIN_LIMIT_PER_ADDRESS_PER_MINUTE": "5", "REGISTER_LIMIT_PER_ADDRESS_PER_HOUR": "2",
                "XMPP_COMPONENT_DOMAIN": "gateway2.example.com"})  # not served: this instance never uses XMPP here
    proc = subprocess.Popen([str(binary), "serve"], env={"PATH": "/usr/bin:/bin", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        try:
            wait_for_port(PORT, timeout=10)
        except TimeoutError:
            proc.kill()
            raise AssertionError(f"second instance did not start: {proc.communicate()[1]}")
        # Listening comes before the database pool is connected: wait for it, as a balancer would.
        import time
        deadline = time.monotonic() + 10
        while requests.get(f"http://127.0.0.1:{PORT}/readyz").json()["checks"]["database"] != "up":
            assert time.monotonic() < deadline, "the second instance never reached its database"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{PORT}/api/v1/account"
        statuses = [requests.post(f"{url}/login", json={"username": name, "password": password}).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        r = requests.post(f"{url}/login", json={"username": name.upper(), "password": password})
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 20
        # The user from another address is not locked out by the guesses from this one.
        assert login_from("127.0.0.2", PORT, name, password) == 200
        # Another name from the same address: the address allows 5 a minute, 4 are spent.
        assert requests.post(f"{url}/login", json={"username": "other", "password": password}).status_code == 401
        assert requests.post(f"{url}/login", json={"username": "third", "password": password}).status_code == 429
        # Registration: two per hour from this address (invalid names still count; nothing reaches XMPP).
        codes = [requests.post(f"{url}/register", json={"username": "bad name", "password": password}).status_code for _ in range(3)]
        assert codes == [400, 400, 429]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def login_from(source: str, port: int, username: str, password: str) -> int:
    """A login sent from another loopback address (the limits key on the TCP peer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        connection.request("POST", "/api/v1/account/login", body=json.dumps({"username": username, "password": password}),
                           headers={"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()
