"""coturn with TURN REST credentials (`use-auth-secret`), on 127.0.0.1.

The configuration is deploy/coturn/turnserver.conf with only its addresses, ports, realm and secret
replaced; TLS is off (no certificate here) and, for tests, loopback peers are allowed.
"""
from .configs import render
from .processes import ROOT, Daemon, state_dir, wait_for_port

CONFIG = ROOT / "deploy" / "coturn" / "turnserver.conf"


class Coturn:
    def __init__(self, profile: str, port: int, secret: str, realm: str):
        self.port, self.secret, self.realm = port, secret, realm
        self.dir = state_dir(profile, "coturn")
        self.daemon: Daemon | None = None

    def start(self, allow_loopback_peers: bool = False) -> "Coturn":
        config = self.dir / "turnserver.conf"
        config.write_text(render(CONFIG, {
            "listening-ip": "127.0.0.1", "external-ip": "127.0.0.1", "listening-port": self.port,
            "tls-listening-port": self.port + 1, "min-port": 31000, "max-port": 31100,
            "realm": self.realm, "static-auth-secret": self.secret,
        }, "{key}={value}"))
        argv = ["turnserver", "-c", str(config), "--relay-ip=127.0.0.1", "--no-tls", "--no-dtls",
                f"--pidfile={self.dir}/turnserver.pid"]
        if allow_loopback_peers:  # only for tests, whose echo peer is on 127.0.0.1
            argv.append("--allow-loopback-peers")
        self.daemon = Daemon("coturn", argv, self.dir / "turnserver.log")
        wait_for_port(self.port, process=self.daemon)
        return self

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()
            self.daemon = None
