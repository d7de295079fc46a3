"""Push registration over REST and the XEP-0357 app server's answers, with the real ejabberd and
slixmpp clients: ejabberd keeps a user's push registration only when the answer says so."""
import email.utils
import re
import secrets
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import DOMAIN, EJABBERD_PORTS, PUSH_COMPONENT, restart_with
from stack.xmpp_client import enable_push, publish_directly, send_message

PASSWORD = "push test password"


def new_account(url) -> dict:
    r = requests.post(f"{url}/api/v1/account/register", json={"username": f"p{uuid.uuid4().hex[:10]}", "password": PASSWORD})
    assert r.status_code == 201, r.text
    return r.json()


def register_device(url, session, device_uuid=None, **overrides):
    # Fresh tokens unless the test says otherwise: a token names one installation of the app, and
    # registering it again under another device id replaces the earlier registration.
    body = {"device_uuid": device_uuid or str(uuid.uuid4()), "platform": "ios", "push_token": secrets.token_hex(32),
            "voip_token": secrets.token_hex(32), "app_id": "com.example.chat", "environment": "sandbox", **overrides}
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


def test_a_token_registered_under_a_new_device_id_replaces_the_old_account_s_registration(switchboard, postgres, fake_apns):
    """A phone that logs out of one account and into another may send a new device id with the same
    token: the first account's messages must no longer reach that phone."""
    sender, first, token, first_binding = offline_device(switchboard)
    second = new_account(switchboard.url)
    second_binding = register_device(switchboard.url, second, push_token=token).json()
    assert postgres.psql(f"SELECT jid FROM push_registrations WHERE push_token = '{token}'") == second["jid"]
    enable_push(second["jid"], PASSWORD, EJABBERD_PORTS["c2s"], second_binding["push_jid"], second_binding["node"], second_binding["secret"])
    message(sender, first, "to the first account")
    wait_for("ejabberd to drop the first account's registration", lambda: push_sessions(postgres, first_binding["node"]) == 0)
    assert arrivals(fake_apns.pushes, token) == [], "nothing for the first account reaches the phone"
    message(sender, second, "to the second account")
    wait_for("the second account's push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)


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


def offline_device(switchboard, android=False):
    """(sender, user, token, binding): `user` has registered a fresh device token over REST and enabled
    XEP-0357 with the node and secret it got, then gone offline; `sender` can message them."""
    sender, user = new_account(switchboard.url), new_account(switchboard.url)
    if android:
        token = "fcm-" + uuid.uuid4().hex + ":" + uuid.uuid4().hex
        binding = register_device(switchboard.url, user, platform="android", push_token=token, voip_token=None, environment=None).json()
    else:
        token = uuid.uuid4().hex + uuid.uuid4().hex
        binding = register_device(switchboard.url, user, push_token=token).json()
    enable_push(user["jid"], PASSWORD, EJABBERD_PORTS["c2s"], binding["push_jid"], binding["node"], binding["secret"])
    return sender, user, token, binding


def message(sender, user, body):
    send_message(sender["jid"], PASSWORD, EJABBERD_PORTS["c2s"], user["jid"], body)


def arrivals(records, token) -> list[float]:
    """When each push for `token` reached a fake (`records`: its pushes or messages method)."""
    return [r["received"] for r in records() if r["token"] == token]


def token_kept(postgres, binding) -> bool:
    return postgres.psql(f"SELECT push_token_dead_at IS NULL FROM push_registrations WHERE node = '{binding['node']}'") == "t"


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


def test_a_database_stall_is_answered_wait_and_ejabberd_keeps_the_registration(switchboard, postgres, ejabberd, fake_apns):
    """A transient problem must never be answered with a cancel/auth error: ejabberd would delete the
    user's push registration (docs/xmpp.md)."""
    sender, user, token, binding = offline_device(switchboard)
    log = ejabberd.dir / "log" / "ejabberd.log"
    rejected_before = log.read_text().count("temporarily: resource-constraint")
    # push_registrations held for longer than Switchboard's 5 s statement deadline.
    locker = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", postgres.database, "-c",
                               "BEGIN; LOCK TABLE push_registrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6.5); COMMIT;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        message(sender, user, "during the stall")
        wait_for("ejabberd to log the wait answer", lambda: log.read_text().count("temporarily: resource-constraint") > rejected_before,
                 timeout=10)
    finally:
        locker.wait(15)
    assert push_sessions(postgres, binding["node"]) == 1, "kept"
    message(sender, user, "after the stall")
    wait_for("the push after the stall", lambda: arrivals(fake_apns.pushes, token), timeout=5)


def test_a_publish_sent_by_a_client_rather_than_the_server_is_forbidden(switchboard, postgres, fake_apns):
    """A user knows their own node and secret (the REST API gave them out); sending publishes to the
    push component themselves must not make Switchboard push (docs/xmpp.md: from the server domain)."""
    _, user, token, binding = offline_device(switchboard)
    answer = publish_directly(user["jid"], PASSWORD, EJABBERD_PORTS["c2s"], binding["push_jid"], binding["node"], binding["secret"])
    assert answer == "forbidden"
    time.sleep(0.5)
    assert arrivals(fake_apns.pushes, token) == [], "no push"
    assert push_sessions(postgres, binding["node"]) == 1, "the user's real registration is untouched"


def test_a_message_to_an_offline_ios_user_reaches_the_fake_apns(switchboard, postgres, fake_apns):
    c2s = EJABBERD_PORTS["c2s"]
    sender, alice = new_account(switchboard.url), new_account(switchboard.url)
    token = uuid.uuid4().hex + uuid.uuid4().hex
    binding = register_device(switchboard.url, alice, push_token=token).json()
    enable_push(alice["jid"], PASSWORD, c2s, binding["push_jid"], binding["node"], binding["secret"])
    sent = time.time()
    send_message(sender["jid"], PASSWORD, c2s, alice["jid"], "hello")
    wait_for("the push at the fake APNs", lambda: any(p["token"] == token for p in fake_apns.pushes()), timeout=5)
    push = next(p for p in fake_apns.pushes() if p["token"] == token)
    assert push["received"] - sent < 1.5, "within a second of the message (plus the client's own send)"
    assert push["payload"] == {"aps": {"alert": {"loc-key": "NEW_MESSAGE"}, "sound": "default", "mutable-content": 1}, "type": "message"}
    assert push["headers"]["apns-push-type"] == "alert" and push["headers"]["apns-topic"] == "com.example.chat"
    assert push["headers"]["apns-priority"] == "10"
    metrics = requests.get(f"{switchboard.hooks_url}/metrics").text
    sent = re.search(r'switchboard_pushes_total\{platform="ios",outcome="sent"\} (\d+)', metrics)
    assert sent and int(sent.group(1)) >= 1, metrics
    assert abs(int(push["headers"]["apns-expiration"]) - (time.time() + 86400)) < 120


def test_each_registration_s_environment_picks_its_apns_host(switchboard, postgres, fake_apns):
    """APNS_URL and APNS_SANDBOX_URL are two names of the one fake here (127.0.0.1 and localhost)."""
    sender = new_account(switchboard.url)
    hosts = {}
    for environment in ("production", "sandbox"):
        user, token = new_account(switchboard.url), uuid.uuid4().hex + uuid.uuid4().hex
        binding = register_device(switchboard.url, user, push_token=token, environment=environment).json()
        enable_push(user["jid"], PASSWORD, EJABBERD_PORTS["c2s"], binding["push_jid"], binding["node"], binding["secret"])
        message(sender, user, "hi")
        wait_for(f"the {environment} push", lambda: arrivals(fake_apns.pushes, token), timeout=5)
        hosts[environment] = next(p for p in fake_apns.pushes() if p["token"] == token)["authority"].rsplit(":", 1)[0]
    assert hosts == {"production": "127.0.0.1", "sandbox": "localhost"}


def test_a_dead_token_is_cleared_and_the_next_publish_drops_the_registration(switchboard, postgres, fake_apns):
    c2s = EJABBERD_PORTS["c2s"]
    sender, bob = new_account(switchboard.url), new_account(switchboard.url)
    token = uuid.uuid4().hex + uuid.uuid4().hex
    fake_apns.answer(token, 410, "Unregistered", timestamp=int(time.time() * 1000) + 60_000)
    binding = register_device(switchboard.url, bob, push_token=token).json()
    enable_push(bob["jid"], PASSWORD, c2s, binding["push_jid"], binding["node"], binding["secret"])
    send_message(sender["jid"], PASSWORD, c2s, bob["jid"], "one")
    wait_for("the token to be marked dead", lambda: postgres.psql(
        f"SELECT push_token_dead_at IS NOT NULL FROM push_registrations WHERE node = '{binding['node']}'") == "t")
    assert push_sessions(postgres, binding["node"]) == 1, "ejabberd still has it: that publish was answered result"
    send_message(sender["jid"], PASSWORD, c2s, bob["jid"], "two")
    wait_for("ejabberd to drop the registration", lambda: push_sessions(postgres, binding["node"]) == 0)


def test_a_410_older_than_the_token_s_last_registration_keeps_the_token(switchboard, postgres, fake_apns):
    sender, ivy, token, binding = offline_device(switchboard)
    # Apple saw this token unregistered an hour ago; the app has registered it again since.
    fake_apns.answer(token, 410, "Unregistered", timestamp=int(time.time() * 1000) - 3_600_000)
    message(sender, ivy, "one")
    wait_for("the refused push", lambda: arrivals(fake_apns.pushes, token), timeout=5)
    time.sleep(0.5)
    assert token_kept(postgres, binding), "a 410 older than the registration does not clear the token"
    message(sender, ivy, "two")
    wait_for("the next publish to push again", lambda: len(arrivals(fake_apns.pushes, token)) == 2, timeout=5)
    assert push_sessions(postgres, binding["node"]) == 1


def test_an_expired_provider_token_is_renewed_and_the_push_still_arrives(switchboard, postgres, fake_apns):
    sender, hana, token, binding = offline_device(switchboard)
    message(sender, hana, "one")
    wait_for("the first push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)
    # Apple's clock now finds the cached provider token too old (its iat has whole seconds: a new
    # token signed a second later is younger than the cut).
    fake_apns.expire_provider_tokens()
    time.sleep(1.1)
    sent = time.time()
    message(sender, hana, "two")
    wait_for("the push after the expiry", lambda: len(arrivals(fake_apns.pushes, token)) == 2, timeout=5)
    assert arrivals(fake_apns.pushes, token)[1] - sent < 2, "sent again at once with a new token, not after a backoff"
    assert token_kept(postgres, binding)


def test_a_goaway_from_apns_loses_no_push_and_sends_none_twice(switchboard, postgres, fake_apns):
    devices = [offline_device(switchboard) for _ in range(5)]
    fake_apns.goaway_after_next()
    # Sent together, so that more pushes are in flight on the connection when the GOAWAY comes.
    senders = [threading.Thread(target=message, args=(sender, user, "hi")) for sender, user, _, _ in devices]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(10)
    tokens = [token for _, _, token, _ in devices]
    wait_for("every push", lambda: all(arrivals(fake_apns.pushes, token) for token in tokens), timeout=8)
    time.sleep(0.5)
    assert [len(arrivals(fake_apns.pushes, token)) for token in tokens] == [1] * 5
    assert fake_apns.goaway_sent(), "the fake did send its GOAWAY"
    assert all(token_kept(postgres, binding) for _, _, _, binding in devices)


def connection_events(switchboard, event: str) -> int:
    metrics = requests.get(f"{switchboard.hooks_url}/metrics").text
    found = re.search(rf'switchboard_push_connections_total\{{platform="ios",event="{event}"\}} (\d+)', metrics)
    assert found, metrics
    return int(found.group(1))


def test_a_connection_that_stops_answering_is_replaced(switchboard, postgres, fake_apns):
    retired = connection_events(switchboard, "retired")
    sender, hana, token, binding = offline_device(switchboard)
    message(sender, hana, "one")
    wait_for("the first push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)
    # The connection that carried it goes silent, as one dropped by a middlebox without a word does:
    # requests are taken and never answered, and TCP notices nothing.
    fake_apns.silence_open_connections()
    try:
        sent = time.time()
        message(sender, hana, "two")
        # The attempt times out after 10 s; the retry has to go out on a new connection.
        wait_for("the push, on a new connection", lambda: len(arrivals(fake_apns.pushes, token)) == 2, timeout=16)
        assert arrivals(fake_apns.pushes, token)[1] - sent < 13
        message(sender, hana, "three")
        wait_for("the next push, at once", lambda: len(arrivals(fake_apns.pushes, token)) == 3, timeout=3)
    finally:
        fake_apns.stop_silencing()
    assert token_kept(postgres, binding)
    assert "provider connection stopped answering" in switchboard.daemon.log.read_text(), "operators are told"
    assert connection_events(switchboard, "retired") == retired + 1, "and /metrics counts it"


def test_a_provider_error_is_retried_and_the_registration_kept(switchboard, postgres, fake_apns):
    c2s = EJABBERD_PORTS["c2s"]
    sender, carol = new_account(switchboard.url), new_account(switchboard.url)
    token = uuid.uuid4().hex + uuid.uuid4().hex
    fake_apns.answer(token, 500, "InternalServerError")
    binding = register_device(switchboard.url, carol, push_token=token).json()
    enable_push(carol["jid"], PASSWORD, c2s, binding["push_jid"], binding["node"], binding["secret"])
    send_message(sender["jid"], PASSWORD, c2s, carol["jid"], "hi")
    wait_for("4 attempts (3 retries)", lambda: sum(p["token"] == token for p in fake_apns.pushes()) == 4, timeout=10)
    attempts = [p for p in fake_apns.pushes() if p["token"] == token]
    assert len({p["headers"]["apns-id"] for p in attempts}) == 1, "the same apns-id across retries"
    time.sleep(1.5)
    assert sum(p["token"] == token for p in fake_apns.pushes()) == 4, "no more than 3 retries"
    assert postgres.psql(f"SELECT push_token_dead_at IS NULL FROM push_registrations WHERE node = '{binding['node']}'") == "t"
    assert push_sessions(postgres, binding["node"]) == 1


@pytest.mark.parametrize("android", [False, True], ids=["apns-429-seconds", "fcm-503-http-date"])
def test_a_retry_after_is_honoured(switchboard, postgres, fake_apns, fake_fcm, android):
    sender, user, token, binding = offline_device(switchboard, android=android)
    if android:
        # An HTTP-date 3 s ahead (whole seconds: at least 2 s from now).
        fake_fcm.answer(token, 503, "UNAVAILABLE", retry_after=email.utils.formatdate(time.time() + 3, usegmt=True))
        records, earliest = fake_fcm.messages, 1.5
    else:
        fake_apns.answer(token, 429, "TooManyRequests", **{"retry-after": 2})
        records, earliest = fake_apns.pushes, 1.9
    message(sender, user, "hi")
    wait_for("a second attempt", lambda: len(arrivals(records, token)) >= 2, timeout=10)
    first, second = arrivals(records, token)[:2]
    # The backoff alone would retry after 0.2 s; the header (read through the HTTP/2 client) asks for more.
    assert earliest <= second - first < 5, second - first
    assert token_kept(postgres, binding)


def test_a_revoked_fcm_access_token_is_renewed_and_the_push_still_arrives(switchboard, postgres, fake_fcm):
    sender, gina, token, binding = offline_device(switchboard, android=True)
    pushes = lambda: len(arrivals(fake_fcm.messages, token))  # noqa: E731
    message(sender, gina, "one")
    wait_for("the first push", lambda: pushes() == 1, timeout=5)
    issued = fake_fcm.tokens_issued()
    fake_fcm.revoke_tokens()  # as a key rotation would: the cached access token is now refused with 401
    message(sender, gina, "two")
    wait_for("the push after the revocation", lambda: pushes() == 2, timeout=5)
    assert fake_fcm.tokens_issued() == issued + 1, "one new access token, fetched when the old one was refused"
    message(sender, gina, "three")
    wait_for("the next push, on the new token", lambda: pushes() == 3, timeout=5)
    assert fake_fcm.tokens_issued() == issued + 1
    assert token_kept(postgres, binding)


def test_android_pushes_reach_the_fake_fcm_with_one_cached_access_token(switchboard, postgres, fake_fcm):
    c2s = EJABBERD_PORTS["c2s"]
    sender, dora = new_account(switchboard.url), new_account(switchboard.url)
    token = "fcm-" + uuid.uuid4().hex + ":" + uuid.uuid4().hex
    binding = register_device(switchboard.url, dora, platform="android", push_token=token, voip_token=None, environment=None).json()
    enable_push(dora["jid"], PASSWORD, c2s, binding["push_jid"], binding["node"], binding["secret"])
    tokens_before = fake_fcm.tokens_issued()
    for body in ("one", "two"):
        send_message(sender["jid"], PASSWORD, c2s, dora["jid"], body)
    wait_for("two data pushes", lambda: sum(m["token"] == token for m in fake_fcm.messages()) == 2, timeout=5)
    message = next(m for m in fake_fcm.messages() if m["token"] == token)
    assert message["data"] == {"type": "message"} and message["android"] == {"priority": "high", "ttl": "86400s"}
    assert fake_fcm.tokens_issued() - tokens_before <= 1, "the access token is cached"

    # UNREGISTERED: the token is dead, and the next publish drops the registration.
    fake_fcm.answer(token, 404, "UNREGISTERED")
    send_message(sender["jid"], PASSWORD, c2s, dora["jid"], "three")
    wait_for("the token to be marked dead", lambda: postgres.psql(
        f"SELECT push_token_dead_at IS NOT NULL FROM push_registrations WHERE node = '{binding['node']}'") == "t")
    send_message(sender["jid"], PASSWORD, c2s, dora["jid"], "four")
    wait_for("ejabberd to drop the registration", lambda: push_sessions(postgres, binding["node"]) == 0)


def test_fcm_pushes_arrive_on_time_while_apns_is_down(switchboard, postgres, fake_apns, fake_fcm):
    c2s = EJABBERD_PORTS["c2s"]
    sender, ios, android = new_account(switchboard.url), new_account(switchboard.url), new_account(switchboard.url)
    ios_binding = register_device(switchboard.url, ios).json()
    token = "fcm-" + uuid.uuid4().hex
    android_binding = register_device(switchboard.url, android, platform="android", push_token=token, voip_token=None).json()
    enable_push(ios["jid"], PASSWORD, c2s, ios_binding["push_jid"], ios_binding["node"], ios_binding["secret"])
    enable_push(android["jid"], PASSWORD, c2s, android_binding["push_jid"], android_binding["node"], android_binding["secret"])
    fake_apns.daemon.stop()
    try:
        for i in range(5):
            send_message(sender["jid"], PASSWORD, c2s, ios["jid"], f"to ios {i}")
        started = time.time()
        send_message(sender["jid"], PASSWORD, c2s, android["jid"], "to android")
        wait_for("the FCM push", lambda: any(m["token"] == token for m in fake_fcm.messages()), timeout=5)
        arrived = next(m for m in fake_fcm.messages() if m["token"] == token)["received"]
        assert arrived - started < 1.5, "APNs being down delays nothing on FCM"
        assert push_sessions(postgres, ios_binding["node"]) == 1, "APNs trouble never drops a registration"
    finally:
        fake_apns.start()
    # APNs back: the next push goes out on a new connection.
    before = len(fake_apns.pushes())
    send_message(sender["jid"], PASSWORD, c2s, ios["jid"], "ios again")
    wait_for("an iOS push after APNs came back", lambda: len(fake_apns.pushes()) > before, timeout=5)


def test_registrations_survive_a_switchboard_restart_without_messages(switchboard, postgres, fake_apns):
    """ejabberd deletes a push registration when a publish fails because the app server is
    unreachable (docs/xmpp.md). A restart with no message in between loses
    nothing; a message during the restart costs that user the registration (documented here, it
    is ejabberd's rule: the client re-enables on its next login)."""
    from conftest import wait_ready
    c2s = EJABBERD_PORTS["c2s"]
    sender, quiet, unlucky = new_account(switchboard.url), new_account(switchboard.url), new_account(switchboard.url)
    quiet_token, unlucky_token = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
    quiet_binding = register_device(switchboard.url, quiet, push_token=quiet_token).json()
    unlucky_binding = register_device(switchboard.url, unlucky, push_token=unlucky_token).json()
    enable_push(quiet["jid"], PASSWORD, c2s, quiet_binding["push_jid"], quiet_binding["node"], quiet_binding["secret"])
    enable_push(unlucky["jid"], PASSWORD, c2s, unlucky_binding["push_jid"], unlucky_binding["node"], unlucky_binding["secret"])

    assert switchboard.stop() == 0
    try:
        send_message(sender["jid"], PASSWORD, c2s, unlucky["jid"], "while the push service is down")
        wait_for("ejabberd to drop the unlucky registration", lambda: push_sessions(postgres, unlucky_binding["node"]) == 0)
    finally:
        switchboard.start()
        wait_ready(switchboard.url)
    assert push_sessions(postgres, quiet_binding["node"]) == 1, "no message during the restart: kept"
    send_message(sender["jid"], PASSWORD, c2s, quiet["jid"], "after the restart")
    wait_for("the push after the restart", lambda: any(p["token"] == quiet_token for p in fake_apns.pushes()), timeout=5)


def test_app_ids_limit_which_apps_devices_register_for(switchboard):
    """APP_IDS: a client cannot aim this server's pushes at another app of the same Apple team or
    Firebase project. Unset (the session's instance), any app is taken and the start-up log says so."""
    assert "APP_IDS is unset" in switchboard.daemon.log.read_text()
    restart_with(switchboard, APP_IDS="com.example.chat,com.example.chat.beta")
    try:
        user = new_account(switchboard.url)
        r = register_device(switchboard.url, user, app_id="com.example.bank")
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request" and "'app_id'" in r.json()["error"]["message"], r.text
        assert register_device(switchboard.url, user, app_id="com.example.chat.beta").status_code == 200
    finally:
        restart_with(switchboard, APP_IDS=None)
