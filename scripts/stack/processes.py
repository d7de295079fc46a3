"""Child processes with their logs in files, readiness by TCP port, and clean stops."""
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("SWITCHBOARD_STATE_DIR", "/var/tmp/switchboard"))


def state_dir(profile: str, name: str, owner: str | None = None) -> Path:
    """A fresh directory for one daemon's files; owned by `owner` when we are root. The development
    stack keeps the previous run's directory beside it as `<name>.previous` (its logs are what a
    developer reads after a crash); the tests' profiles start clean."""
    path = STATE / profile / name
    if profile == "dev" and path.exists():
        previous = path.with_name(name + ".previous")
        shutil.rmtree(previous, ignore_errors=True)
        path.rename(previous)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    if owner and os.geteuid() == 0:
        shutil.chown(STATE, owner)
        shutil.chown(STATE / profile, owner)
        shutil.chown(path, owner, owner)
    return path


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def port_holders() -> dict[tuple[int, bool], str]:
    """Who listens on which port now, from one `ss` call: {(port, udp?): "name (pid N)"}; the
    holder is `something` when the process is one we may not see."""
    import re
    listing = subprocess.run(["ss", "-H", "-ltunp"], capture_output=True, text=True).stdout
    holders = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 5 or ":" not in fields[4]:
            continue
        found = re.search(r'users:\(\("([^"]+)",pid=(\d+)', line)
        holder = f"{found.group(1)} (pid {found.group(2)})" if found else "something (run ss -ltunp as root to see what)"
        holders.setdefault((int(fields[4].rsplit(":", 1)[1]), fields[0] == "udp"), holder)
    return holders


def ephemeral_port_range() -> range:
    """The kernel's range for the local ports of outgoing connections."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def wait_for_port(port: int, timeout: float = 20, process: "Daemon | None" = None) -> None:
    """Waits until something accepts TCP on 127.0.0.1:port.

    Fixed ports must lie below the ephemeral range: a client socket that the kernel happened to give
    that local port makes the daemon's bind fail, and coturn then retries forever without listening
    (this failed a CI run)."""
    if port in ephemeral_port_range():
        raise ValueError(f"port {port} is inside the ephemeral range {ephemeral_port_range()}; pick one below it")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if process is not None and process.proc.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.proc.returncode}; log:\n{process.log_tail()}")
        time.sleep(0.02)
    log = f"; {process.name} log:\n{process.log_tail()}" if process is not None else ""
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s{log}")


def as_user(user: str | None, argv: list[str]) -> list[str]:
    """Runs argv as `user` when we are root (PostgreSQL refuses to run as root)."""
    if user and os.geteuid() == 0:
        return ["runuser", "-u", user, "--"] + argv
    return argv


class Daemon:
    """A long-running child process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None, user: str | None = None):
        self.name = name
        self.log = log
        self._log_file = open(log, "ab")
        self.proc = subprocess.Popen(as_user(user, argv), stdout=self._log_file, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode


class Pinning:
    """`--pin` of the benchmarks: Switchboard alone on CPU 1, this process and everything else it
    starts (load generators, PostgreSQL, sinks) on CPU 0. Children inherit the CPU set of this
    process at the moment they start, so Switchboard is started inside `switchboard()`."""
    LABEL = "; Switchboard alone on CPU 1, everything else on CPU 0"

    def __init__(self, enabled: bool):
        self.enabled = enabled
        if enabled:
            os.sched_setaffinity(0, {0})

    @property
    def label(self) -> str:
        return self.LABEL if self.enabled else ""

    @contextmanager
    def switchboard(self):
        if self.enabled:
            os.sched_setaffinity(0, {1})
        try:
            yield
        finally:
            if self.enabled:
                os.sched_setaffinity(0, {0})
