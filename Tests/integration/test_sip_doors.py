"""What deploy/kamailio/kamailio.cfg refuses to strangers and accounts alike: in-dialog requests for
dialogs it never routed (an open relay otherwise), floods of REGISTERs from one address, replayed
digest answers, and an auth name that smuggles a second `user` into the HA1 hook's URL."""
import os
import socket
import time
import uuid

from conftest import DOMAIN, KAMAILIO_PORTS
from sip_messages import digest, ha1, status
from sipp import run
from test_sip import username
from test_push_app_server import PASSWORD, new_account
from udp_sip import UDPSIP

REGISTER_PORT = 25073


def test_an_in_dialog_request_for_a_dialog_never_routed_is_refused(switchboard, kamailio, rtpengine):
    """The forged requests of the review (M6): a To-tag and a Route to this proxy, aimed at an address
    of the attacker's choosing, directly or through Kamailio's NAT `alias` parameter. Nothing is
    forwarded and rtpengine opens no call."""
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    target.settimeout(1.0)
    port = target.getsockname()[1]
    route = f"Route: <sip:127.0.0.1:{KAMAILIO_PORTS['udp']};lr>\r\n"
    client = UDPSIP()
    try:
        calls_before = set(rtpengine.calls())
        for method, uri in [("BYE", f"sip:victim@127.0.0.1:{port}"),
                            ("MESSAGE", f"sip:victim@127.0.0.1:{KAMAILIO_PORTS['udp']};alias=127.0.0.1~{port}~1"),
                            ("INVITE", f"sip:victim@127.0.0.1:{port}")]:
            call_id = uuid.uuid4().hex
            client.send(client.request(method, uri, to=f"<sip:victim@{DOMAIN}>;tag=forged", from_user="mallory",
                                       call_id=call_id, cseq=1, extra=route))
            answer = client.receive()
            assert answer is not None and status(answer) == 481, f"{method}: {answer}"
        try:
            forwarded = target.recv(65535)
        except TimeoutError:
            forwarded = b""
        assert forwarded == b"", f"forwarded to the attacker's target: {forwarded[:300]!r}"
        assert set(rtpengine.calls()) == calls_before
    finally:
        client.close()
        target.close()


def test_a_replayed_digest_answer_is_refused(switchboard, kamailio):
    """qop=auth with the nonce count checked: the REGISTER as captured is refused when sent again; the
    same nonce with the count going up (a client re-using its nonce) is accepted."""
    user = username(new_account(switchboard.url))
    client = UDPSIP()
    try:
        call_id = uuid.uuid4().hex
        client.send(client.register(user, call_id, 1))
        challenge = client.receive()
        assert status(challenge) == 401 and 'qop="auth"' in challenge, challenge
        captured = digest("REGISTER", f"sip:{DOMAIN}", user, PASSWORD, challenge, "WWW-Authenticate", nc=1)
        client.send(client.register(user, call_id, 2, captured))
        assert status(client.receive()) == 200
        client.send(client.register(user, call_id, 3, captured))
        replayed = client.receive()
        assert status(replayed) == 401, replayed
        counted_up = digest("REGISTER", f"sip:{DOMAIN}", user, PASSWORD, challenge, "WWW-Authenticate", nc=2)
        client.send(client.register(user, call_id, 4, counted_up))
        assert status(client.receive()) == 200
    finally:
        client.close()


def test_an_auth_name_cannot_smuggle_a_second_user_into_the_ha1_hook(switchboard, kamailio):
    """`mallory&user=x` as the auth name, answered with mallory's own HA1: the hook is asked about the
    whole name (URL-encoded), which is no account, so the REGISTER fails like a wrong password."""
    mallory = username(new_account(switchboard.url))
    smuggled = f"{mallory}&user=x"
    client = UDPSIP()
    try:
        call_id = uuid.uuid4().hex
        client.send(client.register(smuggled, call_id, 1))
        challenge = client.receive()
        authorization = digest("REGISTER", f"sip:{DOMAIN}", smuggled, "", challenge, "WWW-Authenticate",
                               secret_ha1=ha1(mallory, DOMAIN, PASSWORD))
        client.send(client.register(smuggled, call_id, 2, authorization))
        answer = client.receive()
        assert status(answer) == 401, answer
        assert smuggled not in kamailio.rpc("ul.dump")
    finally:
        client.close()


def test_a_register_flood_from_one_address_is_dropped_while_another_registers(switchboard, kamailio):
    """150 REGISTERs with made-up credentials (each would cost an HA1 hook) from 127.0.0.3 as fast as
    it can send: after the pike limit the address gets no answers at all; 127.0.0.2 registers normally
    meanwhile."""
    flooder = UDPSIP("127.0.0.3")
    try:
        fake = 'Authorization: Digest username="{user}", realm="example.com", nonce="0", uri="sip:example.com", response="0"\r\n'
        for i in range(150):
            user = f"flood{os.urandom(4).hex()}"
            flooder.send(flooder.register(user, uuid.uuid4().hex, 1, fake.format(user=user)))
        answered = 0
        while flooder.receive(timeout=1.0) is not None:
            answered += 1
        assert 0 < answered < 100, f"{answered} of 150 answered"

        user = username(new_account(switchboard.url))
        other = run("register", REGISTER_PORT, [user, str(REGISTER_PORT)], user, PASSWORD, local_ip="127.0.0.2")
        assert other.process.returncode == 0, other.explain()
        assert other.received_statuses() == [401, 200]

        time.sleep(0.5)
        flooder.send(flooder.register("late", uuid.uuid4().hex, 1))
        assert flooder.receive(timeout=1.5) is None, "the flooding address stays ignored"
    finally:
        flooder.close()
