"""SIP message pieces the raw test clients share: headers of a message, and digest answers (RFC 2617
with qop=auth) that a test can bend (another nonce count, an HA1 of its choosing)."""
import hashlib
import os
import re


def headers(message: str, name: str) -> list[str]:
    """The values of every `name` header of a SIP message (head only)."""
    head = message.split("\r\n\r\n", 1)[0]
    return [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:] if line.lower().startswith(name.lower() + ":")]


def header(message: str, name: str) -> str:
    """`Name: value` of the first `name` header."""
    return f"{name}: {headers(message, name)[0]}"


def status(message: str) -> int:
    return int(message.split(" ", 2)[1])


def challenge_fields(challenge: str, name: str) -> dict[str, str]:
    """The parameters of the challenge's `name` header (WWW-Authenticate or Proxy-Authenticate)."""
    return dict(re.findall(r'(\w+)="?([^",]+)"?', headers(challenge, name)[0]))


def ha1(user: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def digest(method: str, uri: str, user: str, password: str, challenge: str, name: str, *,
           nc: int = 1, cnonce: str | None = None, secret_ha1: str | None = None) -> str:
    """The `Authorization`/`Proxy-Authorization` line answering `challenge`'s `name` header.
    `secret_ha1` replaces the HA1 of (user, realm, password), as a client that knows another
    account's HA1 would."""
    fields = challenge_fields(challenge, name)
    cnonce = cnonce or os.urandom(8).hex()
    key = secret_ha1 or ha1(user, fields["realm"], password)
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{key}:{fields['nonce']}:{nc:08x}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    line = "Authorization" if name.lower() == "www-authenticate" else "Proxy-Authorization"
    return (f'{line}: Digest username="{user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc:08x}, cnonce="{cnonce}"\r\n')
