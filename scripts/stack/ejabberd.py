"""ejabberd 23.01 from Debian's packages, run as the current user without systemd, on loopback.

The configuration is deploy/ejabberd/ejabberd.yml with only its `define_macro` values (addresses,
ports, secrets, paths) replaced. The SQL schema pg.new.sql is loaded once into the stack's database.
"""
import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

from .processes import ROOT, Daemon, port_open, state_dir, wait_for_port

CONFIG = ROOT / "deploy" / "ejabberd" / "ejabberd.yml"
SCHEMA = Path("/usr/share/ejabberd/sql/pg.new.sql")


def render_config(macros: dict[str, str | int]) -> str:
    """deploy/ejabberd/ejabberd.yml with the given define_macro values replaced (and nothing else)."""
    text = CONFIG.read_text()
    head, rest = text.split("define_macro:\n", 1)
    block, tail = re.match(r"((?:  .*\n|\s*\n)*)(.*)", rest, re.S).groups()
    for key, value in macros.items():
        rendered = f'"{value}"' if isinstance(value, str) else str(value)
        block, count = re.subn(rf"^  {key}: .*$", f"  {key}: {rendered}", block, flags=re.M)
        if count != 1:
            raise KeyError(f"macro {key} is not defined in {CONFIG}")
    return head + "define_macro:\n" + block + tail


class Ejabberd:
    def __init__(self, profile: str, postgres, domain: str, ports: dict[str, int], components: dict[str, tuple[str, str]],
                 turn: tuple[str, int, str] | None = None):
        """`ports`: c2s, c2s_tls, http, https, admin, push; `components`: admin/push -> (domain, secret);
        `turn`: coturn's (host, port, secret) for XEP-0215, or None for none reachable."""
        self.profile, self.postgres, self.domain, self.ports, self.components = profile, postgres, domain, ports, components
        self.turn = turn or ("127.0.0.1", 3478, secrets.token_hex(32))
        for port in ports.values():
            if port_open(port):
                raise RuntimeError(f"port {port} is in use: is another {profile} stack still running?")
        self.dir = state_dir(profile, "ejabberd")
        for sub in ("etc", "spool", "log", "upload"):
            (self.dir / sub).mkdir()
        self.daemon: Daemon | None = None
        self._write_files()

    def _write_files(self) -> None:
        etc = self.dir / "etc"
        key, cert = etc / "key.pem", etc / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", f"/CN={self.domain}",
                        "-addext", f"subjectAltName=DNS:{self.domain},DNS:*.{self.domain}", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
        (etc / "server.pem").write_bytes(cert.read_bytes() + key.read_bytes())
        admin_domain, admin_secret = self.components["admin"]
        push_domain, push_secret = self.components["push"]
        (etc / "ejabberd.yml").write_text(render_config({
            "XMPP_DOMAIN": self.domain, "CERTFILE": str(etc / "server.pem"),
            "LISTEN_IP": "127.0.0.1", "INTERNAL_IP": "127.0.0.1",
            "C2S_PORT": self.ports["c2s"], "C2S_TLS_PORT": self.ports["c2s_tls"],
            "HTTP_PORT": self.ports["http"], "HTTPS_PORT": self.ports["https"],
            "TURN_HOST": self.turn[0], "TURN_PORT": self.turn[1], "TURN_SECRET": self.turn[2],
            "ADMIN_COMPONENT_PORT": self.ports["admin"], "PUSH_COMPONENT_PORT": self.ports["push"],
            "ADMIN_COMPONENT_DOMAIN": admin_domain, "ADMIN_COMPONENT_SECRET": admin_secret,
            "PUSH_COMPONENT_DOMAIN": push_domain, "PUSH_COMPONENT_SECRET": push_secret,
            "MUC_DOMAIN": f"conference.{self.domain}", "UPLOAD_DOMAIN": f"upload.{self.domain}",
            "UPLOAD_URL": f"https://127.0.0.1:{self.ports['https']}/upload", "UPLOAD_DIR": str(self.dir / "upload"),
            "SQL_SERVER": "127.0.0.1", "SQL_PORT": self.postgres.port, "SQL_DATABASE": self.postgres.database,
            "SQL_USERNAME": self.postgres.user, "SQL_PASSWORD": "unused-trust-auth",
        }))
        (etc / "inetrc").write_text(Path("/etc/ejabberd/inetrc").read_text())
        # Run as the current user (ejabberdctl would su to "ejabberd"), with epmd and distribution on loopback.
        (etc / "ejabberdctl.cfg").write_text(
            f'ERLANG_NODE=switchboard-{self.profile}@localhost\n'
            f'EJABBERD_PID_PATH={self.dir}/spool/ejabberd.pid\n'
            'ERL_EPMD_ADDRESS=127.0.0.1\nINET_DIST_INTERFACE=127.0.0.1\n'
            'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\nEXEC_CMD=as_current_user\n')

    READER = "switchboard_reader"

    def load_schema(self) -> "Ejabberd":
        """pg.new.sql, then the role Switchboard reads SCRAM rows with: only those columns of `users`."""
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.postgres.port), "-U", self.postgres.user,
                        "-d", self.postgres.database, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(SCHEMA)],
                       check=True, capture_output=True)
        self.postgres.psql(f"CREATE ROLE {self.READER} LOGIN")
        self.postgres.psql(f"GRANT SELECT (username, server_host, password, serverkey, salt, iterationcount) "
                           f"ON users TO {self.READER}")
        return self

    @property
    def reader_url(self) -> str:
        """EJABBERD_DATABASE_URL for Switchboard."""
        return f"postgresql://{self.READER}@127.0.0.1:{self.postgres.port}/{self.postgres.database}"

    def ctl(self, *args: str) -> list[str]:
        etc = self.dir / "etc"
        return ["/usr/sbin/ejabberdctl", "--config-dir", str(etc), "--config", str(etc / "ejabberd.yml"),
                "--ctl-config", str(etc / "ejabberdctl.cfg"), "--spool", str(self.dir / "spool"),
                "--logs", str(self.dir / "log"), *args]

    def start(self) -> "Ejabberd":
        env = {**os.environ, "HOME": str(self.dir)}  # the Erlang cookie goes here
        # Erlang starts epmd (its name server) on first use and leaves it running: stop() stops it
        # again if this start was that first use.
        self.started_epmd = subprocess.run(["epmd", "-names"], capture_output=True).returncode != 0
        self.daemon = Daemon("ejabberd", self.ctl("foreground"), self.dir / "foreground.log", env=env)
        for name in ("c2s", "admin", "push"):
            wait_for_port(self.ports[name], timeout=60, process=self.daemon)
        return self

    def register(self, user: str, password: str) -> None:
        """Creates an account with ejabberd's own CLI (tests and development only)."""
        env = {**os.environ, "HOME": str(self.dir)}
        subprocess.run(self.ctl("register", user, self.domain, password), check=True, capture_output=True, env=env, timeout=60)

    def kill(self) -> None:
        """SIGKILL to the whole process group: a crash, not a shutdown."""
        if self.daemon:
            self.daemon.stop(signal.SIGKILL)
            self.daemon = None

    def freeze(self) -> None:
        """SIGSTOP to the whole process group: ejabberd hangs with its sockets open (a stall, not a crash)."""
        os.killpg(self.daemon.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.daemon.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop(signal.SIGTERM, timeout=15)
            self.daemon = None
        if getattr(self, "started_epmd", False):
            # epmd refuses while a node is registered: ejabberd's node may take a moment to go
            # after its control script exited. Another node of the machine keeps it running.
            deadline = time.monotonic() + 5
            while b"Killed" not in subprocess.run(["epmd", "-kill"], capture_output=True).stdout and time.monotonic() < deadline:
                time.sleep(0.2)
            self.started_epmd = False
