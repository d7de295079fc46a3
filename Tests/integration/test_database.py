"""Migrations and the database going away under a running server."""
import time

import requests

from conftest import wait_ready


def test_migrations_are_recorded_once(switchboard, postgres):
    tables = set(postgres.psql("SELECT string_agg(table_name, ',') FROM information_schema.tables "
                               "WHERE table_schema = 'public'").split(","))
    # Ours, beside ejabberd's own (users, push_session, muc_room, …) in the same database.
    assert {"account_credentials", "groups", "push_registrations", "sip_calls", "subscriber", "switchboard_migrations"} <= tables
    assert {"users", "push_session", "muc_room"} <= tables
    assert postgres.psql("SELECT count(*) FROM switchboard_migrations") == "4"
    # `switchboard migrate` on an up-to-date database applies nothing, twice.
    for _ in range(2):
        result = switchboard.run("migrate")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "migrations: nothing to apply"
    assert postgres.psql("SELECT count(*) FROM switchboard_migrations") == "4"


def test_subscriber_table_is_kamailio_compatible(postgres, switchboard):
    columns = postgres.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                            "WHERE table_name = 'subscriber'")
    assert columns == "id,username,domain,password,ha1,ha1b"


def test_migrate_without_a_database_fails_clearly(switchboard):
    env = dict(switchboard.env, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    import subprocess
    result = subprocess.run([str(switchboard.binary), "migrate", "--wait", "0.3"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "unavailable" in result.stderr


def test_server_stays_up_while_postgres_is_down_and_recovers(switchboard, postgres, token):
    url = switchboard.url
    postgres.fast_stop()
    try:
        deadline = time.monotonic() + 3
        while requests.get(f"{url}/readyz").status_code != 503:
            assert time.monotonic() < deadline, "readyz never noticed the database going away"
            time.sleep(0.02)
        r = requests.get(f"{url}/readyz", timeout=2)
        assert r.status_code == 503 and r.json()["checks"]["database"] == "down"
        # Routes that do not need the database keep working, without delay.
        for _ in range(20):
            assert requests.get(f"{url}/api/v1/server/info", timeout=1).status_code == 200
        # Several reconnect attempts fail meanwhile, and any cached credential version becomes unusable:
        # served for at most 2 s after its last successful read (CredentialVersions, 1 s fresh + 1 s stale).
        time.sleep(2.2)
        # A token's revocation cannot be checked now: 503, at once, never a hang or a 401.
        r = requests.get(f"{url}/api/v1/turn/credentials", timeout=1, headers={"Authorization": f"Bearer {token()}"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        r = requests.post(f"{url}/api/v1/account/login", json={"username": "fixture", "password": "x" * 10}, timeout=2)
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        assert switchboard.daemon.proc.poll() is None, "the server is still running"
    finally:
        postgres.start()
    recovered = wait_ready(url, timeout=10)
    print(f"readyz back {recovered:.3f} s after PostgreSQL accepted connections again")
    assert recovered < 2.0
