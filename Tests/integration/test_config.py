"""Start-up configuration checks of the real binary, and secrets kept out of logs."""
import secrets
import subprocess

import requests

from conftest import production_environment


def run(binary, env, *args, timeout=10):
    return subprocess.run([str(binary), *args], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                          text=True, timeout=timeout)


def test_every_problem_is_reported_at_once_with_exit_78(binary):
    result = run(binary, {"HTTP_PORT": "99999", "XMPP_DOMAIN": "Not A Domain"}, "serve")
    assert result.returncode == 78
    for name in ["JWT_SECRET", "XMPP_COMPONENT_SECRET", "PUSH_COMPONENT_SECRET", "HOOK_SECRET", "TURN_SECRET",
                 "HTTP_PORT", "XMPP_DOMAIN"]:
        assert f"  - {name}: " in result.stderr, name
    assert "configuration has 7 problems" in result.stderr
    assert "Fix:" in result.stderr


def test_weak_secrets_refused_in_production_allowed_in_development(binary, postgres):
    env = production_environment(postgres.url, "t" * 8)
    env.update({"JWT_SECRET": "changeme", "HOOK_SECRET": "short-secret-1", "HTTP_PORT": "18499", "HOOKS_HTTP_PORT": "19499"})
    result = run(binary, env, "serve")
    assert result.returncode == 78
    assert "JWT_SECRET: looks like a placeholder" in result.stderr
    assert "HOOK_SECRET: is 14 bytes long" in result.stderr
    assert "TURN_SECRET" in result.stderr
    assert "short-secret-1" not in result.stderr and "changeme" not in result.stderr.replace("JWT_SECRET", "")

    env["SWITCHBOARD_ENV"] = "development"
    proc = subprocess.Popen([str(binary), "serve"], env={"PATH": "/usr/bin:/bin", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        from stack.processes import wait_for_port
        wait_for_port(18499, timeout=10)
        assert requests.get("http://127.0.0.1:18499/healthz").status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    for secret in (env["JWT_SECRET"], env["HOOK_SECRET"], env["XMPP_COMPONENT_SECRET"]):
        assert secret not in output


def test_logs_never_print_secrets(switchboard):
    log = switchboard.daemon.log.read_text()
    assert "listening" in log
    for name in ("JWT_SECRET", "XMPP_COMPONENT_SECRET", "PUSH_COMPONENT_SECRET", "HOOK_SECRET", "TURN_SECRET"):
        assert switchboard.env[name] not in log, name


def test_help_describes_the_commands(binary):
    top = run(binary, {}, "--help")
    assert top.returncode == 0 and "serve" in top.stdout and "migrate" in top.stdout
    assert run(binary, {}, "serve", "--help").returncode == 0
    migrate = run(binary, {}, "migrate", "--help")
    assert migrate.returncode == 0 and "--wait" in migrate.stdout


def test_port_in_use_is_a_clear_start_failure(binary, switchboard):
    env = {k: v for k, v in switchboard.env.items() if k != "PATH"}
    for taken, free in (("HTTP_PORT", "HOOKS_HTTP_PORT"), ("HOOKS_HTTP_PORT", "HTTP_PORT")):
        result = run(binary, {**env, free: "18496"}, "serve", timeout=20)
        assert result.returncode == 1, (taken, result.stderr[-500:])
        assert f"cannot listen on 127.0.0.1:{env[taken]}" in result.stderr, (taken, result.stderr[-500:])


def test_the_two_listeners_need_two_ports(binary, postgres):
    env = production_environment(postgres.url, secrets.token_hex(32))
    env.update({"HTTP_PORT": "18497", "HOOKS_HTTP_PORT": "18497"})
    result = run(binary, env, "serve")
    assert result.returncode == 78
    assert "HOOKS_HTTP_PORT: '18497' is HTTP_PORT's port too" in result.stderr


def test_the_release_binary_starts_with_a_real_shaped_apns_key_and_service_account(switchboard, fake_apns, fake_fcm):
    """What ships (a release build) loads the .p8 key and the pretty-printed Google service account
    with its 2048-bit PKCS#8 RSA key: the bug the debug-only suite missed (a BIO read freed memory)."""
    assert "release" in str(switchboard.binary)
    account = fake_fcm.service_account.read_text()
    assert account.startswith("{\n  \"type\": \"service_account\"") and "\\n" in account
    log = switchboard.daemon.log.read_text()
    assert "cannot start" not in log and "listening" in log
    assert requests.get(f"{switchboard.url}/readyz").status_code == 200


def test_broken_key_files_are_configuration_problems_with_exit_78(binary, postgres, tmp_path, fake_apns, fake_fcm):
    env = production_environment(postgres.url, secrets.token_hex(32), fake_apns=fake_apns, fake_fcm=fake_fcm)
    (tmp_path / "google-services.json").write_text('{"project_info": {"project_id": "x"}, "client": []}')
    (tmp_path / "rsa.p8").write_text((fake_fcm.dir / "sa-key.pem").read_text())
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    env.update({"FCM_SERVICE_ACCOUNT_FILE": str(tmp_path / "google-services.json"), "APNS_KEY_FILE": str(tmp_path / "rsa.p8"),
                "PUSH_CA_FILE": str(tmp_path / "ca.pem"), "HTTP_PORT": "18498"})
    result = run(binary, env, "serve")
    assert result.returncode == 78, result.stderr
    assert "configuration has 3 problems" in result.stderr
    assert f"APNS_KEY_FILE: '{tmp_path}/rsa.p8' holds an RSA key of 2048 bits, not the P-256 EC key" in result.stderr
    assert "FCM_SERVICE_ACCOUNT_FILE:" in result.stderr and "google-services.json is the app's configuration" in result.stderr
    assert "PUSH_CA_FILE:" in result.stderr and "holds no PEM certificate" in result.stderr
    env["APNS_KEY_FILE"] = str(tmp_path / "missing.p8")
    assert f"APNS_KEY_FILE: '{tmp_path}/missing.p8' is not a readable file" in run(binary, env, "serve").stderr


def test_check_config_reports_three_mistakes_at_once_and_names_the_misspelt_variable(binary, postgres, turn_secret):
    env = production_environment(postgres.url, turn_secret)
    env.update({"LOG_LEVEL": "verbose", "DATABASE_URL": "postgres://::bad", "HOOK_SECRET": "change-me-please-0123456789abcdef",
                "APNS_KEYFILE": "/etc/switchboard/AuthKey.p8"})
    result = run(binary, env, "check-config")
    print(result.stdout)
    assert result.returncode == 78, result.stdout + result.stderr
    assert "configuration has 3 problems" in result.stdout
    for name in ("LOG_LEVEL", "DATABASE_URL", "HOOK_SECRET"):
        assert f"  - {name}: " in result.stdout, name
    assert "warning: APNS_KEYFILE is not a variable Switchboard reads; did you mean APNS_KEY_FILE?" in result.stdout
    assert "change-me-please" not in result.stdout, "secrets are never printed"


def test_check_config_connect_tries_the_database_and_both_component_handshakes(binary, postgres, ejabberd, turn_secret):
    from conftest import ADMIN_COMPONENT, EJABBERD_PORTS, PUSH_COMPONENT
    env = production_environment(postgres.url, turn_secret, ejabberd.reader_url)
    plain = run(binary, env, "check-config")
    assert plain.returncode == 0 and "configuration ok" in plain.stdout, plain.stdout + plain.stderr
    connected = run(binary, env, "check-config", "--connect", timeout=30)
    print(connected.stdout)
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert connected.stdout.count("ok: ") == 4, connected.stdout
    assert f"accepts {ADMIN_COMPONENT[0]}'s handshake" in connected.stdout and f"accepts {PUSH_COMPONENT[0]}'s handshake" in connected.stdout

    stopped = {**env, "DATABASE_URL": "postgresql://switchboard@127.0.0.1:15999/switchboard", "PUSH_COMPONENT_SECRET": secrets.token_hex(32)}
    failed = run(binary, stopped, "check-config", "--connect", timeout=30)
    print(failed.stdout)
    assert failed.returncode == 78, failed.stdout + failed.stderr
    assert "DATABASE_URL (host=127.0.0.1 port=15999" in failed.stdout and "Connection refused" in failed.stdout, "libpq's own words"
    assert f"PUSH_COMPONENT_HOST/PORT/SECRET (push.example.com at 127.0.0.1:{EJABBERD_PORTS['push']}): stream error: not-authorized" in failed.stdout
    assert "EJABBERD_DATABASE_URL" not in failed.stdout.split("connection problem")[1], "the reader's database was fine"


def test_version_is_the_changelogs_and_in_metrics(binary, switchboard):
    import re
    from conftest import ROOT_DIR
    newest = re.search(r"^## (\d+\.\d+\.\d+)", (ROOT_DIR / "CHANGELOG.md").read_text(), re.M).group(1)
    assert run(binary, {}, "--version").stdout.strip().startswith(newest)
    metrics = requests.get(f"{switchboard.hooks_url}/metrics", timeout=5).text
    assert f'switchboard_build_info{{version="{newest}",' in metrics
    assert f'"version":"{newest}' in switchboard.daemon.log.read_text().replace(" ", "") or f"version={newest}" in switchboard.daemon.log.read_text()


def test_json_logs_are_one_object_per_line_with_request_ids_and_push_outcomes(switchboard):
    import json
    import re
    import time
    import uuid
    from test_push_app_server import new_account, register_device
    from conftest import restart_with, wait_ready
    assert switchboard.stop() == 0
    log = switchboard.dir / "switchboard.log"
    start = log.stat().st_size if log.exists() else 0
    switchboard.env["LOG_FORMAT"] = "json"
    switchboard.start()
    wait_ready(switchboard.url)
    try:
        login = requests.post(f"{switchboard.url}/api/v1/account/login", json={"username": "nobody-here", "password": "x" * 12},
                              headers={"X-Request-ID": "it-login-1"}, timeout=5)
        assert login.status_code == 401 and login.headers["X-Request-ID"] == "it-login-1"
        generated = requests.get(f"{switchboard.url}/api/v1/server/info", timeout=5).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{16}", generated), generated
        # A test push: its outcome line is written by the task the request started.
        user, device, token = new_account(switchboard.url), str(uuid.uuid4()), secrets.token_hex(32)
        assert register_device(switchboard.url, user, device, push_token=token).status_code == 200
        pushed = requests.post(f"{switchboard.hooks_url}/admin/v1/devices/{device}/test-push", timeout=15,
                               headers={"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}", "X-Request-ID": "it-push-1"})
        assert pushed.status_code == 200 and pushed.headers["X-Request-ID"] == "it-push-1", pushed.text
        time.sleep(0.2)
        lines = switchboard.daemon.log.read_bytes()[start:].decode().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        assert records and all({"time", "level", "label", "message"} <= set(r) for r in records), lines[:5]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in records), "UTC with milliseconds"
        listening = next(r for r in records if r["message"] == "listening")
        assert listening["level"] == "info" and listening["version"] and listening["http"].endswith(str(switchboard.port))

        [access] = [r for r in records if r.get("request_id") == "it-login-1"]
        assert access["message"] == "request" and access["level"] == "info"
        assert {k: access[k] for k in ["method", "route", "status", "client", "listener"]} == {
            "method": "POST", "route": "/api/v1/account/login", "status": "401", "client": "127.0.0.1", "listener": "public"}
        assert float(access["duration_ms"]) >= 0
        assert any(r.get("request_id") == generated and r["route"] == "/api/v1/server/info" for r in records)
        push_lines = {r["message"]: r for r in records if r.get("request_id") == "it-push-1"}
        assert set(push_lines) == {"push delivered", "request"}, push_lines
        delivered = push_lines["push delivered"]
        assert {k: delivered[k] for k in ["device", "platform", "app_id", "attempts", "outcome", "token"]} == {
            "device": device, "platform": "ios", "app_id": "com.example.chat", "attempts": "1", "outcome": "delivered",
            "token": token[:8] + "…"}
        assert delivered["message_id"] == pushed.json()["outcome"]["message_id"]
        assert token not in "\n".join(lines), "never the whole token"
    finally:
        restart_with(switchboard, LOG_FORMAT=None)
