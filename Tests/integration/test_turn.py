"""The credentials from /turn/credentials against a real coturn (use-auth-secret), and the relay
peers deploy/coturn/turnserver.conf refuses."""
import base64
import hashlib
import hmac
import subprocess
import time

import requests

from conftest import TURN_PEER_HOSTS, TURN_PEER_PORT, TURN_PORT

ALLOWED_PEER, OWN_ADDRESS = TURN_PEER_HOSTS


def allocate(username: str, password: str, peer: str = ALLOWED_PEER) -> subprocess.CompletedProcess:
    """turnutils_uclient: allocate a relay, send 5 packets to the echo peer, expect them back."""
    return subprocess.run(["turnutils_uclient", "-u", username, "-w", password, "-p", str(TURN_PORT),
                           "-e", peer, "-r", str(TURN_PEER_PORT), "-n", "5", "-X", "127.0.0.1"],
                          capture_output=True, text=True, timeout=60)


def credentials(switchboard, token) -> dict:
    r = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers={"Authorization": f"Bearer {token()}"})
    assert r.status_code == 200
    return r.json()


def test_coturn_accepts_our_credentials(switchboard, coturn, token):
    creds = credentials(switchboard, token)
    result = allocate(creds["username"], creds["password"])
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Total lost packets 0" in result.stdout


def test_coturn_rejects_a_tampered_password(switchboard, coturn, token):
    creds = credentials(switchboard, token)
    tampered = ("B" if creds["password"][0] != "B" else "C") + creds["password"][1:]
    result = allocate(creds["username"], tampered)
    assert result.returncode != 0
    assert "Cannot complete Allocation" in result.stdout + result.stderr


def test_coturn_rejects_a_username_with_a_later_expiry(switchboard, coturn, token):
    creds = credentials(switchboard, token)
    expiry, jid = creds["username"].split(":", 1)
    result = allocate(f"{int(expiry) + 86400}:{jid}", creds["password"])
    assert result.returncode != 0


def test_the_hosts_own_address_is_not_a_relay_peer(switchboard, coturn, token):
    """The same echo peer listens on the host's own address (coturn's external-ip): any account can
    get credentials, and a relay there would reach every service of the host on all interfaces."""
    creds = credentials(switchboard, token)
    assert allocate(creds["username"], creds["password"]).returncode == 0
    assert_forbidden(allocate(creds["username"], creds["password"], peer=OWN_ADDRESS))


def test_private_ranges_are_not_relay_peers(coturn, turn_secret):
    """Cloud metadata, the operator's private networks, carrier NAT. Credentials of a user of their
    own per address: a refused client leaves its allocation to expire, within coturn's user-quota."""
    for peer in ("169.254.169.254", "10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1"):
        username = f"{int(time.time()) + 600}:prober-{peer}@example.com"
        password = base64.b64encode(hmac.new(turn_secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
        assert_forbidden(allocate(username, password, peer=peer))


def assert_forbidden(result: subprocess.CompletedProcess) -> None:
    """coturn answered the permission request 403 Forbidden IP (not merely: nothing came back)."""
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Forbidden IP" in output, output[-2000:]
