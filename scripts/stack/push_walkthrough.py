"""`python -m stack push-walkthrough`: XEP-0357 push end to end on the running development stack,
one step at a time, each printed with what a real app would send: two accounts over REST, a device
registered for one of them, `<enable>` with the secret form over XMPP, that user offline, a message
from the other, and the push as the fake APNs received it."""
import json
import secrets
import sys
import time
import uuid

import requests

from .dev import STACK_FILE
from .xmpp_client import enable_push, send_message

PASSWORD = "walkthrough password"


def step(number: int, text: str) -> None:
    print(f"\n{number}. {text}", flush=True)


def walkthrough() -> int:
    if not STACK_FILE.exists():
        print("push-walkthrough: the development stack is not running (start it with scripts/dev)", file=sys.stderr)
        return 1
    stack = json.loads(STACK_FILE.read_text())
    url, domain = stack["url"], stack["domain"]
    names = [f"walk-{secrets.token_hex(3)}" for _ in range(2)]

    step(1, f"Two accounts: {names[0]} (the phone that sleeps) and {names[1]} (who writes to it)")
    sessions = []
    for name in names:
        answer = requests.post(f"{url}/api/v1/account/register", json={"username": name, "password": PASSWORD}, timeout=10)
        answer.raise_for_status()
        sessions.append(answer.json())
        print(f"   POST {url}/api/v1/account/register {{\"username\":\"{name}\",...}} -> {answer.status_code}, jid {answer.json()['jid']}")

    device, token = str(uuid.uuid4()), secrets.token_hex(32)
    step(2, "The app registers its device for pushes")
    body = {"device_uuid": device, "platform": "ios", "push_token": token, "voip_token": secrets.token_hex(32),
            "app_id": stack["app_id"], "environment": "sandbox"}
    answer = requests.post(f"{url}/api/v1/push/register", json=body, headers={"Authorization": f"Bearer {sessions[0]['token']}"}, timeout=10)
    answer.raise_for_status()
    binding = answer.json()
    print(f"   POST {url}/api/v1/push/register {json.dumps(body)}")
    print(f"   -> push_jid {binding['push_jid']}, node {binding['node']}, secret {binding['secret'][:8]}…")

    step(3, f"The app enables XEP-0357 on its XMPP session with that node and the secret, then goes offline")
    print(f"""   <iq type='set'><enable xmlns='urn:xmpp:push:0' jid='{binding['push_jid']}' node='{binding['node']}'>
     <x xmlns='jabber:x:data' type='submit'>
       <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
       <field var='secret'><value>{binding['secret'][:8]}…</value></field>
     </x></enable></iq>""")
    enable_push(sessions[0]["jid"], PASSWORD, stack["c2s_port"], binding["push_jid"], binding["node"], binding["secret"])

    step(4, f"{names[1]} sends {names[0]} a message; ejabberd publishes to Switchboard, which pushes")
    started = time.monotonic()
    send_message(sessions[1]["jid"], PASSWORD, stack["c2s_port"], sessions[0]["jid"], "hello from the walk-through")

    step(5, f"The fake APNs receives the push ({stack['apns_record']})")
    while time.monotonic() - started < 15:
        for line in open(stack["apns_record"]).read().splitlines():
            push = json.loads(line)
            if push.get("token") == token:
                print(f"   after {time.monotonic() - started:.2f} s: {json.dumps({k: push[k] for k in ('headers', 'payload') if k in push}, indent=2)}")
                print(f"\n   Its outcome line in Switchboard's log: grep {device} {stack.get('log', 'the switchboard log')}")
                print(f"   Or ask the operator endpoint: curl -H 'Authorization: Bearer {stack['admin_token']}' "
                      f"{stack['hooks_url']}/admin/v1/accounts/{names[0]}/devices")
                return 0
        time.sleep(0.2)
    print("   no push within 15 s: read Switchboard's log (the banner of scripts/dev says where)", file=sys.stderr)
    return 1
