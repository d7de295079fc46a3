"""coturn with TURN REST credentials (`use-auth-secret`), on 127.0.0.1."""
from .processes import Daemon, state_dir, wait_for_port


class Coturn:
    def __init__(self, profile: str, port: int, secret: str, realm: str):
        self.port, self.secret, self.realm = port, secret, realm
        self.dir = state_dir(profile, "coturn")
        self.daemon: Daemon | None = None

    def start(self, allow_loopback_peers: bool = False) -> "Coturn":
        argv = ["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}", f"--realm={self.realm}", "--use-auth-secret",
                f"--static-auth-secret={self.secret}", "--fingerprint", "--no-tls", "--no-dtls", "--no-cli",
                "--min-port=31000", "--max-port=31100", f"--pidfile={self.dir}/turnserver.pid",
                "--log-file=stdout", "--simple-log"]
        if allow_loopback_peers:  # only for tests, whose echo peer is on 127.0.0.1
            argv.append("--allow-loopback-peers")
        self.daemon = Daemon("coturn", argv, self.dir / "turnserver.log")
        wait_for_port(self.port, process=self.daemon)
        return self

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()
            self.daemon = None
