"""A call push is not stuck behind message pushes (CONTRACTS §4, calls ahead of messages): 5,000
message pushes accepted, APNs slowed to 0.25 s per answer (100 streams at a time: 12.5 s of
backlog), then a call; its VoIP push reaches the fake within the ring window, and every message push
still arrives.

The release binary, the real PostgreSQL and the strict fake APNs; the publishes come from
scripts/stack/component_peer.py playing ejabberd's side of XEP-0114, because the real ejabberd shapes
each client connection to 1,000 bytes/s and keeps 100 offline messages per user: 5,000 publishes at
once would take hundreds of sessions. The call comes through the call hook, as Kamailio sends it."""
import secrets
import time
import uuid

import pytest
import requests

from conftest import DOMAIN, PROFILE, production_environment, wait_ready
from stack.component_peer import ThreadedComponentPeer, seed_ios_registrations
from stack.switchboard import Switchboard
from test_push_app_server import new_account, register_device, wait_for

MESSAGES, SLOW_ANSWER_SECONDS = 5000, 0.25
HTTP_PORT, HOOKS_PORT, ADMIN_PORT, PUSH_PORT = 18453, 19453, 27357, 27358
FLOOD_JID = f"flood@{DOMAIN}"
# This instance's ring window: shorter than the 12.5 s backlog, so that a call behind it would miss it.
RING_SECONDS = 6


@pytest.fixture
def instance(binary, postgres, ejabberd, turn_secret, fake_apns, fake_fcm):
    """A second instance on the session's database, its components connected to the peer."""
    component_secret = secrets.token_hex(32)
    peer = ThreadedComponentPeer(component_secret, DOMAIN, ADMIN_PORT, PUSH_PORT)
    env = {**production_environment(postgres.url, turn_secret, ejabberd.reader_url, fake_apns, fake_fcm),
           "HTTP_PORT": str(HTTP_PORT), "HOOKS_HTTP_PORT": str(HOOKS_PORT),
           "XMPP_COMPONENT_PORT": str(ADMIN_PORT), "PUSH_COMPONENT_PORT": str(PUSH_PORT),
           "XMPP_COMPONENT_SECRET": component_secret, "PUSH_COMPONENT_SECRET": component_secret, "LOG_LEVEL": "warning",
           "CALL_RING_SECONDS": str(RING_SECONDS)}
    server = Switchboard(binary, f"{PROFILE}-lanes", env).start()
    try:
        peer.wait_connected()
        wait_ready(server.url, timeout=30)
        yield server, peer
    finally:
        fake_apns.stop_slowing()
        server.stop()
        peer.close()
        postgres.psql(f"DELETE FROM push_registrations WHERE jid = '{FLOOD_JID}'")


def test_a_call_push_overtakes_five_thousand_message_pushes_to_a_slow_apns(switchboard, instance, postgres, fake_apns):
    server, peer = instance
    callee = new_account(switchboard.url)
    voip = secrets.token_hex(32)
    assert register_device(switchboard.url, callee, voip_token=voip, app_id="com.example.phone").status_code == 200
    devices = [(secrets.token_hex(10), secrets.token_hex(16), secrets.token_hex(32)) for _ in range(MESSAGES)]
    seed_ios_registrations(postgres, devices, FLOOD_JID)
    tokens = {token for _, _, token in devices}

    fake_apns.slow_down(SLOW_ANSWER_SECONDS)
    peer.publish_all([(node, secret) for node, secret, _ in devices])
    wait_for("every publish answered", lambda: peer.answered + peer.errors == MESSAGES, timeout=60)
    assert peer.errors == 0, f"all 5,000 accepted (the message lane holds 10,000): {peer.error_samples}"

    called = time.time()
    hook = requests.post(f"{server.hooks_url}/hooks/sip/call", headers={"X-Hook-Secret": server.env["HOOK_SECRET"]}, timeout=5,
                         json={"event": "incoming_call", "caller": "alice", "caller_display": "Alice", "callee": callee["jid"].split("@")[0],
                               "call_id": f"{uuid.uuid4()}@127.0.0.1", "t_index": 1, "t_label": 2})
    assert hook.status_code == 202, hook.text
    wait_for("the VoIP push", lambda: any(p["token"] == voip for p in fake_apns.pushes()), timeout=RING_SECONDS + 5)
    pushes = fake_apns.pushes()
    call = next(p for p in pushes if p["token"] == voip)
    waited = call["received"] - called
    messages_before_call = sum(1 for p in pushes if p["token"] in tokens and p["received"] <= call["received"])
    print(f"call push after {waited:.2f} s, behind {messages_before_call} of {MESSAGES} message pushes")
    assert waited < RING_SECONDS, f"the call push took {waited:.2f} s, past the {RING_SECONDS} s ring window"

    wait_for("every message push", lambda: len({p["token"] for p in fake_apns.pushes() if p["token"] in tokens}) == MESSAGES,
             timeout=MESSAGES * SLOW_ANSWER_SECONDS / 100 + 60)
    last_message = max(p["received"] for p in fake_apns.pushes() if p["token"] in tokens)
    assert last_message - called > RING_SECONDS, "the backlog outlasted the ring window: in arrival order the call would have missed it"
