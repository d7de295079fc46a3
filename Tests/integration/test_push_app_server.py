"""Push registration over REST and the XEP-0357 app server's answers, with the real ejabberd and
slixmpp clients: ejabberd keeps a user's push registration only when the answer says so."""
import time
import uuid

import requests

from conftest import DOMAIN, EJABBERD_PORTS, PUSH_COMPONENT
from xmpp_client import enable_push, send_message

PASSWORD = "push test password"
APNS_TOKEN = "ab" * 32


def new_account(url) -> dict:
    r = requests.post(f"{url}/api/v1/account/register", json={"username": f"p{uuid.uuid4().hex[:10]}", "password": PASSWORD})
    assert r.status_code == 201, r.text
    return r.json()


def register_device(url, session, device_uuid=None, **overrides):
    body = {"device_uuid": device_uuid or str(uuid.uuid4()), "platform": "ios", "push_token": APNS_TOKEN,
            "voip_token": "cd" * 32, "app_id": "com.example.chat", "environment": "sandbox", **overrides}
    return requests.post(f"{url}/api/v1/push/register", json=body, headers={"Authorization": f"Bearer {session['token']}"})


def test_register_is_idempotent_and_a_moved_device_gets_new_secrets(switchboard, postgres):
    alice, bob = new_account(switchboard.url), new_account(switchboard.url)
    device = str(uuid.uuid4())
    first = register_device(switchboard.url, alice, device)
    assert first.status_code == 200, first.text
    binding = first.json()
    assert binding["push_jid"] == PUSH_COMPONENT[0] and len(binding["node"]) >= 20 and len(binding["secret"]) >= 30
    again = register_device(switchboard.url, alice, device, push_token="ef" * 32)
    assert again.json() == binding, "same device, same account: same node and secret"
    assert postgres.psql(f"SELECT push_token FROM push_registrations WHERE device_uuid = '{device}'") == "ef" * 32
    moved = register_device(switchboard.url, bob, device).json()
    assert moved["node"] != binding["node"] and moved["secret"] != binding["secret"]
    assert postgres.psql(f"SELECT jid FROM push_registrations WHERE device_uuid = '{device}'") == bob["jid"]
    # DELETE is idempotent and never touches another account's device.
    url = f"{switchboard.url}/api/v1/push/register"
    assert requests.delete(url, json={"device_uuid": device}, headers={"Authorization": f"Bearer {alice['token']}"}).status_code == 204
    assert postgres.psql(f"SELECT count(*) FROM push_registrations WHERE device_uuid = '{device}'") == "1"
    for _ in range(2):
        assert requests.delete(url, json={"device_uuid": device}, headers={"Authorization": f"Bearer {bob['token']}"}).status_code == 204
    assert postgres.psql(f"SELECT count(*) FROM push_registrations WHERE device_uuid = '{device}'") == "0"


def test_bad_registrations_are_400_naming_the_field(switchboard):
    alice = new_account(switchboard.url)
    cases = [
        ({"device_uuid": "not-a-uuid"}, "device_uuid"),
        ({"platform": "windows"}, "platform"),
        ({"push_token": "zz" * 32}, "push_token"),
        ({"push_token": "ab" * 8}, "push_token"),
        ({"platform": "android", "push_token": "fcm token with spaces!!", "voip_token": None}, "push_token"),
        ({"platform": "android", "push_token": "f" * 150}, "voip_token"),
        ({"app_id": "nodots"}, "app_id"),
        ({"environment": "staging"}, "environment"),
        ({"push_token": 5}, "push_token"),
    ]
    for overrides, field in cases:
        r = register_device(switchboard.url, alice, **overrides)
        assert r.status_code == 400, (overrides, r.text)
        assert r.json()["error"]["code"] == "invalid_request" and field in r.json()["error"]["message"], (overrides, r.text)
    assert requests.post(f"{switchboard.url}/api/v1/push/register", json={}).status_code == 401


def push_sessions(postgres, node) -> int:
    return int(postgres.psql(f"SELECT count(*) FROM push_session WHERE node = '{node}'"))


def accepted_count(switchboard) -> int:
    return switchboard.daemon.log.read_text().count("push publish accepted")


def wait_for(what, condition, timeout=8.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_publish_answers_against_the_real_ejabberd(switchboard, postgres):
    c2s = EJABBERD_PORTS["c2s"]
    sender = new_account(switchboard.url)

    # A good registration: ejabberd publishes, Switchboard answers result, ejabberd keeps the registration.
    alice = new_account(switchboard.url)
    binding = register_device(switchboard.url, alice).json()
    enable_push(alice["jid"], PASSWORD, c2s, binding["push_jid"], binding["node"], binding["secret"])
    assert push_sessions(postgres, binding["node"]) == 1
    before = accepted_count(switchboard)
    send_message(sender["jid"], PASSWORD, c2s, alice["jid"], "hello")
    wait_for("the publish", lambda: accepted_count(switchboard) > before)
    time.sleep(0.5)
    assert push_sessions(postgres, binding["node"]) == 1, "kept"

    # The wrong secret: auth/forbidden, and ejabberd drops that registration.
    bob = new_account(switchboard.url)
    bob_binding = register_device(switchboard.url, bob).json()
    enable_push(bob["jid"], PASSWORD, c2s, bob_binding["push_jid"], bob_binding["node"], "not-the-secret")
    assert push_sessions(postgres, bob_binding["node"]) == 1
    send_message(sender["jid"], PASSWORD, c2s, bob["jid"], "hello")
    wait_for("ejabberd to drop the registration", lambda: push_sessions(postgres, bob_binding["node"]) == 0)

    # An unknown node: cancel/item-not-found, dropped too.
    carol = new_account(switchboard.url)
    enable_push(carol["jid"], PASSWORD, c2s, PUSH_COMPONENT[0], "no-such-node", "whatever")
    send_message(sender["jid"], PASSWORD, c2s, carol["jid"], "hello")
    wait_for("ejabberd to drop the unknown node", lambda: push_sessions(postgres, "no-such-node") == 0)
