"""The SIP stack end to end: the real Kamailio (deploy/kamailio/kamailio.cfg with loopback addresses),
rtpengine and SIPp, with Switchboard's hooks and the strict push fakes. Accounts are made over REST."""
import re
import time
import uuid

import requests

from conftest import wait_ready
from sipp import SIPp, final_response, run
from test_push_app_server import PASSWORD, new_account, register_device, wait_for

CALLER_PORT, CALLEE_UAS_PORT, WAKE_PORT, REGISTER_PORT = 25080, 25070, 25071, 25072


def username(session) -> str:
    return session["jid"].split("@")[0]


def sleeping_callee(switchboard):
    """An account with an iPhone (VoIP token) and an Android phone, neither registered in SIP."""
    session = new_account(switchboard.url)
    voip, fcm = uuid.uuid4().hex * 2, f"fcm-{uuid.uuid4().hex}"
    assert register_device(switchboard.url, session, voip_token=voip, app_id="com.example.phone").status_code == 200
    assert register_device(switchboard.url, session, platform="android", push_token=fcm, voip_token=None,
                           app_id="com.example.phone").status_code == 200
    return session, voip, fcm


def voip_pushes(fake_apns, token):
    return [p for p in fake_apns.pushes() if p["token"] == token]


def test_register_with_the_account_password_and_refusals_that_look_alike(switchboard, kamailio):
    session = new_account(switchboard.url)
    user = username(session)
    ok = run("register", REGISTER_PORT, [user, str(REGISTER_PORT)], user, PASSWORD)
    assert ok.process.returncode == 0, ok.explain()
    assert ok.received_statuses() == [401, 200]
    assert f"sip:{user}@127.0.0.1:{REGISTER_PORT}" in kamailio.rpc("ul.dump")

    wrong = run("register_refused", REGISTER_PORT, [user, str(REGISTER_PORT)], user, "not the password")
    assert wrong.process.returncode == 0, wrong.explain()
    unknown = run("register_refused", REGISTER_PORT, ["nobody-" + uuid.uuid4().hex[:8], str(REGISTER_PORT)], "nobody", "whatever")
    assert unknown.process.returncode == 0, unknown.explain()
    assert wrong.received_statuses() == unknown.received_statuses() == [401, 401]
    assert final_response(wrong) == final_response(unknown), "a wrong password and an unknown user are indistinguishable"


def test_a_callee_with_a_stale_contact_is_pushed_and_reached_at_its_new_one(switchboard, kamailio, fake_apns):
    """The app registered earlier from an address that is gone (it slept, its NAT binding expired):
    Kamailio forks to the stale contact and pushes; the woken app's REGISTER adds a branch (tsilo)."""
    caller = new_account(switchboard.url)
    callee, voip, _ = sleeping_callee(switchboard)
    stale = run("register", REGISTER_PORT, [username(callee), "25099"], username(callee), PASSWORD)  # nothing listens on 25099
    assert stale.process.returncode == 0, stale.explain()
    uas = SIPp("callee_uas", CALLEE_UAS_PORT, server=True)
    call = SIPp("caller_invite", CALLER_PORT, [username(caller), username(callee)], username(caller), PASSWORD)
    wait_for("the VoIP push", lambda: voip_pushes(fake_apns, voip), timeout=5)
    woke = run("register", WAKE_PORT, [username(callee), str(CALLEE_UAS_PORT)], username(callee), PASSWORD)
    assert woke.process.returncode == 0, woke.explain()
    assert call.wait() == 0, call.explain()
    assert uas.wait() == 0, uas.explain()
    assert 200 in call.received_statuses()


def test_unknown_callees_get_404_without_a_push(switchboard, kamailio, fake_apns):
    caller = new_account(switchboard.url)
    before = len(fake_apns.pushes())
    call = run("caller_timeout", CALLER_PORT, [username(caller), "nobody-" + uuid.uuid4().hex[:8]], username(caller), PASSWORD)
    assert call.received_statuses()[-1] == 404, call.explain()
    assert len(fake_apns.pushes()) == before


def test_with_switchboard_stopped_register_gets_503_not_401(switchboard, kamailio):
    session = new_account(switchboard.url)
    user = username(session)
    switchboard.stop()
    try:
        down = run("register_unavailable", REGISTER_PORT, [user, str(REGISTER_PORT)], user, PASSWORD)
        assert down.process.returncode == 0, down.explain()
        assert down.received_statuses() == [401, 503]
    finally:
        switchboard.start()
        wait_ready(switchboard.url)
    again = run("register", REGISTER_PORT, [user, str(REGISTER_PORT)], user, PASSWORD)
    assert again.process.returncode == 0, again.explain()
    assert requests.get(f"{switchboard.url}/readyz").status_code == 200


def test_a_webrtc_client_registers_over_secure_websocket(switchboard, kamailio):
    from conftest import DOMAIN, KAMAILIO_PORTS
    from ws_sip import WebSocketSIP
    session = new_account(switchboard.url)
    client = WebSocketSIP(KAMAILIO_PORTS["wss"])
    try:
        assert client.register(username(session), DOMAIN, PASSWORD) == ["SIP/2.0 401 Unauthorized", "SIP/2.0 200 OK"]
        # NAT handling keeps the contact reachable over this connection (alias of the WebSocket's source).
        contacts = kamailio.rpc("ul.dump")
        assert f"sip:{username(session)}@" in contacts and f"{client.local_port}" in contacts, contacts[-2000:]
        assert client.register(username(session), DOMAIN, "wrong password") == ["SIP/2.0 401 Unauthorized"] * 2
    finally:
        client.close()


def test_kamailio_refuses_to_start_without_the_hook_secret(kamailio):
    import subprocess
    env = {k: v for k, v in kamailio.env.items() if k != "HOOK_SECRET"}
    checked = subprocess.run(["kamailio", "-c", "-f", str(kamailio.config)], env=env, capture_output=True, text=True, timeout=30)
    assert checked.returncode != 0
    assert "HOOK_SECRET" in checked.stderr


WEBRTC_OFFER = "\r\n".join([
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:Qx9v", "a=ice-pwd:3kLw0o7n2mYkQe5rT1xVb8Zc", "a=ice-options:trickle",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000",
    "a=candidate:1 1 udp 2122260223 127.0.0.1 20010 typ host", ""])


def test_rtpengine_bridges_a_webrtc_caller_to_a_plain_rtp_phone(switchboard, kamailio, rtpengine):
    """DTLS-SRTP with ICE on the WebSocket side, plain RTP on the phone's side, both through rtpengine."""
    from conftest import DOMAIN, KAMAILIO_PORTS
    from ws_sip import WebSocketSIP
    caller, callee = new_account(switchboard.url), new_account(switchboard.url)
    registered = run("register", REGISTER_PORT, [username(callee), str(CALLEE_UAS_PORT)], username(callee), PASSWORD)
    assert registered.process.returncode == 0, registered.explain()
    uas = SIPp("callee_uas", CALLEE_UAS_PORT, server=True)
    client = WebSocketSIP(KAMAILIO_PORTS["wss"])
    try:
        call = client.call(username(caller), PASSWORD, username(callee), DOMAIN, WEBRTC_OFFER)
    finally:
        client.close()
    assert uas.wait() == 0, uas.explain()
    assert call["statuses"][0] == 407 and call["statuses"][-2:] == [200, 200], call
    offer_seen = uas.messages().split("INVITE sip:", 1)[1].split("\n\n", 1)[1]
    assert "RTP/AVP" in offer_seen and "SAVPF" not in offer_seen, offer_seen
    assert "a=fingerprint" not in offer_seen and "a=ice-ufrag" not in offer_seen and "a=candidate" not in offer_seen
    port = int(re.search(r"m=audio (\d+)", offer_seen).group(1))
    assert 30000 <= port <= 30100, "the phone is given rtpengine's port"
    answer = call["answer"]
    assert "UDP/TLS/RTP/SAVPF" in answer and "a=fingerprint:" in answer and "a=ice-ufrag:" in answer, answer
    assert "a=setup:passive" in answer or "a=setup:active" in answer
    assert "a=candidate:" in answer and "a=rtcp-mux" in answer
    wait_for("rtpengine to release the call", lambda: call["call_id"] not in rtpengine.calls(), timeout=3)


def test_calls_still_connect_while_rtpengine_is_down(switchboard, kamailio, rtpengine):
    """Media anchoring is lost, the call is not: signalling goes on without rtpengine."""
    caller, callee = new_account(switchboard.url), new_account(switchboard.url)
    registered = run("register", REGISTER_PORT, [username(callee), str(CALLEE_UAS_PORT)], username(callee), PASSWORD)
    assert registered.process.returncode == 0, registered.explain()
    rtpengine.stop()
    try:
        uas = SIPp("callee_uas", CALLEE_UAS_PORT, server=True)
        started = time.monotonic()
        call = run("caller_invite", CALLER_PORT, [username(caller), username(callee)], username(caller), PASSWORD)
        took = time.monotonic() - started
        assert call.process.returncode == 0, call.explain()
        assert uas.wait() == 0, uas.explain()
        offer_seen = uas.messages().split("INVITE sip:", 1)[1]
        assert "m=audio 20000" in offer_seen, "the caller's own SDP, not anchored"
        print(f"call set up in {took:.2f} s with rtpengine down")
    finally:
        rtpengine.start()
        # Kamailio skips an instance it found dead for rtpengine_disable_tout; bring it back now.
        kamailio.rpc("rtpengine.enable", "all", "1")
    assert "disabled: 0" in kamailio.rpc("rtpengine.show", "all").replace("\t", " "), kamailio.rpc("rtpengine.show", "all")
