"""The real stack for the integration tests: PostgreSQL, coturn and the Switchboard binary, started
natively on 127.0.0.1 by the same code as the development stack (scripts/stack)."""
import secrets
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT_DIR / "scripts"))

from stack.coturn import Coturn  # noqa: E402
from stack.ejabberd import Ejabberd  # noqa: E402
from stack.fakes import FakeAPNs, FakeFCM  # noqa: E402
from stack.kamailio import Kamailio  # noqa: E402
from stack.postgres import Postgres  # noqa: E402
from stack.processes import Daemon, state_dir  # noqa: E402
from stack.rtpengine import Rtpengine  # noqa: E402
from stack.switchboard import Switchboard, build  # noqa: E402

PROFILE = "test"
HTTP_PORT = 18443
HOOKS_HTTP_PORT = 19443  # the internal listener: Kamailio's hooks and /metrics
PG_PORT = 15433
TURN_PORT = 23478
TURN_PEER_PORT = 23490
# The TURN echo peer listens on both: 127.0.0.1 is coturn's external-ip in the tests (the host's own
# address, denied as a peer as in production), 127.0.0.2 an allowed peer.
TURN_PEER_HOSTS = ("127.0.0.2", "127.0.0.1")
DOMAIN = "example.com"
EJABBERD_PORTS = {"c2s": 25222, "c2s_tls": 25223, "http": 25280, "https": 25443, "admin": 25347, "push": 25348}
KAMAILIO_PORTS = {"udp": 25060, "tls": 25061, "wss": 25089}
RTPENGINE_NG_PORT, RTPENGINE_CLI_PORT, RTPENGINE_MEDIA = 22223, 29900, (30000, 30100)
# The ring window, one value for Switchboard's CALL_RING_SECONDS and Kamailio's RING_MS: production's
# 30 s, so that the call tests can cancel at 29 s (test_calls.py runs its scenarios side by side).
RING_SECONDS = 30
ADMIN_COMPONENT = (f"gateway.{DOMAIN}", secrets.token_hex(32))
PUSH_COMPONENT = (f"push.{DOMAIN}", secrets.token_hex(32))


# Every answer any test got from Switchboard's listeners, as (method, path, listener, status):
# test_zz_documented_statuses.py checks at the end of the suite that each status docs/openapi.yaml
# documents was answered by some test (an error code no test reaches is unproven).
ANSWERED: set[tuple[str, str, str, int]] = set()  # (method, path, listener, status)
# The listeners whose answers are recorded, by port: the session's instance, and those a test adds
# with record_answers_of().
LISTENERS = {HTTP_PORT: "public", HOOKS_HTTP_PORT: "internal"}
_send = requests.Session.send


def record_answers_of(server) -> None:
    LISTENERS[server.port], LISTENERS[server.hooks_port] = "public", "internal"


def _recording_send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    from urllib.parse import urlsplit
    url = urlsplit(request.url)
    if url.hostname == "127.0.0.1" and url.port in LISTENERS:
        ANSWERED.add((request.method, url.path, LISTENERS[url.port], response.status_code))
    return response


requests.Session.send = _recording_send


@pytest.fixture(scope="session")
def binary() -> Path:
    return build("release")


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres(PROFILE, PG_PORT).start().create_database()
    yield pg
    pg.fast_stop()


@pytest.fixture(scope="session")
def ejabberd(postgres, turn_secret):
    server = Ejabberd(PROFILE, postgres, DOMAIN, EJABBERD_PORTS, {"admin": ADMIN_COMPONENT, "push": PUSH_COMPONENT},
                      turn=("127.0.0.1", TURN_PORT, turn_secret))
    server.load_schema().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_fcm(fake_apns):
    fake = FakeFCM(PROFILE, 28444, tls=fake_apns)
    yield fake
    fake.daemon.stop()


@pytest.fixture(scope="session")
def fake_apns():
    fake = FakeAPNs(PROFILE, 28443)
    yield fake
    fake.daemon.stop()


@pytest.fixture(scope="session")
def turn_secret() -> str:
    return secrets.token_hex(32)


@pytest.fixture(scope="session")
def coturn(turn_secret):
    server = Coturn(PROFILE, TURN_PORT, turn_secret, DOMAIN).start(allow_loopback_peers=True)
    peer = Daemon("turnutils_peer", ["turnutils_peer", *[a for host in TURN_PEER_HOSTS for a in ("-L", host)], "-p", str(TURN_PEER_PORT)],
                  state_dir(PROFILE, "turn-peer") / "peer.log")
    yield server
    peer.stop()
    server.stop()


def production_environment(database_url: str, turn_secret: str, ejabberd_database_url: str | None = None,
                           fake_apns: "FakeAPNs | None" = None, fake_fcm: "FakeFCM | None" = None) -> dict[str, str]:
    """Production mode (the strict secret checks apply), with strong random secrets."""
    return {
        "SWITCHBOARD_ENV": "production",
        "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(HTTP_PORT), "HOOKS_HTTP_PORT": str(HOOKS_HTTP_PORT),
        "DATABASE_URL": database_url,
        "EJABBERD_DATABASE_URL": ejabberd_database_url or database_url,
        "JWT_SECRET": secrets.token_hex(32),
        "XMPP_DOMAIN": DOMAIN, "XMPP_HOST": "xmpp.example.com", "XMPP_PORT": "5222",
        "XMPP_WS_URL": "wss://xmpp.example.com/ws",
        "XMPP_COMPONENT_HOST": "127.0.0.1", "XMPP_COMPONENT_PORT": str(EJABBERD_PORTS["admin"]),
        "PUSH_COMPONENT_PORT": str(EJABBERD_PORTS["push"]),
        "XMPP_COMPONENT_SECRET": ADMIN_COMPONENT[1], "PUSH_COMPONENT_SECRET": PUSH_COMPONENT[1],
        "HOOK_SECRET": secrets.token_hex(32),
        "ADMIN_TOKEN": secrets.token_hex(32),
        "CALL_RING_SECONDS": str(RING_SECONDS),
        "SIP_HOST": "sip.example.com", "SIP_PORT": "5060",
        "TURN_SECRET": turn_secret,
        "TURN_URIS": f"turn:127.0.0.1:{TURN_PORT}?transport=udp,turn:127.0.0.1:{TURN_PORT}?transport=tcp",
        "TURN_TTL": "3600",
        "SERVER_VERSION": "2.3.4", "MIN_CLIENT_VERSION": "1.2.0",
        **(fake_apns.environment() if fake_apns else {}),
        **(fake_fcm.environment() if fake_fcm else {}),
        # Every test logs in from 127.0.0.1; test_rate_limits runs its own instance with low limits.
        "LOGIN_LIMIT_PER_ADDRESS_PER_MINUTE": "100000", "REGISTER_LIMIT_PER_ADDRESS_PER_HOUR": "100000",
        # Most tests call from one caller; test_sip_hooks checks the budget on an instance of its own.
        "CALL_LIMIT_PER_CALLER_PER_MINUTE": "100000",
        "MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR": "1000000",
    }


def restart_with(switchboard, **env):
    """Restarts the session's instance with these variables changed (None: removed)."""
    if switchboard.daemon is not None:
        assert switchboard.stop() == 0
    for name, value in env.items():
        if value is None:
            switchboard.env.pop(name, None)
        else:
            switchboard.env[name] = value
    switchboard.start()
    wait_ready(switchboard.url)


def wait_registration_works(switchboard, timeout: float = 30) -> None:
    """After PostgreSQL restarted, ejabberd reconnects to it on its own schedule: /readyz cannot see
    that, so a test that restarted PostgreSQL waits until a registration goes through end to end,
    leaving the stack as healthy as it found it."""
    import uuid
    deadline = time.monotonic() + timeout
    while True:
        r = requests.post(f"{switchboard.url}/api/v1/account/register",
                          json={"username": f"w{uuid.uuid4().hex[:10]}", "password": "a long enough password"}, timeout=10)
        if r.status_code == 201:
            return
        assert time.monotonic() < deadline, f"registration still fails after PostgreSQL's restart: {r.text}"
        time.sleep(0.2)


def wait_ready(url: str, timeout: float = 15) -> float:
    """Seconds until /readyz answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url}/readyz not ready after {timeout} s")


@pytest.fixture(scope="session")
def switchboard(binary, postgres, ejabberd, turn_secret, fake_apns, fake_fcm):
    env = production_environment(postgres.url, turn_secret, ejabberd.reader_url, fake_apns, fake_fcm)
    server = Switchboard(binary, PROFILE, env).start()
    try:
        wait_ready(server.url)
    except TimeoutError:
        server.stop()
        raise TimeoutError(f"switchboard not ready; its log:\n{server.daemon.log_tail() if server.daemon else ''}")
    yield server
    assert server.stop() == 0, "switchboard exits 0 on SIGTERM"


@pytest.fixture(scope="session")
def account(switchboard) -> dict:
    """A registered account: its session as the REST API returned it, plus the password."""
    password = "account fixture password"
    r = requests.post(f"{switchboard.url}/api/v1/account/register", json={"username": "fixture", "password": password})
    assert r.status_code == 201, r.text
    return {**r.json(), "password": password}


@pytest.fixture()
def token(switchboard, account):
    """Tokens made by PyJWT with the server's secret, the way an independent issuer would, for the
    fixture account at its current credential version (version 1 after registration)."""
    import jwt
    now = int(time.time())
    def make(sub: str = account["jid"], **overrides) -> str:
        claims = {"sub": sub, "iat": now, "exp": now + 86400, "ver": 1, **overrides}
        return jwt.encode(claims, switchboard.env["JWT_SECRET"], algorithm="HS256")
    return make


@pytest.fixture(scope="session")
def rtpengine():
    server = Rtpengine(PROFILE, RTPENGINE_NG_PORT, RTPENGINE_CLI_PORT, RTPENGINE_MEDIA).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kamailio(switchboard, rtpengine):
    """deploy/kamailio/kamailio.cfg with loopback addresses, calling the session's Switchboard."""
    server = Kamailio(PROFILE, KAMAILIO_PORTS, RTPENGINE_NG_PORT, switchboard.hooks_url, switchboard.env["HOOK_SECRET"],
                      DOMAIN, RING_SECONDS)
    checked = server.check()
    assert checked.returncode == 0, checked.stderr
    server.start()
    yield server
    server.stop()
