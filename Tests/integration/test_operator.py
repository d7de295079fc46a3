"""The operator endpoints (docs/operations.md) on the release binary: behind ADMIN_TOKEN, an
account's devices with their last push outcome, a test push answered with the fake provider's
verdict, provider and queue status, and `switchboard push-test` calling them."""
import secrets
import uuid

import requests

from conftest import restart_with
from test_config import run
from test_push_app_server import arrivals, new_account, register_device


def admin(switchboard, method, path, token="right", **kwargs):
    headers = {} if token is None else {"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN'] if token == 'right' else token}"}
    return requests.request(method, f"{switchboard.hooks_url}/admin/v1{path}", headers=headers, timeout=15, **kwargs)


def test_every_operator_endpoint_refuses_a_missing_or_wrong_token(switchboard):
    device = str(uuid.uuid4())
    for method, path in [("GET", "/status"), ("GET", "/accounts/alice/devices"), ("POST", f"/devices/{device}/test-push")]:
        for token in [None, "wrong", switchboard.env["ADMIN_TOKEN"][:-1], "Basic " + switchboard.env["ADMIN_TOKEN"]]:
            answer = admin(switchboard, method, path, token=token)
            assert answer.status_code == 401, (method, path, token, answer.text)
            assert answer.json()["error"]["code"] == "invalid_admin_token"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(f"{switchboard.url}/admin/v1/status", timeout=5).status_code == 404, "never on the public listener"


def test_status_shows_providers_queues_components_and_databases(switchboard):
    status = admin(switchboard, "GET", "/status")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["components"] == {"admin": True, "push": True}
    assert body["databases"] == {"switchboard": True, "ejabberd": True}
    for platform in ["ios", "android"]:
        provider = body["providers"][platform]
        assert provider["configured"] is True
        assert set(provider["queue"]) == {"call", "message"} and set(provider["requests"]) == {"in_flight", "waiting"}
        assert set(provider["pushes"]) == {"sent", "failed", "dead_token", "retried"}


def test_a_test_push_reaches_the_fake_and_becomes_the_devices_last_outcome(switchboard, fake_apns):
    user = new_account(switchboard.url)
    device, push_token, voip_token = str(uuid.uuid4()), secrets.token_hex(32), secrets.token_hex(32)
    assert register_device(switchboard.url, user, device, push_token=push_token, voip_token=voip_token).status_code == 200
    listed = admin(switchboard, "GET", f"/accounts/{user['jid']}/devices").json()
    assert [d["device_id"] for d in listed["devices"]] == [device]
    entry = listed["devices"][0]
    assert entry["last_push"] is None and entry["push_token"] == push_token[:8] + "…", "the token only in part"
    assert push_token not in str(listed) and voip_token not in str(listed)

    alert = admin(switchboard, "POST", f"/devices/{device}/test-push", json={"kind": "alert"})
    assert alert.status_code == 200, alert.text
    outcome = alert.json()["outcome"]
    assert outcome["result"] == "delivered" and outcome["attempts"] == 1
    [push] = [p for p in fake_apns.pushes() if p["token"] == push_token]
    assert outcome["message_id"] == push["headers"]["apns-id"], "APNs' own id for the message"
    assert push["headers"]["apns-push-type"] == "alert"

    voip = admin(switchboard, "POST", f"/devices/{device}/test-push", json={"kind": "voip"})
    assert voip.status_code == 200 and voip.json()["outcome"]["result"] == "delivered", voip.text
    [call] = [p for p in fake_apns.pushes() if p["token"] == voip_token]
    fake_apns.report_call(call)
    assert fake_apns.violations(voip_token) == [], "a test VoIP push keeps Apple's rules"

    username = user["jid"].split("@")[0]
    last = admin(switchboard, "GET", f"/accounts/{username}/devices").json()["devices"][0]["last_push"]
    assert last["result"] == "delivered" and last["kind"] == "call" and last["message_id"] == call["headers"]["apns-id"]


def test_an_android_test_push_answers_with_fcms_message_name(switchboard, fake_fcm):
    user = new_account(switchboard.url)
    device, token = str(uuid.uuid4()), "fcm-" + secrets.token_hex(16)
    assert register_device(switchboard.url, user, device, platform="android", push_token=token, voip_token=None,
                           environment=None).status_code == 200
    for kind in ["alert", "voip"]:  # Android has one token: a call push goes to it too
        answer = admin(switchboard, "POST", f"/devices/{device}/test-push", json={"kind": kind})
        assert answer.status_code == 200, answer.text
        outcome = answer.json()["outcome"]
        assert outcome["result"] == "delivered" and outcome["message_id"].startswith("projects/"), outcome
    assert len([m for m in fake_fcm.messages() if m["token"] == token]) == 2


def test_a_test_push_tells_a_dead_token_unknown_device_and_bad_kind_apart(switchboard, fake_apns):
    user = new_account(switchboard.url)
    device, token = str(uuid.uuid4()), secrets.token_hex(32)
    assert register_device(switchboard.url, user, device, push_token=token).status_code == 200
    fake_apns.set_answer(token, {"status": 410, "reason": "Unregistered"})
    dead = admin(switchboard, "POST", f"/devices/{device}/test-push")
    assert dead.status_code == 200
    assert {k: dead.json()["outcome"][k] for k in ["result", "reason"]} == {"result": "token_dead", "reason": "Unregistered"}
    again = admin(switchboard, "POST", f"/devices/{device}/test-push")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_usable_token", again.text
    assert admin(switchboard, "POST", f"/devices/{uuid.uuid4()}/test-push").status_code == 404
    bad = admin(switchboard, "POST", f"/devices/{device}/test-push", json={"kind": "sms"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
    malformed = requests.post(f"{switchboard.hooks_url}/admin/v1/devices/{device}/test-push", data="{",
                              headers={"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}", "Content-Type": "application/json"}, timeout=5)
    assert malformed.status_code == 400
    assert admin(switchboard, "GET", "/accounts/@@/devices").status_code == 400


def test_the_push_test_command_prints_the_verdict(binary, switchboard, fake_apns):
    user = new_account(switchboard.url)
    device, token = str(uuid.uuid4()), secrets.token_hex(32)
    assert register_device(switchboard.url, user, device, push_token=token).status_code == 200
    env = {"ADMIN_TOKEN": switchboard.env["ADMIN_TOKEN"], "HOOKS_HTTP_PORT": switchboard.env["HOOKS_HTTP_PORT"]}
    sent = run(binary, env, "push-test", device, timeout=30)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    [push] = [p for p in fake_apns.pushes() if p["token"] == token]
    assert sent.stdout.startswith("delivered (message id " + push["headers"]["apns-id"] + "), 1 attempt"), sent.stdout
    wrong = run(binary, {**env, "ADMIN_TOKEN": "x" * 64}, "push-test", device, timeout=30)
    assert wrong.returncode == 77 and "HTTP 401" in wrong.stdout, wrong.stdout
    unknown = run(binary, env, "push-test", str(uuid.uuid4()), timeout=30)
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stdout
    assert run(binary, {"HOOKS_HTTP_PORT": env["HOOKS_HTTP_PORT"]}, "push-test", device).returncode == 78


def test_without_admin_token_the_endpoints_do_not_exist(switchboard):
    token = switchboard.env["ADMIN_TOKEN"]
    restart_with(switchboard, ADMIN_TOKEN=None)
    try:
        answer = requests.get(f"{switchboard.hooks_url}/admin/v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 404
    finally:
        restart_with(switchboard, ADMIN_TOKEN=token)
