"""The credentials from /turn/credentials against a real coturn (use-auth-secret)."""
import subprocess

import requests

from conftest import TURN_PEER_PORT, TURN_PORT


def allocate(username: str, password: str) -> subprocess.CompletedProcess:
    """turnutils_uclient: allocate a relay, send 5 packets to the echo peer, expect them back."""
    return subprocess.run(["turnutils_uclient", "-u", username, "-w", password, "-p", str(TURN_PORT),
                           "-e", "127.0.0.1", "-r", str(TURN_PEER_PORT), "-n", "5", "-X", "127.0.0.1"],
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
