"""What deploy/ejabberd/ejabberd.yml offers stock clients beyond STARTTLS on 5222, against the real
ejabberd: direct TLS (XEP-0368), HTTPS for uploads and WebSocket, and XEP-0215 TURN credentials that
the real coturn accepts."""
import subprocess

import requests
import urllib3

from conftest import DOMAIN, EJABBERD_PORTS, TURN_PEER_HOSTS, TURN_PEER_PORT, TURN_PORT
from test_push_app_server import PASSWORD, new_account
from stack.xmpp_client import direct_tls_features, run_session


def test_direct_tls_c2s_answers_with_a_stream_inside_tls(ejabberd):
    answer = direct_tls_features(EJABBERD_PORTS["c2s_tls"], DOMAIN)
    assert b"SCRAM-SHA-256" in answer and b"starttls" not in answer, "already encrypted: SASL at once"


def test_an_upload_slot_is_an_https_url_that_takes_the_file(switchboard, ejabberd):
    """XEP-0363 through the real ejabberd: the PUT URL is on the HTTPS listener, and the file is
    there afterwards; the WebSocket handler answers on the same listener."""
    from slixmpp.xmlstream import ET
    urllib3.disable_warnings()
    session = new_account(switchboard.url)

    async def slot(client):
        iq = client.make_iq_get(ito=f"upload.{DOMAIN}")
        iq.append(ET.fromstring("<request xmlns='urn:xmpp:http:upload:0' filename='hello.txt' size='5' content-type='text/plain'/>"))
        return await iq.send(timeout=5)

    answer = run_session(session["jid"], PASSWORD, EJABBERD_PORTS["c2s"], slot)
    put = answer.xml.find("{urn:xmpp:http:upload:0}slot/{urn:xmpp:http:upload:0}put").attrib["url"]
    get = answer.xml.find("{urn:xmpp:http:upload:0}slot/{urn:xmpp:http:upload:0}get").attrib["url"]
    assert put.startswith(f"https://127.0.0.1:{EJABBERD_PORTS['https']}/upload/"), put
    assert requests.put(put, data=b"hello", headers={"Content-Type": "text/plain"}, verify=False, timeout=5).status_code == 201
    assert requests.get(get, verify=False, timeout=5).content == b"hello"
    assert requests.get(f"https://127.0.0.1:{EJABBERD_PORTS['https']}/ws", verify=False, timeout=5).status_code != 404


def test_stock_clients_get_turn_credentials_coturn_accepts(switchboard, ejabberd, coturn):
    """XEP-0215 as Conversations asks it; the credentials are coturn's REST scheme with the same
    secret as Switchboard's /turn/credentials."""
    from slixmpp.xmlstream import ET
    session = new_account(switchboard.url)

    async def services(client):
        iq = client.make_iq_get(ito=DOMAIN)
        iq.append(ET.fromstring("<services xmlns='urn:xmpp:extdisco:2'/>"))
        return await iq.send(timeout=5)

    answer = run_session(session["jid"], PASSWORD, EJABBERD_PORTS["c2s"], services)
    found = [el.attrib for el in answer.xml.iter("{urn:xmpp:extdisco:2}service")]
    turn = next(s for s in found if s["type"] == "turn" and s.get("transport") == "udp")
    assert turn["host"] == "127.0.0.1" and int(turn["port"]) == TURN_PORT and turn.get("username") and turn.get("password"), found
    allocated = subprocess.run(["turnutils_uclient", "-u", turn["username"], "-w", turn["password"], "-p", str(TURN_PORT),
                                "-e", TURN_PEER_HOSTS[0], "-r", str(TURN_PEER_PORT), "-n", "5", "-X", "127.0.0.1"],
                               capture_output=True, text=True, timeout=60)
    assert allocated.returncode == 0 and "Total lost packets 0" in allocated.stdout, allocated.stdout[-2000:]
