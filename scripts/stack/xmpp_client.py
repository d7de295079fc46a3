"""A real XMPP client (slixmpp) for the tests: logs in over c2s with SCRAM-SHA-256 and runs one
coroutine against the session, synchronously from the test's point of view."""
import asyncio
import gc
import ssl

import slixmpp


def run_session(jid: str, password: str, port: int, work, timeout: float = 20):
    """Logs in as `jid` on 127.0.0.1:`port`, awaits `work(client)` and returns its result.
    Raises PermissionError when the login is refused."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(_session(jid, password, port, work), timeout))
    finally:
        # Let slixmpp's own tasks end on this loop, and collect the client while the loop is still
        # open (its finalizer schedules on the loop).
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        gc.collect()
        loop.close()


async def _session(jid, password, port, work):
    client = slixmpp.ClientXMPP(jid, password, sasl_mech="SCRAM-SHA-256")
    client.ssl_context = ssl.create_default_context()
    client.ssl_context.check_hostname = False
    client.ssl_context.verify_mode = ssl.CERT_NONE  # the stack's self-signed certificate
    for plugin in ("xep_0030", "xep_0199"):
        client.register_plugin(plugin)
    ready = asyncio.get_running_loop().create_future()
    client.add_event_handler("session_start", lambda _: ready.done() or ready.set_result(True))
    client.add_event_handler("failed_auth", lambda _: ready.done() or ready.set_exception(PermissionError("login refused")))
    client.connect("127.0.0.1", port)
    try:
        await ready
        return await work(client)
    finally:
        await asyncio.wait_for(client.disconnect(), 5)


def can_join_room(jid: str, password: str, port: int, room: str) -> bool:
    """Logs in and tries to enter the MUC room; False when the room refuses (e.g. members-only)."""
    from slixmpp.exceptions import PresenceError

    async def work(client):
        client.register_plugin("xep_0045")
        try:
            await client.plugin["xep_0045"].join_muc_wait(room, jid.split("@")[0], timeout=5, maxstanzas=0)
            return True
        except PresenceError:
            return False
    return run_session(jid, password, port, work)


def enable_push(jid: str, password: str, port: int, push_jid: str, node: str, secret: str | None) -> None:
    """XEP-0357 enable with a publish-options form carrying the secret, then a normal logout (which
    keeps the registration: the user is now offline and gets pushes)."""
    from slixmpp.xmlstream import ET

    async def work(client):
        form = ""
        if secret is not None:
            form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
                    "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                    f"<field var='secret'><value>{secret}</value></field></x>")
        iq = client.make_iq_set()
        iq.append(ET.fromstring(f"<enable xmlns='urn:xmpp:push:0' jid='{push_jid}' node='{node}'>{form}</enable>"))
        await iq.send(timeout=5)
    run_session(jid, password, port, work)


def send_message(jid: str, password: str, port: int, to: str, body: str) -> None:
    async def work(client):
        client.send_message(mto=to, mbody=body, mtype="chat")
        import asyncio
        await asyncio.sleep(0.3)  # let it leave before the stream closes
    run_session(jid, password, port, work)


def publish_directly(jid: str, password: str, port: int, push_jid: str, node: str, secret: str) -> str:
    """A client sending the push component an XEP-0357 publish itself (only the user's server may):
    returns the error condition of the answer, or "result"."""
    from slixmpp.exceptions import IqError
    from slixmpp.xmlstream import ET

    async def work(client):
        iq = client.make_iq_set(ito=push_jid)
        iq.append(ET.fromstring(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
            f"<publish node='{node}'><item><notification xmlns='urn:xmpp:push:0'/></item></publish>"
            "<publish-options><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
            f"<field var='secret'><value>{secret}</value></field></x></publish-options></pubsub>"))
        try:
            await iq.send(timeout=5)
            return "result"
        except IqError as error:
            return error.condition
    return run_session(jid, password, port, work)


def direct_tls_features(port: int, domain: str, host: str = "127.0.0.1") -> bytes:
    """Opens a c2s stream inside TLS from the first byte (XEP-0368) and returns the stream features."""
    import socket
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the stack's self-signed certificate
    with context.wrap_socket(socket.create_connection((host, port), timeout=5)) as tls:
        tls.sendall(f"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
                    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>".encode())
        answer = b""
        while b"</stream:features>" not in answer:
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer
