"""scripts/dev's stack (`python -m stack dev`) as a newcomer meets it: started as a background job
(SIGINT ignored, as a shell starts one), it prints the secrets and the app id, the push walk-through
runs end to end against it, a second start names who holds its ports in one line, the previous
run's logs are kept, and SIGINT stops every daemon it started (the epmd too, when it started it);
with --watch, a new source file rebuilds and restarts Switchboard while the other daemons stay."""
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT_DIR
from stack.dev import busy_ports
from stack.processes import STATE, port_holders

PYTHON = str(ROOT_DIR / ".state" / "venv" / "bin" / "python")


def epmd_running() -> bool:
    return subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0


def stack(*args, **kwargs):
    return subprocess.Popen([PYTHON, "-m", "stack", *args], cwd=ROOT_DIR / "scripts", stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def test_the_development_stack_runs_the_walkthrough_and_stops_on_sigint_in_the_background():
    if busy_ports():
        pytest.skip("a development stack (or something on its ports) is running on this machine")
    epmd_before = epmd_running()  # the suite's own ejabberd usually started one already
    marker = STATE / "dev" / "switchboard" / "from-the-previous-run.log"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("kept\n")
    # As `scripts/dev &` from a non-interactive shell: SIGINT arrives ignored.
    dev = stack("dev", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    banner = []
    try:
        deadline = time.monotonic() + 240
        for line in dev.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C") or time.monotonic() > deadline:
                break
        text = "".join(banner)
        assert "Switchboard is up" in text, text[-3000:]
        assert "HOOK_SECRET=" in text and "X-Hook-Secret: " in text and "/hooks/sip/ha1?user=alice" in text
        assert '"app_id": "com.example.chat"' in text and "ws://127.0.0.1:5280/ws" in text and "wss://127.0.0.1:8089/ws" in text
        assert (STATE / "dev" / "switchboard.previous" / "from-the-previous-run.log").read_text() == "kept\n"

        walk = subprocess.run([PYTHON, "-m", "stack", "push-walkthrough"], cwd=ROOT_DIR / "scripts", capture_output=True,
                              text=True, timeout=60)
        assert walk.returncode == 0, walk.stdout + walk.stderr
        assert "The fake APNs receives the push" in walk.stdout and '"apns-push-type": "alert"' in walk.stdout

        second = subprocess.run([PYTHON, "-m", "stack", "dev"], cwd=ROOT_DIR / "scripts", capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        [line] = second.stderr.strip().splitlines()
        assert "port 8443/tcp is in use by switchboard (pid " in line and "port 5222/tcp is in use by beam.smp" in line, line

        dev.send_signal(signal.SIGINT)
        assert dev.wait(60) == 0
        assert busy_ports() == [], "every daemon stopped"
        assert not (STATE / "dev" / "stack.json").exists()
        assert epmd_running() == epmd_before, "the epmd its ejabberd started is stopped, another one is left alone"
    finally:
        if dev.poll() is None:
            os.kill(dev.pid, signal.SIGTERM)
            dev.wait(60)


def test_watch_rebuilds_and_restarts_switchboard_alone_when_a_source_changes():
    import threading
    import requests
    if busy_ports():
        pytest.skip("a development stack (or something on its ports) is running on this machine")
    dev = stack("dev", "--watch")
    watchdog = threading.Timer(400, dev.kill)  # a line that never comes must not hang the suite
    watchdog.start()
    # A new source file of the executable, as a developer adds one: a real rebuild, not a no-op.
    source = ROOT_DIR / "Sources" / "switchboard" / "WatchTestProbe.swift"
    try:
        lines = iter(dev.stdout)
        assert any(line.startswith("Ctrl-C") for line in lines), "the stack came up"
        before = port_holders()
        source.write_text("/// Written by test_dev_stack.py while it runs; deleted after.\nenum WatchTestProbe {}\n")
        restarted = next((line for line in lines if line.startswith("watch: Switchboard restarted")), None)
        assert restarted, "rebuilt and restarted"
        after = port_holders()
        assert after[(8443, False)] != before[(8443, False)], "a new Switchboard process"
        assert [after[(port, False)] for port in (5222, 15432)] == [before[(port, False)] for port in (5222, 15432)], "the others stayed up"
        assert requests.get("http://127.0.0.1:8443/readyz", timeout=5).status_code in (200, 503)
        dev.send_signal(signal.SIGINT)
        assert dev.wait(60) == 0
    finally:
        watchdog.cancel()
        source.unlink(missing_ok=True)
        if dev.poll() is None:
            os.kill(dev.pid, signal.SIGTERM)
            dev.wait(60)
