"""Kamailio's hooks (docs/hooks.md) against the real binary, PostgreSQL and the strict push fakes:
the secret gate, HA1 answers that follow register / password change / delete, call pushes to every
device (VoIP on iOS, high-priority data on Android), idempotency per Call-ID, and cancel."""
import hashlib
import time
import uuid

import pytest
import requests

from conftest import DOMAIN, RING_SECONDS
from test_push_app_server import new_account, register_device, wait_for, PASSWORD

REALM = DOMAIN  # SIP_DOMAIN defaults to XMPP_DOMAIN


def hook(switchboard, method, path, secret=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if secret is not None:
        headers["X-Hook-Secret"] = secret
    return requests.request(method, f"{switchboard.hooks_url}/hooks/sip/{path}", headers=headers, timeout=5, **kwargs)


@pytest.fixture
def secret(switchboard) -> str:
    return switchboard.env["HOOK_SECRET"]


def ha1(user, password, realm=REALM) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def random_apns_token() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def call_body(callee, **overrides):
    return {"event": "incoming_call", "caller": "alice", "caller_display": "Alice <A&B>", "callee": callee,
            "call_id": f"{uuid.uuid4()}@127.0.0.1", "t_index": 9719, "t_label": 1813305795, **overrides}


def test_every_hook_refuses_a_missing_or_wrong_secret_and_does_nothing(switchboard, secret, fake_apns):
    user = new_account(switchboard.url)
    token = random_apns_token()
    register_device(switchboard.url, user, voip_token=token)
    callee = user["jid"].split("@")[0]
    for offered in (None, "", "wrong", secret[:-1], secret + "x", secret.upper() if secret.upper() != secret else secret + "A"):
        for method, path, kwargs in (("GET", "ha1", {"params": {"user": callee, "realm": REALM}}),
                                     ("POST", "call", {"json": call_body(callee)}),
                                     ("POST", "cancel", {"json": {"event": "call_cancelled", "caller": "a", "callee": callee, "call_id": "x"}})):
            r = hook(switchboard, method, path, offered, **kwargs)
            assert r.status_code == 401, (offered, path, r.text)
            assert r.json()["error"]["code"] == "invalid_hook_secret"
            assert "ha1" not in r.text
    time.sleep(0.3)
    assert not any(p["token"] == token for p in fake_apns.pushes()), "no push for a refused hook"


def test_ha1_follows_register_password_change_and_delete(switchboard, secret):
    session = new_account(switchboard.url)
    user = session["jid"].split("@")[0]
    r = hook(switchboard, "GET", "ha1", secret, params={"user": user, "realm": REALM})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"ha1": ha1(user, PASSWORD)}
    # Cached now: the second answer is the same.
    assert hook(switchboard, "GET", "ha1", secret, params={"user": user, "realm": REALM}).json() == {"ha1": ha1(user, PASSWORD)}

    auth = {"Authorization": f"Bearer {session['token']}"}
    changed = requests.post(f"{switchboard.url}/api/v1/account/password", headers=auth,
                            json={"old_password": PASSWORD, "new_password": "a new sip password"})
    assert changed.status_code == 200, changed.text
    r = hook(switchboard, "GET", "ha1", secret, params={"user": user, "realm": REALM})
    assert r.json() == {"ha1": ha1(user, "a new sip password")}, "the cache follows the change at once"

    auth = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert requests.delete(f"{switchboard.url}/api/v1/account", headers=auth).status_code == 204
    r = hook(switchboard, "GET", "ha1", secret, params={"user": user, "realm": REALM})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_user"


def test_ha1_unknown_users_other_realms_and_hostile_names_are_404(switchboard, secret, account):
    user = account["jid"].split("@")[0]
    cases = [{"user": "nobody-here", "realm": REALM}, {"user": user, "realm": "other.example"}, {"user": user},
             {"realm": REALM}, {"user": "", "realm": REALM}, {"user": "x" * 5000, "realm": REALM},
             {"user": "a' OR '1'='1", "realm": REALM}, {"user": "bob\r\nX-Evil: 1", "realm": REALM},
             {"user": user.upper(), "realm": REALM}, {"user": f"{user}%00", "realm": REALM}]
    for params in cases:
        r = hook(switchboard, "GET", "ha1", secret, params=params)
        assert r.status_code == 404, (params, r.text)
        assert r.json()["error"]["code"] == "unknown_user"
    assert hook(switchboard, "POST", "ha1", secret).status_code == 405


def test_a_call_pushes_every_device_once_per_call_id(switchboard, secret, fake_apns, fake_fcm, postgres):
    bob = new_account(switchboard.url)
    callee = bob["jid"].split("@")[0]
    voip, fcm = random_apns_token(), f"fcm-{uuid.uuid4().hex}"
    iphone_token = random_apns_token()
    register_device(switchboard.url, bob, push_token=iphone_token, voip_token=voip, app_id="com.example.phone")
    register_device(switchboard.url, bob, platform="android", push_token=fcm, voip_token=None, app_id="com.example.phone")
    register_device(switchboard.url, bob, voip_token=None)  # an iPhone without PushKit: no call push
    body = call_body(callee)
    sent = time.time()
    r = hook(switchboard, "POST", "call", secret, json=body)
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "queued", "devices": 2}
    wait_for("the VoIP push", lambda: any(p["token"] == voip for p in fake_apns.pushes()), timeout=5)
    wait_for("the FCM push", lambda: any(m["token"] == fcm for m in fake_fcm.messages()), timeout=5)
    push = next(p for p in fake_apns.pushes() if p["token"] == voip)
    assert push["received"] - sent < 1.0
    deadline = push["payload"]["deadline"]
    assert abs(deadline - (sent + RING_SECONDS)) <= 1.5, "the ring window's end"
    assert push["headers"]["apns-push-type"] == "voip" and push["headers"]["apns-topic"] == "com.example.phone.voip"
    assert push["headers"]["apns-expiration"] == str(deadline) and push["headers"]["apns-priority"] == "10"
    assert push["payload"] == {"type": "call", "call_id": body["call_id"], "caller": "alice",
                               "caller_display": "Alice <A&B>", "callee": callee, "deadline": deadline}
    message = next(m for m in fake_fcm.messages() if m["token"] == fcm)
    assert message["android"]["priority"] == "high"
    assert int(message["android"]["ttl"].rstrip("s")) in (RING_SECONDS - 1, RING_SECONDS), "what is left of the ring window"
    assert message["data"] == {k: str(v) for k, v in push["payload"].items()}

    # The same call again (Kamailio retrying, or a second instance): 202, nothing new sent.
    again = hook(switchboard, "POST", "call", secret, json=body)
    assert again.status_code == 202 and again.json() == {"status": "queued", "devices": 2}
    time.sleep(0.5)
    assert sum(p["token"] == voip for p in fake_apns.pushes()) == 1
    assert sum(m["token"] == fcm for m in fake_fcm.messages()) == 1
    assert postgres.psql(f"SELECT cardinality(device_uuids) FROM sip_calls WHERE call_id = '{body['call_id']}'") == "2"

    # Cancel reaches the same devices, once: the iPhone on its message token, never as a VoIP push.
    cancel = {"event": "call_cancelled", "caller": "alice", "callee": callee, "call_id": body["call_id"], "reason": "cancelled"}
    r = hook(switchboard, "POST", "cancel", secret, json=cancel)
    assert r.status_code == 200 and r.json() == {"status": "queued", "devices": 2}
    wait_for("the cancel pushes", lambda: any(p["token"] == iphone_token for p in fake_apns.pushes())
             and sum(m["token"] == fcm for m in fake_fcm.messages()) == 2, timeout=5)
    cancelled = next(p for p in fake_apns.pushes() if p["token"] == iphone_token)
    assert cancelled["payload"]["type"] == "call_cancelled" and cancelled["payload"]["reason"] == "cancelled"
    assert cancelled["headers"]["apns-push-type"] == "alert" and cancelled["headers"]["apns-collapse-id"] == body["call_id"]
    assert sum(p["token"] == voip for p in fake_apns.pushes()) == 1, "no VoIP push after the call push"
    assert fake_apns.violations(voip) == [f"VoIP push {push['headers']['apns-id']} never reported as a call"], "the test app did not report it"
    assert hook(switchboard, "POST", "cancel", secret, json=cancel).json() == {"status": "queued", "devices": 0}


def test_callees_that_cannot_be_reached_are_404(switchboard, secret):
    lonely = new_account(switchboard.url)  # no device at all
    for callee in ("no-such-user", lonely["jid"].split("@")[0]):
        r = hook(switchboard, "POST", "call", secret, json=call_body(callee))
        assert r.status_code == 404 and r.json()["error"]["code"] == "callee_unreachable", r.text
    r = hook(switchboard, "POST", "cancel", secret,
             json={"event": "call_cancelled", "caller": "a", "callee": "no-such-user", "call_id": "unknown@host"})
    assert r.status_code == 200 and r.json() == {"status": "queued", "devices": 0}


def test_malformed_and_hostile_call_hooks_are_400_naming_the_field(switchboard, secret, account):
    callee = account["jid"].split("@")[0]
    cases = [
        ({"event": "something_else"}, "event"),
        ({"call_id": ""}, "call_id"),
        ({"call_id": "has space"}, "call_id"),
        ({"call_id": "x" * 600}, "call_id"),
        ({"caller": ""}, "caller"),
        ({"caller": "bob\u0000"}, "caller"),
        ({"caller_display": "A" * 300}, "caller_display"),
        ({"caller_display": "line\nbreak"}, "caller_display"),
        ({"callee": ""}, "callee"),
        ({"callee": "a@b"}, "callee"),
        ({"callee": "x" * 300}, "callee"),
        ({"callee": 42}, "callee"),
        ({"t_index": "nine"}, "t_index"),
    ]
    for override, field in cases:
        r = hook(switchboard, "POST", "call", secret, json={**call_body(callee), **override})
        assert r.status_code == 400, (override, r.text)
        assert r.json()["error"]["code"] == "invalid_request" and field in r.json()["error"]["message"], (override, r.text)
    body = {"event": "call_cancelled", "caller": "a", "callee": callee, "call_id": "c@h", "reason": "because"}
    r = hook(switchboard, "POST", "cancel", secret, json=body)
    assert r.status_code == 400 and "reason" in r.json()["error"]["message"]
    missing = {k: v for k, v in call_body(callee).items() if k != "call_id"}
    r = hook(switchboard, "POST", "call", secret, json=missing)
    assert r.status_code == 400 and "call_id" in r.json()["error"]["message"]
    r = hook(switchboard, "POST", "call", secret, data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = hook(switchboard, "POST", "call", secret, data=b"x" * (1 << 20), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = hook(switchboard, "POST", "call", secret, data=b"event=incoming_call", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert hook(switchboard, "GET", "call", secret).status_code == 405


def test_sigterm_finishes_hooks_in_flight_and_refuses_new_connections(switchboard, secret, postgres):
    """A rolling restart must not cut a call hook in half: Kamailio would fail the call."""
    import signal
    import socket
    import subprocess
    import threading
    from conftest import wait_ready
    # Hold sip_calls for 1.5 s, so the call hook below is in flight when SIGTERM arrives.
    locker = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", postgres.database, "-c",
                               "BEGIN; LOCK TABLE sip_calls IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    answers = []
    call = threading.Thread(target=lambda: answers.append(hook(switchboard, "POST", "call", secret, json=call_body("nobody-here"))))
    call.start()
    time.sleep(0.3)
    switchboard.daemon.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", switchboard.port)) != 0, "no new connections while draining"
    call.join(10)
    locker.wait(10)
    assert answers and answers[0].status_code == 404, "the hook in flight got its answer (not a reset)"
    assert switchboard.daemon.proc.wait(10) == 0
    switchboard.daemon.stop()
    switchboard.start()
    wait_ready(switchboard.url)


def test_hooks_answer_503_at_once_while_the_database_is_down(switchboard, secret, postgres):
    """Kamailio turns a 503 into `503 Retry-After` for the phone; a 404 would fail the call for good."""
    from conftest import wait_ready
    postgres.fast_stop()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        r = hook(switchboard, "GET", "ha1", secret, params={"user": "never-cached-" + uuid.uuid4().hex[:6], "realm": REALM})
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        r = hook(switchboard, "POST", "call", secret, json=call_body("somebody"))
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        r = hook(switchboard, "POST", "cancel", secret, json={"event": "call_cancelled", "caller": "a", "callee": "somebody", "call_id": "c@h"})
        assert r.status_code == 503, r.text
        assert time.monotonic() - started < 1, "at once, never a hang that would hold Kamailio's worker"
    finally:
        postgres.start()
    wait_ready(switchboard.url, timeout=10)
    assert hook(switchboard, "POST", "call", secret, json=call_body("somebody")).status_code == 404
    from conftest import wait_registration_works
    wait_registration_works(switchboard)


def test_a_dead_voip_token_is_cleared_without_touching_the_message_token(switchboard, secret, fake_apns, postgres):
    bob = new_account(switchboard.url)
    callee, voip, device = bob["jid"].split("@")[0], random_apns_token(), str(uuid.uuid4())
    fake_apns.answer(voip, 410, "Unregistered", timestamp=int(time.time() * 1000) + 60_000)
    assert register_device(switchboard.url, bob, device, voip_token=voip).status_code == 200
    assert hook(switchboard, "POST", "call", secret, json=call_body(callee)).status_code == 202
    wait_for("the VoIP token marked dead", lambda: postgres.psql(
        f"SELECT voip_token_dead_at IS NOT NULL FROM push_registrations WHERE device_uuid = '{device}'") == "t")
    assert postgres.psql(f"SELECT push_token_dead_at IS NULL FROM push_registrations WHERE device_uuid = '{device}'") == "t", \
        "messages still reach the phone"
    r = hook(switchboard, "POST", "call", secret, json=call_body(callee))
    assert r.status_code == 404 and r.json()["error"]["code"] == "callee_unreachable", "no call push to a dead PushKit token"


def test_a_caller_dialling_in_a_loop_gets_429(switchboard, secret):
    """CALL_LIMIT_PER_CALLER_PER_MINUTE: one account cannot fill the push queues with calls; Kamailio
    turns the 429 into 480 for that caller only."""
    from conftest import restart_with
    restart_with(switchboard, CALL_LIMIT_PER_CALLER_PER_MINUTE="3")
    try:
        statuses = [hook(switchboard, "POST", "call", secret, json=call_body("somebody", caller="dialler")).status_code for _ in range(4)]
        assert statuses == [404, 404, 404, 429], statuses
        r = hook(switchboard, "POST", "call", secret, json=call_body("somebody", caller="dialler"))
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
        assert hook(switchboard, "POST", "call", secret, json=call_body("somebody", caller="someone-else")).status_code == 404
    finally:
        restart_with(switchboard, CALL_LIMIT_PER_CALLER_PER_MINUTE="100000")
