"""The error answers docs/openapi.yaml documents that the other tests do not happen to reach, each
produced on purpose: no token, the wrong media type, a malformed body, a limit, and every route that
needs the database on an instance whose database is down (503 `database_unavailable`, at once)."""
import secrets
import time
import uuid

import jwt
import pytest
import requests

from conftest import PROFILE, production_environment, record_answers_of, restart_with
from stack.switchboard import Switchboard

ROOM = "team@conference.example.com"
DEVICE = {"device_uuid": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}
MEMBERS = {"members": ["bob@example.com"]}
# Every route behind a bearer token, with a body it accepts.
AUTHENTICATED = [
    ("POST", "/api/v1/account/password", {"old_password": "x" * 12, "new_password": "y" * 12}),
    ("DELETE", "/api/v1/account", None),
    ("POST", "/api/v1/push/register", {**DEVICE, "platform": "ios", "push_token": "ab" * 32, "app_id": "com.example.chat"}),
    ("DELETE", "/api/v1/push/register", DEVICE),
    ("GET", "/api/v1/turn/credentials", None),
    ("POST", "/api/v1/groups/create", {"name": "Team", "members": []}),
    ("GET", f"/api/v1/groups/{ROOM}", None),
    ("DELETE", f"/api/v1/groups/{ROOM}", None),
    ("POST", f"/api/v1/groups/{ROOM}/members", MEMBERS),
    ("DELETE", f"/api/v1/groups/{ROOM}/members", MEMBERS),
    ("GET", "/api/v1/calls/call-1@host", None),
]


def test_every_authenticated_route_refuses_a_request_without_a_token(switchboard):
    for method, path, body in AUTHENTICATED:
        answer = requests.request(method, switchboard.url + path, json=body, timeout=5)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_token", (method, path, answer.text)


def test_json_routes_refuse_another_media_type(switchboard, token):
    admin = {"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}"}
    for url, headers in [(f"{switchboard.url}/api/v1/account/register", {}), (f"{switchboard.url}/api/v1/account/login", {}),
                         (f"{switchboard.hooks_url}/admin/v1/devices/{uuid.uuid4()}/test-push", admin)]:
        answer = requests.post(url, data="username=alice", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
        assert answer.status_code == 415, (url, answer.text)


def test_malformed_delete_bodies_are_400(switchboard, token):
    auth = {"Authorization": f"Bearer {token()}"}
    for path in ["/api/v1/push/register", f"/api/v1/groups/{ROOM}/members"]:
        answer = requests.delete(switchboard.url + path, data="{", headers={**auth, "Content-Type": "application/json"}, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request", (path, answer.text)


def test_an_account_whose_decoded_name_holds_a_slash_is_404_on_the_operator_endpoint(switchboard):
    """The server decodes the path before routing: `a%2Fb` makes it another path, which no route has."""
    answer = requests.get(f"{switchboard.hooks_url}/admin/v1/accounts/a%2Fb/devices", timeout=5,
                          headers={"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}"})
    assert answer.status_code == 404


def test_registrations_past_the_per_address_limit_are_429(switchboard):
    limit = switchboard.env["REGISTER_LIMIT_PER_ADDRESS_PER_HOUR"]
    restart_with(switchboard, REGISTER_LIMIT_PER_ADDRESS_PER_HOUR="1")
    try:
        answers = [requests.post(f"{switchboard.url}/api/v1/account/register", timeout=10,
                                 json={"username": f"limited{secrets.token_hex(4)}", "password": "a long password"}) for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 429]
        assert int(answers[1].headers["Retry-After"]) > 0
    finally:
        restart_with(switchboard, REGISTER_LIMIT_PER_ADDRESS_PER_HOUR=limit)


@pytest.fixture(scope="module")
def without_database(binary, turn_secret):
    """An instance whose database (and ejabberd) cannot be reached."""
    env = production_environment("postgresql://nobody@127.0.0.1:15999/none?connect_timeout=1", turn_secret)
    env.update(HTTP_PORT="18460", HOOKS_HTTP_PORT="19460", XMPP_COMPONENT_PORT="25990", PUSH_COMPONENT_PORT="25991", LOG_LEVEL="warning")
    server = Switchboard(binary, f"{PROFILE}-no-database", env).start()
    record_answers_of(server)
    yield server
    assert server.stop() == 0


def test_every_route_that_needs_the_database_answers_503_at_once_without_it(without_database):
    server = without_database
    now = int(time.time())
    bearer = jwt.encode({"sub": "alice@example.com", "iat": now, "exp": now + 3600, "ver": 1}, server.env["JWT_SECRET"], algorithm="HS256")
    calls = [(method, server.url + path, body, {"Authorization": f"Bearer {bearer}"})
             for method, path, body in AUTHENTICATED if path != "/api/v1/turn/credentials"]
    admin = {"Authorization": f"Bearer {server.env['ADMIN_TOKEN']}"}
    calls += [("POST", f"{server.url}/api/v1/account/register", {"username": "nodb", "password": "a long password"}, {}),
              ("GET", f"{server.hooks_url}/admin/v1/accounts/alice/devices", None, admin),
              ("POST", f"{server.hooks_url}/admin/v1/devices/{uuid.uuid4()}/test-push", None, admin)]
    for method, url, body, headers in calls:
        started = time.monotonic()
        answer = requests.request(method, url, json=body, headers=headers, timeout=10)
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "database_unavailable", (method, url, answer.text)
        assert time.monotonic() - started < 2, "refused at once, not after a statement deadline"
