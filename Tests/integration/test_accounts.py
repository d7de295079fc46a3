"""Registration and login through the REST API against the real ejabberd, checked with a real
XMPP client (slixmpp, SCRAM-SHA-256 over c2s) and the database."""
import time
import uuid

import pytest
import requests

from conftest import DOMAIN, EJABBERD_PORTS
from stack.xmpp_client import run_session


def unique(prefix: str = "user") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def register(url, username, password):
    return requests.post(f"{url}/api/v1/account/register", json={"username": username, "password": password}, timeout=10)


def login(url, username, password):
    return requests.post(f"{url}/api/v1/account/login", json={"username": username, "password": password}, timeout=10)


def can_log_in_over_xmpp(jid, password) -> bool:
    async def work(client):
        return True
    try:
        return run_session(jid, password, EJABBERD_PORTS["c2s"], work, timeout=15)
    except PermissionError:
        return False


def test_register_then_log_in_over_xmpp_and_rest(switchboard, postgres):
    name, password = unique(), "correct horse battery"
    r = register(switchboard.url, name, password)
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["jid"] == f"{name}@{DOMAIN}"
    assert session["token_type"] == "Bearer" and isinstance(session["expires_at"], int)
    assert session["sip"] == {"username": name, "domain": DOMAIN}
    # The token works on a protected route.
    creds = requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers={"Authorization": f"Bearer {session['token']}"})
    assert creds.status_code == 200 and creds.json()["username"].endswith(f":{name}@{DOMAIN}")
    # A real client logs in with SCRAM-SHA-256; a wrong password does not.
    assert can_log_in_over_xmpp(f"{name}@{DOMAIN}", password)
    assert not can_log_in_over_xmpp(f"{name}@{DOMAIN}", password + "x")
    # The SIP row carries the HA1 of the typed password.
    import hashlib
    ha1 = postgres.psql(f"SELECT ha1 FROM subscriber WHERE username = '{name}' AND domain = '{DOMAIN}'")
    assert ha1 == hashlib.md5(f"{name}:{DOMAIN}:{password}".encode()).hexdigest()
    # REST login, by username and by bare JID.
    for login_name in (name, f"{name}@{DOMAIN}", name.upper()):
        r = login(switchboard.url, login_name, password)
        assert r.status_code == 200, (login_name, r.text)
        assert r.json()["jid"] == f"{name}@{DOMAIN}"


def test_non_ascii_password_is_saslprepped_like_ejabberd(switchboard):
    name, password = unique(), "Ⅸ-ﬁ\u00a0pässwörd"
    assert register(switchboard.url, name, password).status_code == 201
    assert login(switchboard.url, name, password).status_code == 200
    assert can_log_in_over_xmpp(f"{name}@{DOMAIN}", password)


def test_duplicate_registration_is_409_and_changes_nothing(switchboard, postgres):
    name = unique()
    assert register(switchboard.url, name, "first password").status_code == 201
    before = postgres.psql(f"SELECT ha1 FROM subscriber WHERE username = '{name}'")
    r = register(switchboard.url, name, "second password")
    assert r.status_code == 409 and r.json()["error"]["code"] == "username_taken"
    assert postgres.psql(f"SELECT ha1 FROM subscriber WHERE username = '{name}'") == before
    assert login(switchboard.url, name, "first password").status_code == 200
    assert login(switchboard.url, name, "second password").status_code == 401


@pytest.mark.parametrize("username,password,code", [
    ("", "long enough", "invalid_username"),
    ("a@b", "long enough", "invalid_username"),
    ("ﬁx", "long enough", "invalid_username"),
    ("x" * 65, "long enough", "invalid_username"),
    ("<script>", "long enough", "invalid_username"),
    ("zo\u00eb", "long enough", "invalid_username"),  # a SIP URI would need %-escaping: Kamailio refused its calls
    ("a[b]", "long enough", "invalid_username"),
    ("fine", "short", "weak_password"),
    ("fine", "p" * 1024, "weak_password"),
    ("fine", "bell\u0007bell", "weak_password"),
])
def test_bad_usernames_and_passwords_are_400(switchboard, username, password, code):
    r = register(switchboard.url, username, password)
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text


def test_malformed_bodies_are_400_naming_the_field(switchboard):
    url = f"{switchboard.url}/api/v1/account/register"
    r = requests.post(url, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    r = requests.post(url, json={"username": "x"})
    assert r.status_code == 400 and "password" in r.json()["error"]["message"]
    r = requests.post(url, json={"username": 7, "password": "long enough"})
    assert r.status_code == 400 and "username" in r.json()["error"]["message"]
    r = requests.post(url, data=b"x" * 70000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_unknown_user_wrong_password_and_foreign_domain_look_the_same(switchboard):
    name, password = unique(), "a fine password"
    assert register(switchboard.url, name, password).status_code == 201
    cases = [(name, "wrong password"), (unique("nobody"), password), (f"{name}@other.org", password), ("a b", password)]
    medians = []
    for username, pw in cases:
        timings = []
        for _ in range(5):
            started = time.monotonic()
            r = login(switchboard.url, username, pw)
            timings.append(time.monotonic() - started)
            assert r.status_code == 401, (username, r.text)
            assert r.json() == {"error": {"code": "invalid_credentials", "message": "The username or password is wrong."}}
        medians.append(sorted(timings)[2])
    # Every case runs one PBKDF2 (about a millisecond or more): none is an instant reject.
    assert min(medians) > 0.3 * max(medians), medians


def bearer(session) -> dict:
    return {"Authorization": f"Bearer {session['token']}"}


def test_password_change_revokes_old_tokens_and_passwords(switchboard, postgres):
    name, old, new = unique(), "the old password", "the new password"
    first = register(switchboard.url, name, old).json()
    url = f"{switchboard.url}/api/v1/account/password"
    r = requests.post(url, json={"old_password": "not it at all", "new_password": new}, headers=bearer(first))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    assert login(switchboard.url, name, old).status_code == 200, "nothing changed"
    r = requests.post(url, json={"old_password": old, "new_password": "short"}, headers=bearer(first))
    assert r.status_code == 400 and r.json()["error"]["code"] == "weak_password"
    r = requests.post(url, json={"old_password": old, "new_password": new}, headers=bearer(first))
    assert r.status_code == 200, r.text
    second = r.json()
    # Only the new password works, over REST and over XMPP; old tokens are 401, the new one works.
    assert login(switchboard.url, name, old).status_code == 401
    assert login(switchboard.url, name, new).status_code == 200
    assert not can_log_in_over_xmpp(f"{name}@{DOMAIN}", old)
    assert can_log_in_over_xmpp(f"{name}@{DOMAIN}", new)
    turn = f"{switchboard.url}/api/v1/turn/credentials"
    assert requests.get(turn, headers=bearer(first)).status_code == 401
    assert requests.get(turn, headers=bearer(second)).status_code == 200
    import hashlib
    assert postgres.psql(f"SELECT ha1 FROM subscriber WHERE username = '{name}'") == \
        hashlib.md5(f"{name}:{DOMAIN}:{new}".encode()).hexdigest()


def test_password_change_needs_a_token(switchboard):
    r = requests.post(f"{switchboard.url}/api/v1/account/password", json={"old_password": "a" * 8, "new_password": "b" * 8})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_delete_removes_everything_and_is_idempotent(switchboard, postgres):
    name, password = unique(), "delete me please"
    session = register(switchboard.url, name, password).json()
    url = f"{switchboard.url}/api/v1/account"
    assert requests.delete(url).status_code == 401
    assert requests.delete(url, headers=bearer(session)).status_code == 204
    assert login(switchboard.url, name, password).status_code == 401
    assert not can_log_in_over_xmpp(f"{name}@{DOMAIN}", password)
    assert requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers=bearer(session)).status_code == 401
    assert requests.delete(url, headers=bearer(session)).status_code == 401, "its token died with it"
    assert postgres.psql(f"SELECT count(*) FROM subscriber WHERE username = '{name}'") == "0"
    assert postgres.psql(f"SELECT deleted_at IS NOT NULL FROM account_credentials WHERE jid = '{name}@{DOMAIN}'") == "t"
    # The name can be registered again, and old tokens stay dead.
    again = register(switchboard.url, name, "another password")
    assert again.status_code == 201
    assert requests.get(f"{switchboard.url}/api/v1/turn/credentials", headers=bearer(session)).status_code == 401


def test_registration_is_undone_when_the_sip_row_cannot_be_written(switchboard, postgres):
    """The XMPP account is created first; when the database then refuses the SIP row, it is removed
    again: no XMPP account without its SIP row (docs/api.md)."""
    name, password = unique(), "undo me please"
    postgres.psql("REVOKE INSERT, UPDATE ON subscriber FROM ejabberd", database=postgres.database)
    try:
        r = register(switchboard.url, name, password)
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
    finally:
        postgres.psql("GRANT INSERT, UPDATE ON subscriber TO ejabberd", database=postgres.database)
    assert postgres.psql(f"SELECT count(*) FROM users WHERE username = '{name}'") == "0", "the XMPP account was removed"
    assert not can_log_in_over_xmpp(f"{name}@{DOMAIN}", password)
    assert register(switchboard.url, name, password).status_code == 201, "and the name is free again"
