"""docs/openapi.yaml fuzzed with schemathesis against the release binary, its real database and
ejabberd: every operation gets generated requests, valid and not, with the credentials it needs;
no answer may be a 5xx, and every answer must be documented (status, content type, body schema).
Seeded (`derandomize`), so a failure is reproducible."""
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance

from conftest import HOOKS_HTTP_PORT, HTTP_PORT, ROOT_DIR

schemathesis.experimental.OPEN_API_3_1.enable()  # the document is OpenAPI 3.1 (nullable as type lists)
SPEC = yaml.safe_load((ROOT_DIR / "docs" / "openapi.yaml").read_text())
PUBLIC, INTERNAL = f"http://127.0.0.1:{HTTP_PORT}", f"http://127.0.0.1:{HOOKS_HTTP_PORT}"
schema = schemathesis.from_dict(SPEC, base_url=PUBLIC)

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture(scope="module")
def fuzz_session(switchboard):
    """An account for the phone API's operations (made here: the fuzzer must not delete the shared one)."""
    from test_push_app_server import new_account
    return new_account(switchboard.url)


def credentials(operation, switchboard, session) -> dict:
    """The headers an operation's security asks for. Deleting the account is fuzzed without them
    (with them, the first valid request would end the account every later case uses)."""
    path = operation.path
    if path.startswith("/hooks/"):
        return {"X-Hook-Secret": switchboard.env["HOOK_SECRET"]}
    if path.startswith("/admin/"):
        return {"Authorization": f"Bearer {switchboard.env['ADMIN_TOKEN']}"}
    if path.startswith("/api/") and not (path == "/api/v1/account" and operation.method.upper() == "DELETE"):
        return {"Authorization": f"Bearer {session['token']}"}
    return {}


@schema.parametrize()
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_or_off_spec(case, switchboard, fuzz_session):
    internal = "servers" in case.operation.definition.raw
    response = case.call(base_url=INTERNAL if internal else PUBLIC, headers=credentials(case.operation, switchboard, fuzz_session), timeout=20)
    case.validate_response(response, checks=CHECKS)
