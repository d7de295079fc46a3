"""`python -m stack dev`: the development stack in the foreground until Ctrl-C.

PostgreSQL (port 15432, own data directory), ejabberd (c2s 5222, http 5280, components 5347 and
5348), coturn (3478, use-auth-secret), the fake APNs and FCM, Switchboard on http://127.0.0.1:8443
with SWITCHBOARD_ENV=development and fresh random secrets, then rtpengine (ng 2223) and Kamailio
(SIP UDP/TCP 5060, TLS 5061, WSS 8089) calling Switchboard's hooks.
"""
import secrets
import signal
import sys
import time

import jwt

from .coturn import Coturn
from .ejabberd import Ejabberd
from .fakes import FakeAPNs, FakeFCM
from .kamailio import Kamailio
from .postgres import Postgres
from .rtpengine import Rtpengine
from .switchboard import Switchboard, build

DOMAIN = "example.com"


EJABBERD_PORTS = {"c2s": 5222, "c2s_tls": 5223, "http": 5280, "https": 5443, "admin": 5347, "push": 5348}


def development_environment(database_url: str, http_port: int, turn_port: int, turn_secret: str,
                            components: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {
        "SWITCHBOARD_ENV": "development",
        "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port), "HOOKS_HTTP_PORT": str(http_port + 1),
        "DATABASE_URL": database_url,
        "JWT_SECRET": secrets.token_hex(32),
        "XMPP_DOMAIN": DOMAIN, "XMPP_HOST": "127.0.0.1",
        "XMPP_COMPONENT_HOST": "127.0.0.1", "XMPP_COMPONENT_PORT": str(EJABBERD_PORTS["admin"]),
        "PUSH_COMPONENT_PORT": str(EJABBERD_PORTS["push"]),
        "XMPP_COMPONENT_SECRET": components["admin"][1], "PUSH_COMPONENT_SECRET": components["push"][1],
        "HOOK_SECRET": secrets.token_hex(32),
        "TURN_SECRET": turn_secret,
        "TURN_URIS": f"turn:127.0.0.1:{turn_port}?transport=udp,turn:127.0.0.1:{turn_port}?transport=tcp",
    }


def dev() -> int:
    binary = build("debug")
    started = []  # stopped in reverse order, whatever happens
    try:
        postgres = Postgres("dev", 15432).start().create_database()
        started.append(postgres.fast_stop)
        components = {"admin": (f"gateway.{DOMAIN}", secrets.token_hex(32)), "push": (f"push.{DOMAIN}", secrets.token_hex(32))}
        turn_secret = secrets.token_hex(32)
        ejabberd = Ejabberd("dev", postgres, DOMAIN, EJABBERD_PORTS, components, turn=("127.0.0.1", 3478, turn_secret)).load_schema()
        ejabberd.start()
        started.append(ejabberd.stop)
        coturn = Coturn("dev", 3478, turn_secret, DOMAIN).start()
        started.append(coturn.stop)
        apns = FakeAPNs("dev", 9443)
        started.append(apns.daemon.stop)
        fcm = FakeFCM("dev", 9444, tls=apns)
        started.append(fcm.daemon.stop)
        env = development_environment(postgres.url, 8443, 3478, turn_secret, components)
        env["EJABBERD_DATABASE_URL"] = ejabberd.reader_url
        env.update(apns.environment())
        env.update(fcm.environment())
        switchboard = Switchboard(binary, "dev", env).start()
        started.append(switchboard.stop)
        rtpengine = Rtpengine("dev", 2223, 9900, (30000, 30100)).start()
        started.append(rtpengine.stop)
        kamailio = Kamailio("dev", {"udp": 5060, "tls": 5061, "wss": 8089}, 2223, switchboard.hooks_url, env["HOOK_SECRET"],
                            DOMAIN, ring_seconds=30).start()
        started.append(kamailio.stop)
        token = jwt.encode({"sub": f"alice@{DOMAIN}", "iat": int(time.time()), "exp": int(time.time()) + 86400, "ver": 1},
                           env["JWT_SECRET"], algorithm="HS256")
        print(f"""
Switchboard is up (development):
  REST       {switchboard.url}/api/v1/server/info
  register   curl -X POST -H 'Content-Type: application/json' -d '{{"username":"alice","password":"alice password"}}' {switchboard.url}/api/v1/account/register
  (the printed token below works once alice is registered)
  TURN creds curl -H 'Authorization: Bearer {token}' {switchboard.url}/api/v1/turn/credentials
  PostgreSQL {postgres.url}
  ejabberd   c2s 127.0.0.1:5222 (STARTTLS, self-signed), components gateway.{DOMAIN}:5347 push.{DOMAIN}:5348
  coturn     turn:127.0.0.1:3478 (use-auth-secret)
  Kamailio   sip:127.0.0.1:5060 (UDP/TCP), sips 5061, wss://127.0.0.1:8089/ws; SIP password = account password
  SIP try    printf 'SEQUENTIAL\\nalice;5090;{DOMAIN};\\n' > /tmp/alice.csv && sipp 127.0.0.1:5060 -sf fixtures/sipp/register.xml -inf /tmp/alice.csv -i 127.0.0.1 -p 5090 -m 1 -au alice -ap 'alice password'
  rtpengine  ng udp:127.0.0.1:2223
  fake APNs  {apns.url}: pushes recorded in {apns.record}
  fake FCM   {fcm.url}: messages recorded in {fcm.record}
  logs       {switchboard.dir}, {postgres.dir}, {ejabberd.dir}/log, {coturn.dir}, {kamailio.dir}, {rtpengine.dir}
Ctrl-C stops everything.""", flush=True)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        while not stopping and switchboard.daemon.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for stop in reversed(started):
            stop()
    return 0


def with_postgres(port: int, command: list[str]) -> int:
    """Runs `command` with SWITCHBOARD_TEST_DATABASE_URL pointing at a fresh PostgreSQL."""
    import os
    import subprocess
    postgres = Postgres("unit", port).start().create_database()
    try:
        return subprocess.run(command, env={**os.environ, "SWITCHBOARD_TEST_DATABASE_URL": postgres.url}).returncode
    finally:
        postgres.fast_stop()


USAGE = "usage: python -m stack dev | python -m stack with-postgres PORT -- COMMAND..."

if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["dev"]:
        sys.exit(dev())
    if len(args) >= 4 and args[0] == "with-postgres" and args[2] == "--":
        sys.exit(with_postgres(int(args[1]), args[3:]))
    sys.exit(USAGE)
