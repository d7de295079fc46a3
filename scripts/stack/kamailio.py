"""Kamailio 5.6 from Debian's packages, without systemd, on loopback.

The configuration is deploy/kamailio/kamailio.cfg with only its `#!substdef` values (addresses, ports,
paths, the ring window) replaced; the gateway URL, hook secret and SIP domain come from the
environment as in production. TLS and WebSocket listeners run too, with a throwaway certificate.
"""
import subprocess

from .configs import render
from .processes import ROOT, Daemon, port_open, state_dir, wait_for_port

CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
TLS_CONFIG = ROOT / "deploy" / "kamailio" / "tls.cfg"


class Kamailio:
    def __init__(self, profile: str, ports: dict[str, int], rtpengine_port: int, switchboard_url: str,
                 hook_secret: str, realm: str, ring_seconds: int, flood_requests: int | None = None):
        """`ports`: udp (TCP on the same port), tls, wss. `flood_requests`: the per-address limit on
        REGISTER and new INVITEs per 2 s (None: the deploy file's), raised by benchmarks that call
        from one address."""
        self.ports = ports
        for port in ports.values():
            if port_open(port):
                raise RuntimeError(f"port {port} is in use: is another {profile} stack still running?")
        self.dir = state_dir(profile, "kamailio")
        key, cert = self.dir / "key.pem", self.dir / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", f"/CN={realm}",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        (self.dir / "tls.cfg").write_text(render(TLS_CONFIG, {"certificate": cert, "private_key": key}, "{key} = {value}"))
        self.config = self.dir / "kamailio.cfg"
        self.config.write_text(render(CONFIG, {
            "SIP_IP": "127.0.0.1", "ADVERTISED_HOST": "127.0.0.1",
            "SIP_PORT": ports["udp"], "TLS_PORT": ports["tls"], "WSS_PORT": ports["wss"], "WSS_PUBLIC_PORT": ports["wss"],
            "RTPENGINE_SOCK": f"udp:127.0.0.1:{rtpengine_port}", "TLS_CONFIG": str(self.dir / "tls.cfg"),
            "CTL_SOCKET": f"unix:{self.dir}/kamailio_ctl", "RING_MS": ring_seconds * 1000,
            **({"FLOOD_REQUESTS": flood_requests} if flood_requests is not None else {}),
        }, '#!substdef "!{key}!{value}!g"'))
        self.env = {"SWITCHBOARD_URL": switchboard_url, "HOOK_SECRET": hook_secret, "SIP_DOMAIN": realm, "PATH": "/usr/sbin:/usr/bin:/bin"}
        self.daemon: Daemon | None = None

    def check(self) -> subprocess.CompletedProcess:
        """`kamailio -c`: the configuration parses and every module loads."""
        return subprocess.run(["kamailio", "-c", "-f", str(self.config)], env=self.env, capture_output=True, text=True, timeout=30)

    def start(self) -> "Kamailio":
        # -DD: the main process stays in the foreground (our child) and forks the SIP workers.
        self.daemon = Daemon("kamailio", ["kamailio", "-DD", "-E", "-f", str(self.config), "-m", "64", "-M", "8",
                                          "-P", str(self.dir / "kamailio.pid"), "-Y", str(self.dir)],
                             self.dir / "kamailio.log", env=self.env)
        wait_for_port(self.ports["udp"], process=self.daemon)  # the TCP listener on the SIP port
        return self

    def rpc(self, *command: str) -> str:
        return subprocess.run(["kamcmd", "-s", f"unix:{self.dir}/kamailio_ctl", *command], capture_output=True, text=True, timeout=10).stdout

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()
            self.daemon = None
