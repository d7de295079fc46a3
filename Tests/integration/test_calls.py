"""Calls that ring on time, never ring after the caller gave up, and end cleanly on every device
(docs/calls.md): the real Kamailio, SIPp, the release binary and the strict fake APNs/FCM, with a
30 s ring window. The callee has an iPhone (a PushKit token and a message token) and an Android phone,
neither registered in SIP.

The scenarios take up to 35 s each, so they run side by side, started once for the module; each test
asserts on its own scenario. Every scenario plays the iPhone app: each VoIP push it gets is reported
to CallKit (the fake's `report_call`) if it is a call still inside its ring window, and the fake
counts what broke Apple's rules: zero violations everywhere."""
import concurrent.futures
import secrets
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import RING_SECONDS
from sipp import SIPp, run
from test_sip import username
from test_push_app_server import PASSWORD, new_account, register_device, wait_for

CANCEL_AFTER_MS = (500, 2000, 10000, 29000)


class Callee:
    """An account with an iPhone (PushKit + message token) and an Android phone."""

    def __init__(self, switchboard):
        self.session = new_account(switchboard.url)
        self.voip, self.iphone, self.fcm = secrets.token_hex(32), secrets.token_hex(32), f"fcm-{uuid.uuid4().hex}"
        assert register_device(switchboard.url, self.session, push_token=self.iphone, voip_token=self.voip,
                               app_id="com.example.phone").status_code == 200
        assert register_device(switchboard.url, self.session, platform="android", push_token=self.fcm, voip_token=None,
                               app_id="com.example.phone").status_code == 200

    @property
    def name(self) -> str:
        return username(self.session)

    def voip_pushes(self, fake_apns) -> list[dict]:
        pushes = [p for p in fake_apns.pushes() if p["token"] == self.voip]
        for push in pushes:
            fake_apns.report_call(push)  # the app reports each call push it can to CallKit
        return pushes

    def iphone_pushes(self, fake_apns) -> list[dict]:
        return [p for p in fake_apns.pushes() if p["token"] == self.iphone]

    def android_messages(self, fake_fcm) -> list[dict]:
        return [m for m in fake_fcm.messages() if m["token"] == self.fcm]

    def sequence(self, fake_apns, fake_fcm) -> dict:
        """The push types each provider got for this callee, in order (the closing note lists them)."""
        return {"apns": [p["headers"]["apns-push-type"] for p in fake_apns.pushes() if p["token"] in (self.voip, self.iphone)],
                "fcm": [m["data"]["type"] for m in self.android_messages(fake_fcm)]}

    def violations(self, fake_apns) -> list[str]:
        self.voip_pushes(fake_apns)
        return fake_apns.violations(self.voip) + fake_apns.violations(self.iphone)


def call_state(switchboard, session, call_id: str) -> requests.Response:
    return requests.get(f"{switchboard.url}/api/v1/calls/{urllib.parse.quote(call_id, safe='@')}",
                        headers={"Authorization": f"Bearer {session['token']}"}, timeout=5)


def pushed_call(callee: Callee, fake_apns, fake_fcm, started: float) -> dict:
    """The one VoIP push and the one FCM call push, checked against each other; the VoIP push."""
    wait_for("the VoIP push", lambda: callee.voip_pushes(fake_apns), timeout=5)
    wait_for("the FCM call push", lambda: callee.android_messages(fake_fcm), timeout=5)
    push = callee.voip_pushes(fake_apns)[0]
    deadline = push["payload"]["deadline"]
    assert abs(deadline - (started + RING_SECONDS)) <= 2, "the ring window's end"
    assert push["headers"]["apns-expiration"] == str(deadline), "APNs keeps it until then"
    call = callee.android_messages(fake_fcm)[0]
    assert call["data"]["type"] == "call" and call["data"]["call_id"] == push["payload"]["call_id"]
    assert call["data"]["deadline"] == str(deadline) and int(call["android"]["ttl"].rstrip("s")) <= RING_SECONDS
    return push


def ended_pushes(callee: Callee, fake_apns, fake_fcm, call_id: str, reason: str) -> dict:
    """After the call ended: exactly one APNs push on the iPhone's message token and one FCM cancel
    (waited for, then a second more for anything extra), never another VoIP push. Their record."""
    wait_for("the iPhone's cancel push", lambda: callee.iphone_pushes(fake_apns), timeout=5)
    wait_for("the Android cancel", lambda: len(callee.android_messages(fake_fcm)) >= 2, timeout=5)
    time.sleep(1)
    apns, fcm = callee.iphone_pushes(fake_apns), callee.android_messages(fake_fcm)
    assert len(apns) == 1 and len(fcm) == 2, (apns, fcm)
    assert len(callee.voip_pushes(fake_apns)) == 1, "no VoIP push after the call push"
    ended, android = apns[0], fcm[1]
    assert ended["payload"]["type"] == "call_cancelled" and ended["payload"]["call_id"] == call_id
    assert ended["payload"]["reason"] == reason and ended["headers"]["apns-collapse-id"] == call_id
    assert android["data"]["type"] == "call_cancelled" and android["data"]["reason"] == reason
    assert android["android"]["collapse_key"] == call_id and android["android"]["priority"] == "high"
    return {"apns": ended, "fcm": android}


def missed_call_alert(push: dict, caller: str) -> None:
    assert push["headers"]["apns-push-type"] == "alert" and push["headers"]["apns-priority"] == "10"
    assert push["payload"]["aps"]["alert"] == {"loc-key": "MISSED_CALL", "loc-args": [f"Caller {caller}"]}
    assert push["payload"]["aps"]["thread-id"] == "calls"


def registers_and_gets_no_invite(callee: Callee, uas_port: int, register_port: int) -> None:
    """The phone wakes after the call ended and registers: Kamailio has nothing for it (3 s)."""
    phone = SIPp("callee_uas", uas_port, server=True, timeout=3)
    woke = run("register", register_port, [callee.name, str(uas_port)], callee.name, PASSWORD)
    assert woke.process.returncode == 0, woke.explain()
    phone.wait(10)
    assert "INVITE sip:" not in phone.messages(), phone.messages()[-2000:]


def cancelled_at(switchboard, fake_apns, fake_fcm, rtpengine, cancel_ms: int, ports: tuple[int, int, int]) -> dict:
    caller_port, uas_port, register_port = ports
    caller, callee = new_account(switchboard.url), Callee(switchboard)
    started = time.time()
    call = run("caller_cancel", caller_port, [username(caller), callee.name], username(caller), PASSWORD, timeout=45,
               pause_ms=cancel_ms)
    assert call.process.returncode == 0, call.explain()
    assert 487 in call.received_statuses()
    push = pushed_call(callee, fake_apns, fake_fcm, started)
    call_id = push["payload"]["call_id"]
    ended = ended_pushes(callee, fake_apns, fake_fcm, call_id, "cancelled")
    missed_call_alert(ended["apns"], username(caller))
    state = call_state(switchboard, callee.session, call_id)
    assert state.status_code == 200 and state.json()["state"] == "cancelled", state.text

    registers_and_gets_no_invite(callee, uas_port, register_port)
    assert call_id not in rtpengine.calls(), "media released"
    assert callee.violations(fake_apns) == []
    return callee.sequence(fake_apns, fake_fcm)


def answered_on_android(switchboard, fake_apns, fake_fcm, rtpengine, ports: tuple[int, int, int]) -> dict:
    caller_port, uas_port, register_port = ports
    caller, callee = new_account(switchboard.url), Callee(switchboard)
    started = time.time()
    android = SIPp("callee_uas", uas_port, server=True)
    call = SIPp("caller_invite", caller_port, [username(caller), callee.name], username(caller), PASSWORD)
    push = pushed_call(callee, fake_apns, fake_fcm, started)
    call_id = push["payload"]["call_id"]
    assert call_state(switchboard, caller, call_id).json()["state"] == "ringing"
    # The Android app wakes from its data push and registers; Kamailio resumes the parked INVITE to it.
    woke = run("register", register_port, [callee.name, str(uas_port)], callee.name, PASSWORD)
    assert woke.process.returncode == 0, woke.explain()
    assert call.wait() == 0, call.explain()
    assert android.wait() == 0, android.explain()
    assert [s for s in call.received_statuses() if s != 100] == [407, 180, 200, 200], "challenge, 180, 200, 200 to the BYE"
    ended = ended_pushes(callee, fake_apns, fake_fcm, call_id, "answered_elsewhere")
    background = ended["apns"]
    assert background["headers"]["apns-push-type"] == "background" and background["headers"]["apns-priority"] == "5"
    assert background["payload"]["aps"] == {"content-available": 1}
    assert call_state(switchboard, callee.session, call_id).json()["state"] == "answered"
    wait_for("rtpengine to release the call after the BYE", lambda: call_id not in rtpengine.calls(), timeout=3)
    assert callee.violations(fake_apns) == []
    return callee.sequence(fake_apns, fake_fcm)


def nobody_answers(switchboard, fake_apns, fake_fcm, rtpengine, ports: tuple[int, int, int]) -> dict:
    caller_port, uas_port, register_port = ports
    caller, callee = new_account(switchboard.url), Callee(switchboard)
    started = time.time()
    call = run("caller_timeout", caller_port, [username(caller), callee.name], username(caller), PASSWORD, timeout=RING_SECONDS + 20)
    waited = time.time() - started
    assert call.process.returncode == 0, call.explain()
    assert call.received_statuses()[-1] == 480
    assert RING_SECONDS - 0.5 < waited < RING_SECONDS + 5, waited
    push = pushed_call(callee, fake_apns, fake_fcm, started)
    call_id = push["payload"]["call_id"]
    ended = ended_pushes(callee, fake_apns, fake_fcm, call_id, "timeout")
    missed_call_alert(ended["apns"], username(caller))
    assert call_state(switchboard, callee.session, call_id).json()["state"] == "timeout"
    assert call_id not in rtpengine.calls(), "nothing leaks in rtpengine"
    registers_and_gets_no_invite(callee, uas_port, register_port)
    assert callee.violations(fake_apns) == []
    return callee.sequence(fake_apns, fake_fcm)


def woken_phone_rings_past_the_window(switchboard, fake_apns, fake_fcm, rtpengine, ports: tuple[int, int, int]) -> dict:
    """The Android app wakes and rings, and its user never picks up: the ring window still ends the
    call at the same moment as for a phone that never woke (Kamailio's max lifetime), with the
    same `timeout` on every device and in the state."""
    caller_port, uas_port, register_port = ports
    caller, callee = new_account(switchboard.url), Callee(switchboard)
    started = time.time()
    ringing = SIPp("callee_rings", uas_port, server=True, timeout=RING_SECONDS + 20)
    call = SIPp("caller_timeout", caller_port, [username(caller), callee.name], username(caller), PASSWORD, timeout=RING_SECONDS + 20)
    push = pushed_call(callee, fake_apns, fake_fcm, started)
    woke = run("register", register_port, [callee.name, str(uas_port)], callee.name, PASSWORD)
    assert woke.process.returncode == 0, woke.explain()
    assert call.wait(RING_SECONDS + 30) == 0, call.explain()
    waited = time.time() - started
    assert ringing.wait(10) == 0, ringing.explain()
    assert call.received_statuses()[-1] == 480 and 180 in call.received_statuses(), call.received_statuses()
    assert RING_SECONDS - 0.5 < waited < RING_SECONDS + 5, f"rang {waited:.1f} s"
    call_id = push["payload"]["call_id"]
    ended = ended_pushes(callee, fake_apns, fake_fcm, call_id, "timeout")
    missed_call_alert(ended["apns"], username(caller))
    assert call_state(switchboard, callee.session, call_id).json()["state"] == "timeout"
    assert callee.violations(fake_apns) == []
    return callee.sequence(fake_apns, fake_fcm)


@pytest.fixture(scope="module")
def scenarios(switchboard, kamailio, rtpengine, fake_apns, fake_fcm):
    """Every scenario started at once on ports of its own; name -> Future of its push sequence."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = {f"cancel {ms} ms": pool.submit(cancelled_at, switchboard, fake_apns, fake_fcm, rtpengine, ms, (25100 + 10 * i, 25101 + 10 * i, 25102 + 10 * i))
                   for i, ms in enumerate(CANCEL_AFTER_MS)}
        futures["answered"] = pool.submit(answered_on_android, switchboard, fake_apns, fake_fcm, rtpengine, (25150, 25151, 25152))
        futures["nobody answers"] = pool.submit(nobody_answers, switchboard, fake_apns, fake_fcm, rtpengine, (25160, 25161, 25162))
        futures["rings past the window"] = pool.submit(woken_phone_rings_past_the_window, switchboard, fake_apns, fake_fcm, rtpengine,
                                                       (25170, 25171, 25172))
        concurrent.futures.wait(futures.values())
        for name, future in futures.items():
            if future.exception() is None:
                print(f"{name}: APNs {future.result()['apns']}, FCM {future.result()['fcm']}")
        yield futures


@pytest.mark.parametrize("cancel_ms", CANCEL_AFTER_MS)
def test_a_caller_who_gives_up_leaves_one_missed_call_and_no_ring(scenarios, cancel_ms):
    assert scenarios[f"cancel {cancel_ms} ms"].result()["apns"] == ["voip", "alert"]


def test_an_answer_on_android_stops_the_iphone_with_a_background_push(scenarios):
    assert scenarios["answered"].result()["apns"] == ["voip", "background"]


def test_nobody_answers_480_after_the_window_and_a_timeout_missed_call(scenarios):
    assert scenarios["nobody answers"].result()["fcm"] == ["call", "call_cancelled"]


def test_a_woken_phone_that_rings_on_is_stopped_at_the_windows_end(scenarios):
    assert scenarios["rings past the window"].result()["apns"] == ["voip", "alert"]


def test_the_calls_api_shows_the_state_to_the_caller_and_callee_only(switchboard, fake_apns):
    caller, callee, stranger = new_account(switchboard.url), Callee(switchboard), new_account(switchboard.url)
    call_id = f"{uuid.uuid4().hex}/x@127.0.0.1"  # a Call-ID may hold a slash
    hook = requests.post(f"{switchboard.hooks_url}/hooks/sip/call", headers={"X-Hook-Secret": switchboard.env["HOOK_SECRET"]},
                         json={"event": "incoming_call", "caller": username(caller), "callee": callee.name, "call_id": call_id}, timeout=5)
    assert hook.status_code == 202, hook.text
    seen = [call_state(switchboard, who, call_id) for who in (caller, callee.session)]
    for answer in seen:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"call_id", "caller", "callee", "state", "deadline"}
        assert body["call_id"] == call_id and body["caller"] == caller["jid"] and body["callee"] == callee.session["jid"]
        assert body["state"] == "ringing" and isinstance(body["deadline"], int) and abs(body["deadline"] - time.time() - RING_SECONDS) <= 2
    other, unknown = call_state(switchboard, stranger, call_id), call_state(switchboard, stranger, "no-such-call@host")
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json() and other.json()["error"]["code"] == "not_found", "a stranger cannot tell a call exists"
    assert call_state(switchboard, callee.session, "x" * 2000).status_code == 404
    anonymous = requests.get(f"{switchboard.url}/api/v1/calls/{urllib.parse.quote(call_id, safe='@')}", timeout=5)
    assert anonymous.status_code == 401
    cancel = requests.post(f"{switchboard.hooks_url}/hooks/sip/cancel", headers={"X-Hook-Secret": switchboard.env["HOOK_SECRET"]},
                           json={"event": "call_cancelled", "caller": username(caller), "callee": callee.name, "call_id": call_id}, timeout=5)
    assert cancel.status_code == 200
    assert call_state(switchboard, caller, call_id).json()["state"] == "cancelled", "a cancel without a reason is `cancelled`"
    assert requests.get(f"{switchboard.hooks_url}/api/v1/calls/x", timeout=5).status_code == 404, "public API only"
