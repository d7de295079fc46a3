"""A minimal SIP-over-WebSocket client (RFC 7118) over TLS, as a WebRTC app would register: enough to
send a REGISTER and answer a digest challenge (RFC 2617 with qop=auth)."""
import base64
import hashlib
import os
import re
import socket
import ssl
import struct

from sip_messages import digest, header, headers


class WebSocketSIP:
    def __init__(self, port: int, host: str = "127.0.0.1"):
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the stack's throwaway certificate
        self.sock = context.wrap_socket(socket.create_connection((host, port), timeout=5))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        self.handshake = head.decode(errors="replace")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert head.startswith(b"HTTP/1.1 101") and accept in self.handshake, self.handshake
        self.local_port = self.sock.getsockname()[1]

    def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        length = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack("!H", length))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def receive(self) -> str:
        first, second = self._exactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exactly(8))[0]
        return self._exactly(length).decode(errors="replace")

    def receive_response(self, skip_provisional: bool = True) -> str:
        while True:
            message = self.receive()
            status = int(message.split(" ", 2)[1])
            if not (skip_provisional and status < 200):
                return message

    def register(self, user: str, domain: str, password: str) -> list[str]:
        """REGISTER, answer the challenge; the status lines received."""
        call_id, tag = os.urandom(8).hex(), os.urandom(4).hex()
        contact = f"<sip:{user}@{os.urandom(4).hex()}.invalid;transport=ws>"

        def request(cseq: int, authorization: str = "") -> str:
            return (f"REGISTER sip:{domain} SIP/2.0\r\nVia: SIP/2.0/WSS {os.urandom(4).hex()}.invalid;branch=z9hG4bK{os.urandom(6).hex()}\r\n"
                    f"Max-Forwards: 70\r\nTo: <sip:{user}@{domain}>\r\nFrom: <sip:{user}@{domain}>;tag={tag}\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact};expires=600\r\n{authorization}"
                    f"Content-Length: 0\r\n\r\n")

        self.send(request(1))
        challenge = self.receive()
        statuses = [challenge.split("\r\n", 1)[0]]
        self.send(request(2, digest("REGISTER", f"sip:{domain}", user, password, challenge, "WWW-Authenticate")))
        statuses.append(self.receive().split("\r\n", 1)[0])
        return statuses

    def call(self, user: str, password: str, callee: str, domain: str, offer: str) -> dict:
        """INVITE (answering the 407), then ACK and BYE along the route set of the 200. Returns the
        status codes received and the answer's SDP."""
        call_id, tag, host = os.urandom(8).hex(), os.urandom(4).hex(), f"{os.urandom(4).hex()}.invalid"
        uri = f"sip:{callee}@{domain}"

        def request(method: str, cseq: int, branch: str, target: str = uri, to: str = f"To: <{uri}>", extra: str = "", body: str = "") -> str:
            return (f"{method} {target} SIP/2.0\r\nVia: SIP/2.0/WSS {host};branch={branch}\r\nMax-Forwards: 70\r\n{to}\r\n"
                    f'From: "{user}" <sip:{user}@{domain}>;tag={tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n'
                    f"Contact: <sip:{user}@{host};transport=ws>\r\n{extra}"
                    + (f"Content-Type: application/sdp\r\n" if body else "") + f"Content-Length: {len(body.encode())}\r\n\r\n{body}")

        first = "z9hG4bK" + os.urandom(6).hex()
        self.send(request("INVITE", 1, first, body=offer))
        challenge = self.receive_response()
        statuses = [int(challenge.split(" ", 2)[1])]
        self.send(request("ACK", 1, first, to=header(challenge, "To")))
        authorization = digest("INVITE", uri, user, password, challenge, "Proxy-Authenticate")
        self.send(request("INVITE", 2, "z9hG4bK" + os.urandom(6).hex(), extra=authorization, body=offer))
        while True:
            answer = self.receive()
            statuses.append(int(answer.split(" ", 2)[1]))
            if statuses[-1] >= 200:
                break
        if statuses[-1] != 200:
            return {"statuses": statuses, "answer": "", "call_id": call_id}
        routes = [r.strip() for line in headers(answer, "Record-Route") for r in line.split(",")][::-1]
        target = re.search(r"<([^>]+)>", header(answer, "Contact")).group(1)
        to, route = header(answer, "To"), f"Route: {', '.join(routes)}\r\n" if routes else ""
        self.send(request("ACK", 2, "z9hG4bK" + os.urandom(6).hex(), target=target, to=to, extra=route))
        self.send(request("BYE", 3, "z9hG4bK" + os.urandom(6).hex(), target=target, to=to, extra=route))
        statuses.append(int(self.receive_response().split(" ", 2)[1]))
        return {"statuses": statuses, "answer": answer.split("\r\n\r\n", 1)[1], "call_id": call_id}

    def close(self) -> None:
        self.sock.close()

