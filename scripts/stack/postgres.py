"""PostgreSQL 15 from Debian's packages in a data directory of its own, on 127.0.0.1."""
import glob
import subprocess
from pathlib import Path

from .processes import Daemon, as_user, port_open, state_dir, wait_for_port


def pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise FileNotFoundError(f"{tool}: install Debian's postgresql package (scripts/install-deps)")
    return found[-1]


class Postgres:
    """One cluster: `database` owned by `user`, trust authentication on loopback only."""

    def __init__(self, profile: str, port: int, user: str = "ejabberd", database: str = "ejabberd"):
        self.port, self.user, self.database = port, user, database
        if port_open(port):
            raise RuntimeError(f"port {port} is in use: is another {profile} stack still running?")
        self.dir = state_dir(profile, "postgres", owner="postgres")
        self.data = self.dir / "data"
        self.daemon: Daemon | None = None
        subprocess.run(as_user("postgres", [pg_bin("initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                            "--no-sync", "-D", str(self.data)]),
                       check=True, stdout=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> "Postgres":
        self.daemon = Daemon("postgres", [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
                                          "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
                                          "-c", "fsync=off", "-c", "synchronous_commit=off"],
                             self.dir / "postgres.log", user="postgres")
        wait_for_port(self.port, process=self.daemon)
        return self

    def create_database(self) -> "Postgres":
        self.psql(f"CREATE ROLE {self.user} LOGIN", database="postgres")
        self.psql(f"CREATE DATABASE {self.database} OWNER {self.user}", database="postgres")
        return self

    def psql(self, sql: str, database: str | None = None) -> str:
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                              "-d", database or self.database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()  # SIGTERM: "smart" shutdown would wait for clients; see fast_stop
            self.daemon = None

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends put themselves in sessions of their
        own, so the process group alone does not reach them)."""
        def children(pid: int) -> list[int]:
            out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
            return [int(p) for p in out]
        found, todo = [], [self.daemon.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children(pid)
        return found

    def freeze(self) -> None:
        """SIGSTOP to the whole cluster: PostgreSQL hangs with its sockets open (a stall, not a crash)."""
        import os
        import signal
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        import os
        import signal
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def fast_stop(self) -> None:
        """SIGINT: PostgreSQL's fast shutdown, which disconnects clients at once (like a restart)."""
        import signal
        if self.daemon:
            self.daemon.stop(signal.SIGINT)
            self.daemon = None
