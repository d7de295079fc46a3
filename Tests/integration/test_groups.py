"""Groups over MUC with the real ejabberd: REST for management, slixmpp to check who can enter."""
import uuid

import requests

from conftest import DOMAIN, EJABBERD_PORTS
from stack.xmpp_client import can_join_room

PASSWORD = "group test password"


def new_account(url) -> dict:
    name = f"g{uuid.uuid4().hex[:10]}"
    r = requests.post(f"{url}/api/v1/account/register", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return r.json()


def auth(session) -> dict:
    return {"Authorization": f"Bearer {session['token']}"}


def joins(session, room) -> bool:
    return can_join_room(session["jid"], PASSWORD, EJABBERD_PORTS["c2s"], room)


def test_group_lifecycle_and_membership(switchboard):
    url = f"{switchboard.url}/api/v1/groups"
    owner, member, outsider = new_account(switchboard.url), new_account(switchboard.url), new_account(switchboard.url)
    name = "Team <b>&\"'</b>"
    r = requests.post(f"{url}/create", json={"name": name, "members": [member["jid"]]}, headers=auth(owner))
    assert r.status_code == 201, r.text
    group = r.json()
    room = group["jid"]
    assert room.endswith(f"@conference.{DOMAIN}") and group["name"] == name
    assert group["owner"] == owner["jid"] and group["members"] == [member["jid"]]

    assert requests.get(f"{url}/{room}", headers=auth(owner)).json() == group
    assert requests.get(f"{url}/{room}", headers=auth(member)).status_code == 200
    assert requests.get(f"{url}/{room}", headers=auth(outsider)).status_code == 403
    assert requests.get(f"{url}/nosuchroom@conference.{DOMAIN}", headers=auth(owner)).status_code == 404
    assert requests.get(f"{url}/{room}").status_code == 401

    # Members-only: the member may enter, the outsider may not.
    assert joins(member, room)
    assert not joins(outsider, room)

    # Only the owner adds; then the outsider is a member and may enter.
    r = requests.post(f"{url}/{room}/members", json={"members": [outsider["jid"]]}, headers=auth(member))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = requests.post(f"{url}/{room}/members", json={"members": [outsider["jid"]]}, headers=auth(owner))
    assert r.status_code == 200 and sorted(r.json()["members"]) == sorted([member["jid"], outsider["jid"]])
    assert joins(outsider, room)

    # A member may remove only itself; the owner removes anyone, who then cannot enter.
    r = requests.delete(f"{url}/{room}/members", json={"members": [member["jid"]]}, headers=auth(outsider))
    assert r.status_code == 403
    r = requests.delete(f"{url}/{room}/members", json={"members": [outsider["jid"]]}, headers=auth(outsider))
    assert r.status_code == 200 and r.json()["members"] == [member["jid"]]
    r = requests.delete(f"{url}/{room}/members", json={"members": [member["jid"]]}, headers=auth(owner))
    assert r.status_code == 200 and r.json()["members"] == []
    assert not joins(member, room)
    assert not joins(outsider, room)

    # Only the owner destroys.
    assert requests.delete(f"{url}/{room}", headers=auth(member)).status_code == 403
    assert requests.delete(f"{url}/{room}", headers=auth(owner)).status_code == 204
    assert requests.get(f"{url}/{room}", headers=auth(owner)).status_code == 404


def test_group_input_is_checked(switchboard):
    url = f"{switchboard.url}/api/v1/groups/create"
    owner = new_account(switchboard.url)
    cases = [
        ({"name": "x", "members": [f"nobody{uuid.uuid4().hex[:6]}@{DOMAIN}"]}, 400, "invalid_member"),
        ({"name": "x", "members": ["someone@other.org"]}, 400, "invalid_member"),
        ({"name": "x", "members": ["not a jid"]}, 400, "invalid_member"),
        ({"name": "x", "members": [f"ends-with-backslash\\@{DOMAIN}"]}, 400, "invalid_member"),
        ({"name": ""}, 400, "invalid_request"),
        ({"name": "a" * 300}, 400, "invalid_request"),
        ({"members": []}, 400, "invalid_request"),
        ({"name": 5}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        r = requests.post(url, json=body, headers=auth(owner))
        assert r.status_code == status and r.json()["error"]["code"] == code, (body, r.text)


def test_deleting_an_account_destroys_its_groups(switchboard, postgres):
    owner = new_account(switchboard.url)
    room = requests.post(f"{switchboard.url}/api/v1/groups/create", json={"name": "doomed"}, headers=auth(owner)).json()["jid"]
    assert requests.delete(f"{switchboard.url}/api/v1/account", headers=auth(owner)).status_code == 204
    assert postgres.psql(f"SELECT count(*) FROM groups WHERE room_jid = '{room}'") == "0"
    assert postgres.psql(f"SELECT count(*) FROM muc_room WHERE name = '{room.split('@')[0]}'") == "0", "destroyed in ejabberd too"
