"""The compose deployment for real (deploy/compose/docker-compose.yml): the six images built from their
Dockerfiles, the stack brought up by podman-compose with Tests/compose/compose.test.yml (the strict
fake APNs/FCM as services), and driven only through the published ports, as a user would: REST,
XMPP on 5222, SIP on 5060, TURN on 3478. Then down and up again: the accounts are still there.

Run by scripts/test after the integration tests (the published ports are the standard ones).
Cleans up its containers, networks, volumes and images by name."""
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "Tests" / "integration"))

from conftest import wait_ready  # noqa: E402
from stack.fakes import FakeAPNs, FakeFCM  # noqa: E402
from stack.processes import STATE  # noqa: E402
from stack.xmpp_client import direct_tls_features, enable_push, run_session, send_message  # noqa: E402

PROJECT = "switchboard-test"
COMPOSE = ROOT / "deploy" / "compose" / "docker-compose.yml"
OVERRIDE = ROOT / "Tests" / "compose" / "compose.test.yml"
CONTAINERS_CONF = ROOT / "Tests" / "compose" / "containers.conf"
IMAGES = {  # image name (as the compose file names it) -> Dockerfile
    "switchboard-postgres": "deploy/images/postgres/Dockerfile",
    "switchboard-ejabberd": "deploy/images/ejabberd/Dockerfile",
    "switchboard": "deploy/images/switchboard/Dockerfile",
    "switchboard-rtpengine": "deploy/images/rtpengine/Dockerfile",
    "switchboard-kamailio": "deploy/images/kamailio/Dockerfile",
    "switchboard-coturn": "deploy/images/coturn/Dockerfile",
    "switchboard-test-fakes": "Tests/compose/fakes/Dockerfile",
}
# The toolchain and the Swift package mirror of this machine, for the stand-in swift image's build stage.
SWIFT_MOUNTS = ["--volume", "/opt/swift:/opt/swift:ro", "--volume", "/opt/swift-packages:/opt/swift-packages:ro"]
DOMAIN, PASSWORD = "example.com", "compose test password"
API = "http://127.0.0.1:8443"


def podman(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args[:4])}… exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


class Stack:
    """`settings`: what an operator puts in .env (podman-compose 1.0 reads .env only from the compose
    file's directory, so the test passes the same values through the environment, which compose
    interpolates alike)."""

    def __init__(self, fakes_dir: Path, settings: dict[str, str]):
        self.fakes_dir, self.settings = fakes_dir, settings

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.settings, "CONTAINERS_CONF": str(CONTAINERS_CONF), "REPO": str(ROOT), "FAKES": str(self.fakes_dir)}
        result = subprocess.run(["podman-compose", "-p", PROJECT, "-f", str(COMPOSE),
                                 "-f", str(OVERRIDE), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=COMPOSE.parent)
        if check and result.returncode != 0:
            raise AssertionError(f"podman-compose {' '.join(args)}: exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def logs(self) -> str:
        out = []
        for service in ("db", "ejabberd", "switchboard", "kamailio", "rtpengine", "coturn", "fake-apns", "fake-fcm"):
            logs = podman("podman", "logs", "--tail", "40", f"{PROJECT}_{service}_1", check=False)
            out.append(f"--- {service}\n{logs.stdout}{logs.stderr}")
        return "\n".join(out)

    def up(self) -> float:
        """Seconds until Switchboard's /readyz answers 200 through its published port."""
        started = time.monotonic()
        self.compose("up", "-d")
        try:
            wait_ready(API, timeout=240)
        except TimeoutError:
            raise AssertionError("the stack never became ready\n" + self.logs()) from None
        return time.monotonic() - started


def build_images() -> dict[str, tuple[float, str]]:
    """name -> (build seconds, size)."""
    subprocess.run([str(ROOT / "scripts" / "local-base-images")], check=True)
    built = {}
    for name, dockerfile in IMAGES.items():
        started = time.monotonic()
        extra = SWIFT_MOUNTS if name == "switchboard" else []
        podman("podman", "build", "--format", "docker", "-q", *extra, "-f", str(ROOT / dockerfile), "-t", name, str(ROOT), timeout=1800)
        size = podman("podman", "image", "inspect", "--format", "{{.Size}}", name).stdout.strip()
        built[name] = (time.monotonic() - started, f"{int(size) / 1e6:.0f} MB")
    return built


def cleanup(stack: Stack | None) -> None:
    if stack is not None:
        stack.compose("down", "-v", check=False, timeout=300)
    for volume in ("db-data", "ejabberd-data"):
        podman("podman", "volume", "rm", "-f", f"{PROJECT}_{volume}", check=False)
    for network in ("internal", "edge"):
        podman("podman", "network", "rm", "-f", f"{PROJECT}_{network}", check=False)
    podman("podman", "rmi", "-f", *IMAGES, check=False)


@pytest.fixture(scope="module")
def stack():
    if shutil.which("podman-compose") is None:
        pytest.fail("podman-compose is missing: scripts/install-deps installs it")
    fakes_dir = STATE / "compose-test"
    shutil.rmtree(fakes_dir, ignore_errors=True)
    apns = FakeAPNs("compose-test", 28443, hostname="fake-apns", tls_names=("fake-fcm",), launch=False)
    fcm = FakeFCM("compose-test", 28444, tls=apns, hostname="fake-fcm", launch=False)
    for path in (apns.key_file, fcm.service_account, apns.tls_key):
        path.chmod(0o644)  # read by the containers' own users
    env = {
        "XMPP_DOMAIN": DOMAIN, "XMPP_HOST": "127.0.0.1", "XMPP_WS_URL": "wss://127.0.0.1/ws",
        "SIP_HOST": "127.0.0.1", "SIP_WS_URL": "wss://127.0.0.1:8089/ws",
        "TURN_URIS": "turn:127.0.0.1:3478?transport=udp", "PUBLIC_IP": "127.0.0.1", "TURN_HOST": "127.0.0.1",
        **{name: secrets.token_hex(32) for name in ("JWT_SECRET", "HOOK_SECRET", "TURN_SECRET", "XMPP_COMPONENT_SECRET",
                                                    "PUSH_COMPONENT_SECRET", "EJABBERD_DB_PASSWORD", "SWITCHBOARD_DB_PASSWORD",
                                                    "READER_DB_PASSWORD")},
        "APP_IDS": "com.example.chat", "LOG_LEVEL": "info",
    }
    started = time.monotonic()
    built = build_images()
    build_seconds = time.monotonic() - started
    stack = Stack(fakes_dir, env)
    stack.apns, stack.fcm = apns, fcm
    try:
        stack.first_up = stack.up()
        print(f"\nimages built in {build_seconds:.0f} s: " + ", ".join(f"{n} {s} ({t:.0f} s)" for n, (t, s) in built.items()))
        print(f"stack ready {stack.first_up:.0f} s after `up`")
        yield stack
    finally:
        cleanup(stack)


def register(username: str) -> dict:
    r = requests.post(f"{API}/api/v1/account/register", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def login(username: str) -> requests.Response:
    return requests.post(f"{API}/api/v1/account/login", json={"username": username, "password": PASSWORD}, timeout=10)


def test_the_stack_serves_rest_xmpp_push_sip_and_turn_and_keeps_accounts_across_a_restart(stack):
    alice, bob = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    alice_session, bob_session = register(alice), register(bob)
    assert login(alice).status_code == 200

    # XMPP on the published 5222: bob enables push for an iPhone, goes offline; alice's message
    # reaches the fake APNs through ejabberd, the component link and Switchboard.
    token = secrets.token_hex(32)
    r = requests.post(f"{API}/api/v1/push/register", headers={"Authorization": f"Bearer {bob_session['token']}"}, timeout=10,
                      json={"device_uuid": str(uuid.uuid4()), "platform": "ios", "push_token": token, "app_id": "com.example.chat",
                            "environment": "production"})
    assert r.status_code == 200, r.text
    binding = r.json()
    enable_push(bob_session["jid"], PASSWORD, 5222, binding["push_jid"], binding["node"], binding["secret"])
    send_message(alice_session["jid"], PASSWORD, 5222, bob_session["jid"], "through the compose stack")
    deadline = time.monotonic() + 20
    while not any(p["token"] == token for p in stack.apns.pushes()):
        assert time.monotonic() < deadline, "no push reached the fake APNs\n" + stack.logs()
        time.sleep(0.2)

    # ejabberd's other published doors: direct TLS (XEP-0368) and HTTPS (uploads, WebSocket).
    assert b"SCRAM-SHA-256" in direct_tls_features(5223, DOMAIN)
    assert requests.get("https://127.0.0.1:5443/ws", verify=False, timeout=5).status_code != 404

    # SIP on the published 5060: REGISTER with the account's password (digest via the HA1 hook).
    sipp_dir = STATE / "compose-test" / "sipp"
    sipp_dir.mkdir(exist_ok=True)
    (sipp_dir / "fields.csv").write_text(f"SEQUENTIAL\n{alice};25999;{DOMAIN};\n")
    sipp = subprocess.run(["sipp", "127.0.0.1:5060", "-sf", str(ROOT / "fixtures" / "sipp" / "register.xml"), "-inf",
                           str(sipp_dir / "fields.csv"), "-au", alice, "-ap", PASSWORD, "-i", "127.0.0.1", "-p", "25998", "-m", "1",
                           "-nostdin", "-timeout", "20s", "-timeout_error"], cwd=sipp_dir, capture_output=True, text=True, timeout=60)
    assert sipp.returncode == 0, sipp.stderr[-2000:] + stack.logs()

    # TURN on the published 3478 with /turn/credentials: the allocation succeeds, and the peer (this
    # host's own address, coturn's external-ip here) is then refused by the deny list, as in
    # production; a tampered password never gets an allocation.
    creds = requests.get(f"{API}/api/v1/turn/credentials", headers={"Authorization": f"Bearer {alice_session['token']}"}, timeout=10).json()
    turn = subprocess.run(["turnutils_uclient", "-u", creds["username"], "-w", creds["password"], "-p", "3478", "-n", "1",
                           "-e", "127.0.0.1", "-r", "3480", "127.0.0.1"], capture_output=True, text=True, timeout=60)
    output = turn.stdout + turn.stderr
    assert "Cannot complete Allocation" not in output and "403 (Forbidden IP)" in output, output[-2000:]
    tampered = subprocess.run(["turnutils_uclient", "-u", creds["username"], "-w", "x" + creds["password"][1:], "-p", "3478", "-n", "1",
                               "-e", "127.0.0.1", "-r", "3480", "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert "Cannot complete Allocation" in tampered.stdout + tampered.stderr, tampered.stdout[-2000:]

    # Down and up again: the named volumes keep PostgreSQL and ejabberd's data.
    stack.compose("down")
    again = stack.up()
    print(f"second `up` ready after {again:.0f} s")
    assert login(alice).status_code == 200, "the account survived down/up"
    assert run_session(alice_session["jid"], PASSWORD, 5222, _roster_size) >= 0, "ejabberd still knows the account"


async def _roster_size(client) -> int:
    roster = await client.get_roster()
    return len(roster["roster"]["items"])
