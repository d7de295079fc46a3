"""`python -m stack dev [--watch]` (scripts/dev): the development stack in the foreground until Ctrl-C
or SIGTERM, also when started in the background.

PostgreSQL (port 15432, own data directory), ejabberd (c2s 5222, direct TLS 5223, http 5280, https
5443, components 5347 and 5348), coturn (3478, use-auth-secret), the fake APNs and FCM, Switchboard
on http://127.0.0.1:8443 (hooks and operator endpoints on 8444) with SWITCHBOARD_ENV=development and
fresh random secrets, then rtpengine (ng 2223) and Kamailio (SIP UDP/TCP 5060, TLS 5061, WSS 8089)
calling Switchboard's hooks. The previous run's logs stay in `<daemon>.previous` beside each
daemon's directory. `--watch` rebuilds and restarts Switchboard alone when a source file changes.
"""
import json
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from .coturn import Coturn
from .ejabberd import Ejabberd
from .fakes import FakeAPNs, FakeFCM
from .kamailio import Kamailio
from .postgres import Postgres
from .processes import ROOT, STATE, port_holders
from .rtpengine import Rtpengine
from .switchboard import Switchboard, build

DOMAIN = "example.com"
APP_ID = "com.example.chat"
EJABBERD_PORTS = {"c2s": 5222, "c2s_tls": 5223, "http": 5280, "https": 5443, "admin": 5347, "push": 5348}
HTTP_PORT, PG_PORT, TURN_PORT, APNS_PORT, FCM_PORT, RTP_NG_PORT = 8443, 15432, 3478, 9443, 9444, 2223
SIP_PORTS = {"udp": 5060, "tls": 5061, "wss": 8089}
# Every port the stack listens on, as (port, udp?), checked before anything starts.
PORTS = ([(PG_PORT, False), (HTTP_PORT, False), (HTTP_PORT + 1, False), (TURN_PORT, False), (TURN_PORT, True),
          (APNS_PORT, False), (FCM_PORT, False), (RTP_NG_PORT, True), (SIP_PORTS["udp"], True), (SIP_PORTS["udp"], False),
          (SIP_PORTS["tls"], False), (SIP_PORTS["wss"], False)] + [(port, False) for port in EJABBERD_PORTS.values()])
# What the push walk-through (python -m stack push-walkthrough) reads to find the running stack.
STACK_FILE = STATE / "dev" / "stack.json"


def development_environment(database_url: str, http_port: int, turn_port: int, turn_secret: str,
                            components: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Every address a client is told names 127.0.0.1, as the stack listens there."""
    return {
        "SWITCHBOARD_ENV": "development",
        "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port), "HOOKS_HTTP_PORT": str(http_port + 1),
        "DATABASE_URL": database_url,
        "JWT_SECRET": secrets.token_hex(32),
        "XMPP_DOMAIN": DOMAIN, "XMPP_HOST": "127.0.0.1", "XMPP_WS_URL": f"ws://127.0.0.1:{EJABBERD_PORTS['http']}/ws",
        "SIP_WS_URL": f"wss://127.0.0.1:{SIP_PORTS['wss']}/ws",
        "XMPP_COMPONENT_HOST": "127.0.0.1", "XMPP_COMPONENT_PORT": str(EJABBERD_PORTS["admin"]),
        "PUSH_COMPONENT_PORT": str(EJABBERD_PORTS["push"]),
        "XMPP_COMPONENT_SECRET": components["admin"][1], "PUSH_COMPONENT_SECRET": components["push"][1],
        "HOOK_SECRET": secrets.token_hex(32),
        "ADMIN_TOKEN": secrets.token_hex(32),
        "APP_IDS": APP_ID,
        "TURN_SECRET": turn_secret,
        "TURN_URIS": f"turn:127.0.0.1:{turn_port}?transport=udp,turn:127.0.0.1:{turn_port}?transport=tcp",
    }


def busy_ports() -> list[str]:
    """One line per port of the stack that something else holds."""
    holders = port_holders()
    return [f"port {port}/{'udp' if udp else 'tcp'} is in use by {holders[(port, udp)]}" for port, udp in PORTS if (port, udp) in holders]


def stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP end the stack as KeyboardInterrupt does. Set explicitly: a shell
    starts a background job with SIGINT ignored, and Python then installs no handler of its own."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.default_int_handler)


def dev(watch: bool = False) -> int:
    stop_on_signals()
    busy = busy_ports()
    if busy:
        print("switchboard dev: " + "; ".join(busy) + " (stop it, or the stack it belongs to)", file=sys.stderr)
        return 1
    started = []  # stopped in reverse order, whatever happens: Kamailio first, PostgreSQL last
    try:
        binary = build("debug")
        postgres = Postgres("dev", PG_PORT).start().create_database()
        started.append(postgres.fast_stop)
        components = {"admin": (f"gateway.{DOMAIN}", secrets.token_hex(32)), "push": (f"push.{DOMAIN}", secrets.token_hex(32))}
        turn_secret = secrets.token_hex(32)
        ejabberd = Ejabberd("dev", postgres, DOMAIN, EJABBERD_PORTS, components, turn=("127.0.0.1", TURN_PORT, turn_secret)).load_schema()
        ejabberd.start()
        started.append(ejabberd.stop)
        coturn = Coturn("dev", TURN_PORT, turn_secret, DOMAIN).start()
        started.append(coturn.stop)
        apns = FakeAPNs("dev", APNS_PORT)
        started.append(apns.daemon.stop)
        fcm = FakeFCM("dev", FCM_PORT, tls=apns)
        started.append(fcm.daemon.stop)
        env = development_environment(postgres.url, HTTP_PORT, TURN_PORT, turn_secret, components)
        env["EJABBERD_DATABASE_URL"] = ejabberd.reader_url
        env.update(apns.environment())
        env.update(fcm.environment())
        switchboard = Switchboard(binary, "dev", env).start()
        started.append(lambda: switchboard.stop())
        rtpengine = Rtpengine("dev", RTP_NG_PORT, 9900, (30000, 30100)).start()
        started.append(rtpengine.stop)
        kamailio = Kamailio("dev", SIP_PORTS, RTP_NG_PORT, switchboard.hooks_url, env["HOOK_SECRET"], DOMAIN, ring_seconds=30).start()
        started.append(kamailio.stop)
        STACK_FILE.write_text(json.dumps({"url": switchboard.url, "hooks_url": switchboard.hooks_url, "domain": DOMAIN,
                                          "app_id": APP_ID, "c2s_port": EJABBERD_PORTS["c2s"], "apns_record": str(apns.record),
                                          "admin_token": env["ADMIN_TOKEN"], "log": str(switchboard.daemon.log)}))
        print(banner(switchboard, env, postgres, ejabberd, coturn, kamailio, rtpengine, apns, fcm, watch), flush=True)
        if watch:
            watch_sources(switchboard)
        else:
            while switchboard.daemon.proc.poll() is None:
                time.sleep(0.5)
            print(f"switchboard exited with {switchboard.daemon.proc.returncode}; its log: {switchboard.daemon.log}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping…", file=sys.stderr, flush=True)
    finally:
        # A second Ctrl-C must not cut the stops short and leave daemons behind.
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        for stop in reversed(started):
            stop()
        STACK_FILE.unlink(missing_ok=True)
    return 0


def source_stamp() -> dict[Path, float]:
    """The modification time of every file a build of Switchboard reads."""
    files = [ROOT / "Package.swift", *(ROOT / "Sources").rglob("*.swift"), *(ROOT / "Sources").rglob("*.[ch]"),
             *(ROOT / "Sources").rglob("module.modulemap")]
    return {path: path.stat().st_mtime for path in files if path.exists()}


def watch_sources(switchboard: Switchboard) -> None:
    """Rebuilds and restarts Switchboard alone whenever a source changes; a failed build keeps the
    running one. The other daemons stay up (and keep their state: accounts, registrations)."""
    stamp = source_stamp()
    while True:
        time.sleep(1)
        now = source_stamp()
        if now == stamp:
            continue
        stamp = now
        print("watch: sources changed; building…", flush=True)
        if subprocess.run(["swift", "build", "--product", "switchboard"], cwd=ROOT).returncode != 0:
            print("watch: the build failed; Switchboard keeps running the previous build", flush=True)
            continue
        switchboard.stop()
        switchboard.start()
        print(f"watch: Switchboard restarted ({switchboard.url}); log {switchboard.daemon.log}", flush=True)


def banner(switchboard, env, postgres, ejabberd, coturn, kamailio, rtpengine, apns, fcm, watch: bool) -> str:
    hook = f"curl -H 'X-Hook-Secret: {env['HOOK_SECRET']}' '{switchboard.hooks_url}/hooks/sip/ha1?user=alice&realm={DOMAIN}'"
    return f"""
Switchboard is up (development){' — watching Sources/ for changes' if watch else ''}:
  REST        {switchboard.url}/api/v1/server/info
  register    curl -X POST -H 'Content-Type: application/json' -d '{{"username":"alice","password":"alice password"}}' {switchboard.url}/api/v1/account/register
  app id      register devices with "app_id": "{APP_ID}" (APP_IDS)
  push, end to end
              .state/venv/bin/python -m stack push-walkthrough   (from scripts/: registers two users and a device,
              sends <enable>, goes offline, messages it, and shows the push the fake APNs received)
  hooks       HOOK_SECRET={env['HOOK_SECRET']}
              {hook}
  operator    ADMIN_TOKEN={env['ADMIN_TOKEN']}
              curl -H 'Authorization: Bearer {env['ADMIN_TOKEN']}' {switchboard.hooks_url}/admin/v1/status
  PostgreSQL  {postgres.url}
  ejabberd    c2s 127.0.0.1:5222 (STARTTLS, self-signed), 5223 (direct TLS), {env['XMPP_WS_URL']}; components gateway.{DOMAIN}:5347 push.{DOMAIN}:5348
  coturn      turn:127.0.0.1:{TURN_PORT} (use-auth-secret)
  Kamailio    sip:127.0.0.1:5060 (UDP/TCP), sips 5061, {env['SIP_WS_URL']}; SIP password = account password
  SIP try     printf 'SEQUENTIAL\\nalice;5090;{DOMAIN};\\n' > /tmp/alice.csv && sipp 127.0.0.1:5060 -sf fixtures/sipp/register.xml -inf /tmp/alice.csv -i 127.0.0.1 -p 5090 -m 1 -au alice -ap 'alice password'
  rtpengine   ng udp:127.0.0.1:{RTP_NG_PORT}
  fake APNs   {apns.url}: pushes recorded in {apns.record}
  fake FCM    {fcm.url}: messages recorded in {fcm.record}
  logs        {switchboard.dir}, {postgres.dir}, {ejabberd.dir}/log, {coturn.dir}, {kamailio.dir}, {rtpengine.dir}
              (the previous run's: the same names with .previous)
  clients     README.md, "Connecting real apps": Conversations, Monal, Dino, Linphone
Ctrl-C (or SIGTERM) stops everything."""
