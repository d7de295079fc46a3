"""Limits per account (docs/api.md, "Limits per account"): one account cannot grow the shared tables,
queues or rooms without end. A restart of the session's instance with low limits, the real ejabberd,
slixmpp clients and the release binary."""
import uuid

import requests

from conftest import EJABBERD_PORTS, restart_with
from test_push_app_server import PASSWORD, new_account, push_sessions, register_device, wait_for
from stack.xmpp_client import enable_push, send_message


def auth(session) -> dict:
    return {"Authorization": f"Bearer {session['token']}"}


def test_devices_groups_and_members_past_their_limits(switchboard, postgres, fake_apns):
    restart_with(switchboard, MAX_DEVICES_PER_ACCOUNT="2", MAX_GROUPS_PER_ACCOUNT="2", MAX_GROUP_MEMBERS="2")
    try:
        c2s = EJABBERD_PORTS["c2s"]
        sender, user = new_account(switchboard.url), new_account(switchboard.url)

        # Devices: a third removes the least recently registered, whose node ejabberd then loses.
        oldest = register_device(switchboard.url, user, push_token=uuid.uuid4().hex * 2).json()
        enable_push(user["jid"], PASSWORD, c2s, oldest["push_jid"], oldest["node"], oldest["secret"])
        second = register_device(switchboard.url, user, push_token=uuid.uuid4().hex * 2)
        third = register_device(switchboard.url, user, push_token=uuid.uuid4().hex * 2)
        assert second.status_code == 200 and third.status_code == 200
        rows = postgres.psql(f"SELECT count(*) FROM push_registrations WHERE jid = '{user['jid']}'")
        assert rows == "2", rows
        assert postgres.psql(f"SELECT count(*) FROM push_registrations WHERE node = '{oldest['node']}'") == "0"
        assert push_sessions(postgres, oldest["node"]) == 1
        send_message(sender["jid"], PASSWORD, c2s, user["jid"], "to a device that is gone")
        wait_for("ejabberd to drop the oldest device's registration (item-not-found)",
                 lambda: push_sessions(postgres, oldest["node"]) == 0)

        # Groups: the third one is refused; members past the limit, at creation and added later.
        url = f"{switchboard.url}/api/v1/groups"
        friends = [new_account(switchboard.url) for _ in range(3)]
        jids = [f["jid"] for f in friends]
        r = requests.post(f"{url}/create", json={"name": "too many", "members": jids}, headers=auth(user))
        assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_members", r.text
        first = requests.post(f"{url}/create", json={"name": "one", "members": jids[:2]}, headers=auth(user))
        assert first.status_code == 201, first.text
        assert requests.post(f"{url}/create", json={"name": "two"}, headers=auth(user)).status_code == 201
        r = requests.post(f"{url}/create", json={"name": "three"}, headers=auth(user))
        assert r.status_code == 409 and r.json()["error"]["code"] == "limit_reached", r.text
        room = first.json()["jid"]
        r = requests.post(f"{url}/{room}/members", json={"members": [jids[2]]}, headers=auth(user))
        assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_members", r.text
        assert sorted(requests.get(f"{url}/{room}", headers=auth(user)).json()["members"]) == sorted(jids[:2]), "nothing changed"
        # Removing one makes room for another.
        assert requests.delete(f"{url}/{room}/members", json={"members": [jids[0]]}, headers=auth(user)).status_code == 200
        assert requests.post(f"{url}/{room}/members", json={"members": [jids[2]]}, headers=auth(user)).status_code == 200
    finally:
        restart_with(switchboard, MAX_DEVICES_PER_ACCOUNT=None, MAX_GROUPS_PER_ACCOUNT=None, MAX_GROUP_MEMBERS=None)


def test_member_lists_spend_a_lookup_budget(switchboard):
    """Security review L10: `invalid_member` versus 201 tells whether names are accounts, so every
    name looked up spends the account's hourly budget; past it, 429 and nothing changes."""
    restart_with(switchboard, MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR="3")
    try:
        url = f"{switchboard.url}/api/v1/groups"
        owner, other = new_account(switchboard.url), new_account(switchboard.url)
        friends = [new_account(switchboard.url)["jid"] for _ in range(2)]
        first = requests.post(f"{url}/create", json={"name": "one", "members": friends}, headers=auth(owner))
        assert first.status_code == 201, first.text
        room = first.json()["jid"]
        probe = ["nobody-" + uuid.uuid4().hex[:8] + "@" + owner["jid"].split("@")[1]] * 2
        r = requests.post(f"{url}/{room}/members", json={"members": probe}, headers=auth(owner))
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited", r.text
        assert int(r.headers["Retry-After"]) > 0
        assert sorted(requests.get(f"{url}/{room}", headers=auth(owner)).json()["members"]) == sorted(friends), "nothing changed"
        r = requests.post(f"{url}/create", json={"name": "two", "members": probe[:1] * 2}, headers=auth(owner))
        assert r.status_code == 429, r.text
        # A list without names costs nothing; another account has its own budget.
        assert requests.post(f"{url}/create", json={"name": "empty"}, headers=auth(owner)).status_code == 201
        r = requests.post(f"{url}/create", json={"name": "theirs", "members": probe[:1]}, headers=auth(other))
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_member", r.text
    finally:
        restart_with(switchboard, MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR="1000000")
