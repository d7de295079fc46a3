"""coturn with TURN REST credentials (`use-auth-secret`), on 127.0.0.1.

The configuration is deploy/coturn/turnserver.conf with only its addresses, ports, realm and secret
replaced (the host's own address, external-ip, is denied as a relay peer under its new value too);
TLS is off (no certificate here) and, for tests, loopback peers other than that address are allowed.
"""
import re

from .configs import render
from .processes import ROOT, Daemon, state_dir, wait_for_port

CONFIG = ROOT / "deploy" / "coturn" / "turnserver.conf"


class Coturn:
    def __init__(self, profile: str, port: int, secret: str, realm: str):
        self.port, self.secret, self.realm = port, secret, realm
        self.dir = state_dir(profile, "coturn")
        self.daemon: Daemon | None = None

    EXTERNAL_IP = "127.0.0.1"

    def start(self, allow_loopback_peers: bool = False) -> "Coturn":
        config = self.dir / "turnserver.conf"
        text = render(CONFIG, {
            "listening-ip": "127.0.0.1", "external-ip": self.EXTERNAL_IP, "listening-port": self.port,
            "tls-listening-port": self.port + 1, "min-port": 31000, "max-port": 31100,
            "realm": self.realm, "static-auth-secret": self.secret,
        }, "{key}={value}")
        deployed = re.search(r"^external-ip=(.*)$", CONFIG.read_text(), re.M).group(1)
        own, count = re.subn(rf"^denied-peer-ip={re.escape(deployed)}$", f"denied-peer-ip={self.EXTERNAL_IP}", text, flags=re.M)
        if count != 1:
            raise KeyError(f"{CONFIG} must deny its own external-ip ({deployed}) as a relay peer exactly once")
        config.write_text(own)
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
