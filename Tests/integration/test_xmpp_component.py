"""The two XEP-0114 component connections against the real ejabberd: handshake, disco, pings,
unknown IQs, and recovery after ejabberd is killed."""
import time

import requests
from slixmpp.exceptions import IqError

from conftest import ADMIN_COMPONENT, DOMAIN, EJABBERD_PORTS, PUSH_COMPONENT
from stack.xmpp_client import run_session


def readiness(url: str) -> dict:
    return requests.get(f"{url}/readyz", timeout=2).json()["checks"]


def test_both_components_are_connected(switchboard):
    checks = readiness(switchboard.url)
    assert checks["xmpp_admin"] == "up" and checks["xmpp_push"] == "up"
    log = switchboard.daemon.log.read_text()
    assert f"domain={ADMIN_COMPONENT[0]}" in log and f"domain={PUSH_COMPONENT[0]}" in log


def test_disco_ping_and_unknown_iq_from_a_real_client(switchboard, ejabberd):
    """A user logged in over c2s (slixmpp) queries Switchboard's two domains through ejabberd."""
    password = "probe-password-1"
    ejabberd.register("probe", password)
    admin, push = ADMIN_COMPONENT[0], PUSH_COMPONENT[0]

    async def work(client):
        admin_info = await client.plugin["xep_0030"].get_info(jid=admin, timeout=5)
        push_info = await client.plugin["xep_0030"].get_info(jid=push, timeout=5)
        rtt = await client.plugin["xep_0199"].ping(jid=admin, timeout=5)
        version = client.make_iq_get(queryxmlns="jabber:iq:version", ito=admin)
        try:
            await version.send(timeout=5)
            unknown = None
        except IqError as error:
            unknown = (error.iq["error"]["type"], error.iq["error"]["condition"])
        return admin_info, push_info, rtt, unknown

    admin_info, push_info, rtt, unknown = run_session(f"probe@{DOMAIN}", password, EJABBERD_PORTS["c2s"], work)
    identities = {(i[0], i[1]) for i in push_info["disco_info"]["identities"]}
    assert ("pubsub", "push") in identities
    assert "urn:xmpp:push:0" in push_info["disco_info"]["features"]
    assert ("component", "generic") in {(i[0], i[1]) for i in admin_info["disco_info"]["identities"]}
    assert "urn:xmpp:push:0" not in admin_info["disco_info"]["features"]
    assert rtt is not None and rtt < 5
    assert unknown == ("cancel", "service-unavailable")


def test_component_back_within_3s_after_ejabberd_is_killed(switchboard, ejabberd):
    ejabberd.kill()
    deadline = time.monotonic() + 3
    while readiness(switchboard.url)["xmpp_admin"] == "up":
        assert time.monotonic() < deadline, "the loss of ejabberd was not noticed"
        time.sleep(0.02)
    assert readiness(switchboard.url)["xmpp_push"] == "down"
    assert switchboard.daemon.proc.poll() is None
    # REST that needs ejabberd answers 503 xmpp_unavailable at once, and nothing is left behind.
    started = time.monotonic()
    r = requests.post(f"{switchboard.url}/api/v1/account/register", json={"username": "whiledown", "password": "long enough"}, timeout=10)
    assert r.status_code == 503 and r.json()["error"]["code"] == "xmpp_unavailable", r.text
    assert r.headers["Retry-After"] == "1"
    assert time.monotonic() - started < 5.5, "within the IQ timeout"
    time.sleep(1)
    ejabberd.start()  # returns once ejabberd accepts connections on every listener
    accepted = time.monotonic()
    while not all(v == "up" for v in readiness(switchboard.url).values()):
        assert time.monotonic() - accepted < 3, f"components not back 3 s after ejabberd accepted: {readiness(switchboard.url)}"
        time.sleep(0.02)
    print(f"components back {time.monotonic() - accepted:.3f} s after ejabberd accepted connections")
    r = requests.post(f"{switchboard.url}/api/v1/account/register", json={"username": "whiledown", "password": "long enough"}, timeout=10)
    assert r.status_code == 201, r.text
