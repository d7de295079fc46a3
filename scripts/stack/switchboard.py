"""The Switchboard executable with an environment built for the local stack."""
import os
import subprocess
from pathlib import Path

from .processes import ROOT, Daemon, state_dir, wait_for_port


def build(configuration: str = "debug") -> Path:
    subprocess.run(["swift", "build", "-c", configuration, "--product", "switchboard"], cwd=ROOT, check=True)
    out = subprocess.run(["swift", "build", "-c", configuration, "--show-bin-path"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout.strip()
    return Path(out) / "switchboard"


class Switchboard:
    """One instance. Its internal listener (hooks, /metrics) is on HOOKS_HTTP_PORT, by default
    HTTP_PORT + 1000 here, so that instances started side by side never share one."""

    def __init__(self, binary: Path, profile: str, env: dict[str, str]):
        self.binary = binary
        self.env = {**os.environ, **env}
        self.port = int(env["HTTP_PORT"])
        self.env.setdefault("HOOKS_HTTP_PORT", str(self.port + 1000))
        self.hooks_port = int(self.env["HOOKS_HTTP_PORT"])
        self.dir = state_dir(profile, "switchboard")
        self.daemon: Daemon | None = None

    @property
    def url(self) -> str:
        """The public listener: the phone API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def hooks_url(self) -> str:
        """The internal listener: Kamailio's hooks and /metrics."""
        return f"http://127.0.0.1:{self.hooks_port}"

    def start(self) -> "Switchboard":
        self.daemon = Daemon("switchboard", [str(self.binary), "serve"], self.dir / "switchboard.log", env=self.env)
        wait_for_port(self.port, process=self.daemon)
        try:
            wait_for_port(self.hooks_port, timeout=5, process=self.daemon)
        except TimeoutError:
            if self.daemon.log.read_text(errors="replace").find("hooks=") >= 0:
                raise
            # A binary from before the internal listener (benchmarks compare against old commits):
            # it serves the hooks and /metrics on its one port.
            self.hooks_port = self.port
        return self

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.binary), *args], env=self.env, capture_output=True, text=True, timeout=60)

    def stop(self) -> int | None:
        rc = self.daemon.stop() if self.daemon else None
        self.daemon = None
        return rc
