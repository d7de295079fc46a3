"""Migrations and the database going away under a running server."""
import time

import requests

from conftest import wait_ready, wait_registration_works


def test_migrations_are_recorded_once(switchboard, postgres):
    tables = set(postgres.psql("SELECT string_agg(table_name, ',') FROM information_schema.tables "
                               "WHERE table_schema = 'public'").split(","))
    # Ours, beside ejabberd's own (users, push_session, muc_room, …) in the same database.
    assert {"account_credentials", "groups", "push_registrations", "sip_calls", "subscriber", "switchboard_migrations"} <= tables
    assert {"users", "push_session", "muc_room"} <= tables
    assert postgres.psql("SELECT count(*) FROM switchboard_migrations") == "5"
    # `switchboard migrate` on an up-to-date database applies nothing, twice.
    for _ in range(2):
        result = switchboard.run("migrate")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "migrations: nothing to apply"
    assert postgres.psql("SELECT count(*) FROM switchboard_migrations") == "5"


def test_migrate_needs_only_the_database_and_lists_applied_and_pending(binary, postgres):
    """An operator upgrading runs `switchboard migrate` with the database settings alone; `--status`
    shows what is applied and what is pending, and changes nothing."""
    import subprocess
    import uuid
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    postgres.psql(f"CREATE DATABASE {name} OWNER {postgres.user}")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"postgresql://{postgres.user}@127.0.0.1:{postgres.port}/{name}"}

    def migrate(*args):
        return subprocess.run([str(binary), "migrate", *args], env=env, capture_output=True, text=True, timeout=60)

    try:
        pending = migrate("--status")
        assert pending.returncode == 0, pending.stderr
        lines = pending.stdout.strip().splitlines()
        assert len(lines) == 5 and all(line.startswith("pending ") for line in lines), lines
        assert postgres.psql("SELECT to_regclass('switchboard_migrations') IS NULL", database=name) == "t", "--status changes nothing"
        applied = migrate()
        assert applied.returncode == 0 and applied.stdout.strip() == "migrations: applied 1, 2, 3, 4, 5", applied.stdout + applied.stderr
        after = migrate("--status").stdout.strip().splitlines()
        assert len(after) == 5 and all(line.startswith("applied 20") for line in after), after
        assert after[-1].endswith(" 5 sip_calls: call state")
        broken = subprocess.run([str(binary), "migrate"], env={**env, "DATABASE_URL": "postgres://::bad"}, capture_output=True, text=True, timeout=30)
        assert broken.returncode == 78 and "DATABASE_URL" in broken.stderr
    finally:
        postgres.psql(f"DROP DATABASE {name}")


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
    wait_registration_works(switchboard)


def test_a_frozen_database_answers_503_within_the_deadline_and_recovers(switchboard, postgres, account):
    """PostgreSQL stalled (SIGSTOP: sockets open, nothing answered): every request that needs it gets
    503 within the statement deadline (5 s) plus one queue wait, never a hang, and nothing waits
    without bound; after SIGCONT everything answers again."""
    import concurrent.futures
    import uuid
    secret = {"X-Hook-Secret": switchboard.env["HOOK_SECRET"]}
    bearer = {"Authorization": f"Bearer {account['token']}"}

    def timed(request):
        started = time.monotonic()
        r = request()
        return r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else None, time.monotonic() - started

    calls = [lambda u=uuid.uuid4().hex[:12]: requests.get(f"{switchboard.hooks_url}/hooks/sip/ha1", params={"user": u, "realm": "example.com"},
                                                          headers=secret, timeout=30) for _ in range(30)]
    import random
    rooms = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16)) for _ in range(10)]
    calls += [lambda room=room: requests.get(f"{switchboard.url}/api/v1/groups/{room}@conference.example.com",
                                             headers=bearer, timeout=30) for room in rooms]
    postgres.freeze()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            results = list(pool.map(lambda call: timed(call), calls))
    finally:
        postgres.thaw()
    codes = {(status, code) for status, code, _ in results}
    assert codes == {(503, "database_unavailable")}, codes
    slowest = max(took for _, _, took in results)
    print(f"frozen database: {len(results)} requests, slowest answer {slowest:.2f} s, answers {sorted(codes)}")
    assert slowest < 5 * 2 + 2, f"every answer within the deadline and one queue wait: slowest {slowest:.1f} s"
    wait_ready(switchboard.url, timeout=20)
    r = requests.get(f"{switchboard.hooks_url}/hooks/sip/ha1", params={"user": "nobody-" + uuid.uuid4().hex[:6], "realm": "example.com"},
                     headers=secret, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_user", r.text
    wait_registration_works(switchboard)
