"""A stop with work in flight (docs/xmpp.md, "A stop"): pushes already accepted are delivered within
SHUTDOWN_GRACE_SECONDS, publishes that arrive meanwhile are answered `wait` (so ejabberd keeps the
registration), and the process then exits 0. Real ejabberd, slixmpp clients, the release binary and
the strict fake APNs."""
import os
import signal
import time

from conftest import restart_with, wait_ready
from test_push_app_server import (accepted_count, arrivals, message, offline_device, push_sessions, token_kept,
                                  wait_for)

GRACE = 20


def test_a_stop_delivers_the_pushes_it_accepted_and_answers_new_publishes_wait(switchboard, postgres, fake_apns):
    restart_with(switchboard, SHUTDOWN_GRACE_SECONDS=str(GRACE))
    stopped = False
    try:
        sender, hana, token, binding = offline_device(switchboard)
        late_sender, late, late_token, late_binding = offline_device(switchboard)
        message(sender, hana, "warm-up: opens the connection to APNs")
        wait_for("the first push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)

        # APNs stops answering on that connection: the next push is accepted (IQ result), then its
        # first attempt waits out its 10 s timeout and the retry goes out on a new connection. The
        # stop begins in between, with the push in flight.
        fake_apns.silence_open_connections()
        accepted = accepted_count(switchboard)
        message(sender, hana, "accepted before the stop")
        wait_for("the publish to be accepted", lambda: accepted_count(switchboard) == accepted + 1)
        daemon = switchboard.daemon
        stop_sent = time.time()
        os.killpg(daemon.proc.pid, signal.SIGTERM)

        # A message while the stop is under way: its publish is answered `wait`, so ejabberd keeps
        # the registration (any other error, or an unreachable component, would delete it).
        message(late_sender, late, "during the stop")
        assert daemon.proc.poll() is None, "still draining the push in flight"

        # Wait for the exit without a second signal (a second one means "exit now").
        code = daemon.proc.wait(timeout=GRACE + 10)
        exited = time.time()
        daemon.stop()
        stopped = True
        assert code == 0, daemon.log_tail()
        pushes = arrivals(fake_apns.pushes, token)
        assert len(pushes) == 2, f"the accepted push arrived during the stop: {pushes}"
        assert stop_sent < pushes[1] <= exited, "delivered after SIGTERM, before the exit"
        assert exited - stop_sent < GRACE + 2, "within the grace period"
        assert token_kept(postgres, binding)
        assert push_sessions(postgres, late_binding["node"]) == 1, "answered wait: ejabberd kept the registration"
        assert arrivals(fake_apns.pushes, late_token) == [], "nothing new was queued during the stop"
        log = daemon.log.read_text()
        assert "draining" in log and "push delivery" in log and "stopped" in log
    finally:
        fake_apns.stop_silencing()
        if stopped:
            switchboard.daemon = None
        restart_with(switchboard, SHUTDOWN_GRACE_SECONDS=None)


def test_a_second_signal_exits_at_once(switchboard, fake_apns):
    """An operator who will not wait sends the signal again: exit 1 at once, pushes in flight or not."""
    sender, hana, token, _ = offline_device(switchboard)
    message(sender, hana, "warm-up")
    wait_for("the first push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)
    fake_apns.silence_open_connections()
    daemon = switchboard.daemon
    try:
        accepted = accepted_count(switchboard)
        message(sender, hana, "stuck")
        wait_for("the publish to be accepted", lambda: accepted_count(switchboard) == accepted + 1)
        os.killpg(daemon.proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        assert daemon.proc.poll() is None, "the first signal drains"
        started = time.monotonic()
        os.killpg(daemon.proc.pid, signal.SIGTERM)
        code = daemon.proc.wait(timeout=5)
        assert code == 1 and time.monotonic() - started < 2
        assert "second stop signal" in daemon.log.read_text()
    finally:
        fake_apns.stop_silencing()
        daemon.stop()
        switchboard.daemon = None
        switchboard.start()
        wait_ready(switchboard.url)


def test_an_idle_stop_is_prompt(switchboard):
    """Nothing in flight: the drains return at once, whatever the grace period."""
    daemon = switchboard.daemon
    started = time.monotonic()
    code = daemon.stop()
    took = time.monotonic() - started
    switchboard.daemon = None
    try:
        assert code == 0
        assert took < 3, f"an idle stop took {took:.1f} s"
    finally:
        switchboard.start()
        wait_ready(switchboard.url)
