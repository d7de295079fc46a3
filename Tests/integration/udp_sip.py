"""A raw SIP-over-UDP client for requests SIPp cannot shape: replayed digests, forged in-dialog
requests, floods from one source address."""
import os
import socket

from conftest import DOMAIN, KAMAILIO_PORTS
from sip_messages import status


class UDPSIP:
    def __init__(self, local_ip: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local_ip, 0))
        self.local = f"{local_ip}:{self.sock.getsockname()[1]}"
        self.server = ("127.0.0.1", KAMAILIO_PORTS["udp"])

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode(), self.server)

    def receive(self, timeout: float = 2.0) -> str | None:
        """The next final response (provisional ones skipped), or None when nothing came in time."""
        self.sock.settimeout(timeout)
        while True:
            try:
                message = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                return None
            if message.startswith("SIP/2.0 ") and status(message) >= 200:
                return message

    def request(self, method: str, uri: str, *, to: str, from_user: str, call_id: str, cseq: int,
                extra: str = "", from_tag: str = "t1") -> str:
        return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {self.local};rport;branch=z9hG4bK{os.urandom(6).hex()}\r\n"
                f"Max-Forwards: 70\r\nTo: {to}\r\nFrom: <sip:{from_user}@{DOMAIN}>;tag={from_tag}\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{from_user}@{self.local}>\r\n"
                f"{extra}Content-Length: 0\r\n\r\n")

    def register(self, user: str, call_id: str, cseq: int, authorization: str = "") -> str:
        """A REGISTER of `user`'s AOR from this socket (expires 60 s)."""
        return self.request("REGISTER", f"sip:{DOMAIN}", to=f"<sip:{user}@{DOMAIN}>", from_user=user, call_id=call_id,
                            cseq=cseq, extra=f"Expires: 60\r\n{authorization}")

    def close(self) -> None:
        self.sock.close()
