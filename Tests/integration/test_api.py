"""The REST routes of issue 2 against the real binary: shapes, auth, errors."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import requests

from conftest import DOMAIN, TURN_PORT


def test_server_info_is_the_configuration(switchboard):
    r = requests.get(f"{switchboard.url}/api/v1/server/info")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {
        "xmpp_domain": DOMAIN, "xmpp_host": "xmpp.example.com", "xmpp_port": 5222,
        "xmpp_ws_url": "wss://xmpp.example.com/ws", "conference_domain": f"conference.{DOMAIN}",
        "push_jid": f"push.{DOMAIN}", "sip_domain": DOMAIN, "sip_host": "sip.example.com", "sip_port": 5060,
        "sip_ws_url": "wss://xmpp.example.com:8089/ws",
        "turn_uris": [f"turn:127.0.0.1:{TURN_PORT}?transport=udp", f"turn:127.0.0.1:{TURN_PORT}?transport=tcp"],
        "server_version": "2.3.4", "min_client_version": "1.2.0",
    }


def test_turn_credentials_for_a_pyjwt_token(switchboard, token, account):
    before = int(time.time())
    r = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers={"Authorization": f"Bearer {token()}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ttl"] == 3600 and isinstance(body["ttl"], int)
    expiry, jid = body["username"].split(":", 1)
    assert jid == account["jid"]
    assert before + 3600 <= int(expiry) <= int(time.time()) + 3600
    expected = base64.b64encode(hmac.new(switchboard.env["TURN_SECRET"].encode(), body["username"].encode(),
                                         hashlib.sha1).digest()).decode()
    assert body["password"] == expected
    assert body["uris"] == [f"turn:127.0.0.1:{TURN_PORT}?transport=udp", f"turn:127.0.0.1:{TURN_PORT}?transport=tcp"]


def test_bearer_scheme_is_case_insensitive(switchboard, token):
    r = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers={"Authorization": f"bearer {token()}"})
    assert r.status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_bad_tokens_get_401_with_www_authenticate(switchboard, token, account):
    secret = switchboard.env["JWT_SECRET"]
    now = int(time.time())
    claims = {"sub": account["jid"], "iat": now, "exp": now + 60, "ver": 1}
    none_token = _b64(json.dumps({"alg": "none"}).encode()) + "." + _b64(json.dumps(claims).encode()) + "."
    cases = {
        "missing": None,
        "not bearer": f"Basic {base64.b64encode(b'alice:pw').decode()}",
        "empty bearer": "Bearer ",
        "garbage": "Bearer not.a.token",
        "expired": f"Bearer {token(exp=now - 1)}",
        "alg none": f"Bearer {none_token}",
        "hs512": f"Bearer {jwt.encode(claims, secret, algorithm='HS512')}",
        "wrong secret": f"Bearer {jwt.encode(claims, secret + 'x', algorithm='HS256')}",
        "huge": "Bearer " + "a" * 6000,
        "no such account": f"Bearer {token(sub=f'nobody@{DOMAIN}')}",
        "wrong version": f"Bearer {token(ver=2)}",
        "no version": f"Bearer {jwt.encode({k: v for k, v in claims.items() if k != 'ver'}, secret, algorithm='HS256')}",
    }
    for name, header in cases.items():
        headers = {"Authorization": header} if header is not None else {}
        r = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers=headers)
        assert r.status_code == 401, name
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert r.json()["error"]["code"] == "invalid_token", name
        assert r.json()["error"]["message"], name


def test_unknown_path_and_wrong_method(switchboard):
    r = requests.get(f"{switchboard.url}/api/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.post(f"{switchboard.url}/api/v1/server/info", json={})
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_health_and_readiness(switchboard):
    assert requests.get(f"{switchboard.url}/healthz").json() == {"status": "ok", "checks": {}}
    r = requests.get(f"{switchboard.url}/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "up", "xmpp_admin": "up", "xmpp_push": "up", "accepting": "up"}}



def test_hooks_and_metrics_are_on_the_internal_listener_only(switchboard):
    """docs/hooks.md: a client of the public port can neither reach Kamailio's hooks nor /metrics, and
    the internal port serves nothing of the phone API; health and readiness answer on both."""
    secret = {"X-Hook-Secret": switchboard.env["HOOK_SECRET"]}
    for method, path, body in (("GET", "/hooks/sip/ha1?user=fixture&realm=example.com", None), ("GET", "/metrics", None),
                               ("POST", "/hooks/sip/call", {"event": "incoming_call"}),
                               ("POST", "/hooks/sip/cancel", {"event": "call_cancelled"})):
        r = requests.request(method, f"{switchboard.url}{path}", headers=secret, json=body, timeout=5)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, r.text)
    assert requests.get(f"{switchboard.hooks_url}/metrics", timeout=5).status_code == 200
    assert requests.get(f"{switchboard.hooks_url}/hooks/sip/ha1?user=nobody&realm=example.com", headers=secret,
                        timeout=5).status_code == 404, "served there (an unknown user)"
    for path in ("/api/v1/server/info", "/api/v1/account/login"):
        assert requests.get(f"{switchboard.hooks_url}{path}", timeout=5).status_code == 404, path
    for url in (switchboard.url, switchboard.hooks_url):
        assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok", "checks": {}}
        assert requests.get(f"{url}/readyz", timeout=5).json()["status"] == "ready"
