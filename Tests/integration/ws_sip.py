"""A minimal SIP-over-WebSocket client (RFC 7118) over TLS, as a WebRTC app would register: enough to
send a REGISTER and answer a digest challenge (RFC 2617 with qop=auth)."""
import base64
import hashlib
import os
import re
import socket
import ssl
import struct


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
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge.split("WWW-Authenticate:", 1)[1].split("\r\n", 1)[0]))
        uri, cnonce = f"sip:{domain}", os.urandom(8).hex()
        ha1 = hashlib.md5(f"{user}:{fields['realm']}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{fields['nonce']}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
        authorization = (f'Authorization: Digest username="{user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
                         f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}"\r\n')
        self.send(request(2, authorization))
        statuses.append(self.receive().split("\r\n", 1)[0])
        return statuses

    def close(self) -> None:
        self.sock.close()
