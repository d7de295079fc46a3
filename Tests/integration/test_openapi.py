"""docs/openapi.yaml: a valid OpenAPI 3.1 document (openapi-spec-validator), and the release binary's
real answers (and errors) match its schemas, route by route."""
import uuid

import jsonschema
import pytest
import requests
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from conftest import ROOT_DIR
from test_push_app_server import PASSWORD, new_account, register_device

SPEC, _ = read_from_filename(str(ROOT_DIR / "docs" / "openapi.yaml"))


def resolved(node):
    """`node` with every local `$ref` replaced by what it names."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = SPEC
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolved(target)
        return {k: resolved(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(v) for v in node]
    return node


def check(path: str, method: str, response: requests.Response) -> None:
    """The documented schema of this route and status validates the answer."""
    operation = SPEC["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path}: {response.status_code} is not documented ({response.text[:200]})"
    content = resolved(documented).get("content")
    if content is None:
        assert not response.content, "documented without a body"
        return
    media = response.headers.get("Content-Type", "").split(";")[0]
    assert media in content, (media, list(content))
    if media == "application/json":
        jsonschema.validate(response.json(), content[media]["schema"], cls=jsonschema.Draft202012Validator)


def test_the_document_is_valid_openapi_3_1():
    validate(SPEC)
    assert SPEC["openapi"] == "3.1.0"


def test_every_route_of_the_server_is_documented():
    import re
    routes = set()
    for source in (ROOT_DIR / "Sources").rglob("*.swift"):
        for method, pattern in re.findall(r'router\.add\(\.(\w+), "([^"]+)"', source.read_text()):
            routes.add((method.lower(), pattern.replace("...}", "}")))
    documented = {(m, p) for p, ops in SPEC["paths"].items() for m in ops if m in ("get", "post", "delete", "put")}
    assert routes == documented, (routes - documented, documented - routes)


def test_the_readme_links_each_route_to_its_schema_at_the_right_line():
    import re
    lines = (ROOT_DIR / "docs" / "openapi.yaml").read_text().splitlines()
    links = re.findall(r"\[`([^`]+)`\]\(docs/openapi\.yaml#L(\d+)\)", (ROOT_DIR / "README.md").read_text())
    for label, line in links:
        named = lines[int(line) - 1].strip().removesuffix(":")
        assert named.endswith(label), f"README links {label} to line {line}, which is {named!r}"
    linked = {lines[int(line) - 1].strip().removesuffix(":") for _, line in links}
    assert set(SPEC["paths"]) - {"/healthz", "/readyz"} <= linked, set(SPEC["paths"]) - linked


def test_real_answers_match_the_schemas(switchboard):
    api = switchboard.url
    name = f"o{uuid.uuid4().hex[:10]}"
    r = requests.post(f"{api}/api/v1/account/register", json={"username": name, "password": PASSWORD}, timeout=10)
    check("/api/v1/account/register", "POST", r)
    session = r.json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    check("/api/v1/account/register", "POST", requests.post(f"{api}/api/v1/account/register", json={"username": name, "password": PASSWORD}, timeout=10))
    check("/api/v1/account/login", "POST", requests.post(f"{api}/api/v1/account/login", json={"username": name, "password": PASSWORD}, timeout=10))
    check("/api/v1/account/login", "POST", requests.post(f"{api}/api/v1/account/login", json={"username": name, "password": "wrong password"}, timeout=10))
    check("/api/v1/account/login", "POST", requests.post(f"{api}/api/v1/account/login", json={"username": 3}, timeout=10))
    check("/api/v1/server/info", "GET", requests.get(f"{api}/api/v1/server/info", timeout=5))
    check("/api/v1/turn/credentials", "GET", requests.get(f"{api}/api/v1/turn/credentials", headers=auth, timeout=5))
    check("/api/v1/turn/credentials", "GET", requests.get(f"{api}/api/v1/turn/credentials", timeout=5))
    check("/api/v1/push/register", "POST", register_device(api, session))
    check("/api/v1/push/register", "DELETE", requests.delete(f"{api}/api/v1/push/register", json={"device_uuid": str(uuid.uuid4())}, headers=auth, timeout=5))
    other = new_account(api)
    created = requests.post(f"{api}/api/v1/groups/create", json={"name": "Spec", "members": [other["jid"]]}, headers=auth, timeout=10)
    check("/api/v1/groups/create", "POST", created)
    room = created.json()["jid"]
    check("/api/v1/groups/{jid}", "GET", requests.get(f"{api}/api/v1/groups/{room}", headers=auth, timeout=10))
    check("/api/v1/groups/{jid}/members", "DELETE", requests.delete(f"{api}/api/v1/groups/{room}/members", json={"members": [other["jid"]]}, headers=auth, timeout=10))
    check("/api/v1/groups/{jid}", "DELETE", requests.delete(f"{api}/api/v1/groups/{room}", headers=auth, timeout=10))
    check("/api/v1/calls/{call_id}", "GET", requests.get(f"{api}/api/v1/calls/unknown@host", headers=auth, timeout=5))
    check("/healthz", "GET", requests.get(f"{api}/healthz", timeout=5))
    check("/readyz", "GET", requests.get(f"{api}/readyz", timeout=5))
    hooks, secret = switchboard.hooks_url, {"X-Hook-Secret": switchboard.env["HOOK_SECRET"]}
    check("/hooks/sip/ha1", "GET", requests.get(f"{hooks}/hooks/sip/ha1", params={"user": name, "realm": "example.com"}, headers=secret, timeout=5))
    check("/hooks/sip/ha1", "GET", requests.get(f"{hooks}/hooks/sip/ha1", params={"user": name, "realm": "example.com"}, timeout=5))
    check("/hooks/sip/call", "POST", requests.post(f"{hooks}/hooks/sip/call", headers=secret, timeout=5,
                                                   json={"event": "incoming_call", "caller": "a", "callee": "nobody-here", "call_id": "x@h"}))
    check("/hooks/sip/cancel", "POST", requests.post(f"{hooks}/hooks/sip/cancel", headers=secret, timeout=5,
                                                     json={"event": "call_cancelled", "caller": "a", "callee": name, "call_id": "x@h"}))
    check("/metrics", "GET", requests.get(f"{hooks}/metrics", timeout=5))
    admin = {"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}"}
    check("/admin/v1/status", "GET", requests.get(f"{hooks}/admin/v1/status", headers=admin, timeout=5))
    check("/admin/v1/status", "GET", requests.get(f"{hooks}/admin/v1/status", timeout=5))
    device = str(uuid.uuid4())
    register_device(api, session, device)
    check("/admin/v1/devices/{device_id}/test-push", "POST", requests.post(f"{hooks}/admin/v1/devices/{device}/test-push", headers=admin, timeout=15))
    check("/admin/v1/devices/{device_id}/test-push", "POST", requests.post(f"{hooks}/admin/v1/devices/{uuid.uuid4()}/test-push", headers=admin, timeout=15))
    check("/admin/v1/accounts/{jid}/devices", "GET", requests.get(f"{hooks}/admin/v1/accounts/{session['jid']}/devices", headers=admin, timeout=5))
    check("/admin/v1/accounts/{jid}/devices", "GET", requests.get(f"{hooks}/admin/v1/accounts/@/devices", headers=admin, timeout=5))
    check("/api/v1/account", "DELETE", requests.delete(f"{api}/api/v1/account", headers=auth, timeout=10))
