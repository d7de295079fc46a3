"""rtpengine (userspace forwarding only, no kernel module), without systemd, on loopback, with a
small client of its ng control protocol (bencode over UDP).

The configuration is deploy/rtpengine/rtpengine.conf with only addresses, ports and the delete delay
replaced: production keeps a deleted call 30 s for stray packets; here it goes at once, so that
tests can see nothing is left behind.
"""
import secrets
import socket

from .configs import render
from .processes import ROOT, Daemon, state_dir, wait_for_port

CONFIG = ROOT / "deploy" / "rtpengine" / "rtpengine.conf"


def bencode(value) -> bytes:
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, int):
        return b"i%de" % value
    data = value.encode() if isinstance(value, str) else value
    return b"%d:%s" % (len(data), data)


def bdecode(data: bytes, at: int = 0):
    """(value, next offset); byte strings are decoded as UTF-8 text."""
    kind = data[at:at + 1]
    if kind == b"d":
        result, at = {}, at + 1
        while data[at:at + 1] != b"e":
            key, at = bdecode(data, at)
            result[key], at = bdecode(data, at)
        return result, at + 1
    if kind == b"l":
        result, at = [], at + 1
        while data[at:at + 1] != b"e":
            item, at = bdecode(data, at)
            result.append(item)
        return result, at + 1
    if kind == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1:end]), end + 1
    colon = data.index(b":", at)
    length = int(data[at:colon])
    return data[colon + 1:colon + 1 + length].decode(errors="replace"), colon + 1 + length


class Rtpengine:
    def __init__(self, profile: str, ng_port: int, cli_port: int, media_ports: tuple[int, int]):
        self.ng_port, self.cli_port, self.media_ports = ng_port, cli_port, media_ports
        self.dir = state_dir(profile, "rtpengine")
        self.daemon: Daemon | None = None

    def start(self) -> "Rtpengine":
        low, high = self.media_ports
        config = self.dir / "rtpengine.conf"
        config.write_text(render(CONFIG, {
            "interface": "127.0.0.1", "listen-ng": f"127.0.0.1:{self.ng_port}", "listen-cli": f"127.0.0.1:{self.cli_port}",
            "port-min": low, "port-max": high, "num-threads": 2, "delete-delay": 0,
        }, "{key} = {value}"))
        self.daemon = Daemon("rtpengine", ["rtpengine", f"--config-file={config}", f"--pidfile={self.dir}/rtpengine.pid"],
                             self.dir / "rtpengine.log")
        wait_for_port(self.cli_port, process=self.daemon)
        return self

    def command(self, name: str, **arguments) -> dict:
        cookie = secrets.token_hex(4).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(cookie + b" " + bencode({"command": name, **arguments}), ("127.0.0.1", self.ng_port))
            reply = s.recv(65536)
        head, _, body = reply.partition(b" ")
        assert head == cookie, "the reply carries our cookie"
        return bdecode(body)[0]

    def calls(self) -> list[str]:
        """Call-IDs of the sessions rtpengine holds now."""
        return self.command("list", limit=1000).get("calls", [])

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()
            self.daemon = None
