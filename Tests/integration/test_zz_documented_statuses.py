"""Runs last (file order): every status docs/openapi.yaml documents for an operation was answered by
some test of this suite (conftest.ANSWERED records every answer of the two listeners), so no
documented error code is one the server cannot actually produce, and none goes untested."""
import re
from pathlib import Path

import pytest
import yaml

from conftest import ANSWERED, ROOT_DIR

SPEC = yaml.safe_load((ROOT_DIR / "docs" / "openapi.yaml").read_text())


def operations():
    """(method, path template, regex over the request path, listener, documented statuses)."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "delete"):
                continue
            pattern = re.sub(r"\{call_id\}", ".+", path)
            pattern = "^" + re.sub(r"\{[a-z_]+\}", "[^/]+", pattern) + "$"
            listener = "internal" if "servers" in operation else "public"
            yield method.upper(), path, re.compile(pattern), listener, {int(status) for status in operation["responses"]}


def test_every_documented_status_was_answered_by_some_test(request):
    suite = {Path(str(item.fspath)).name for item in request.session.items}
    every = {p.name for p in (ROOT_DIR / "Tests" / "integration").glob("test_*.py")}
    if len(suite) < len(every):
        pytest.skip("the whole suite did not run: what it answered says nothing")
    missing = []
    for method, path, pattern, listener, documented in operations():
        seen = {status for (m, p, on, status) in ANSWERED if m == method and on == listener and pattern.match(p)}
        # A route with a more specific sibling (/groups/{jid} vs /groups/{jid}/members) must not
        # count the sibling's answers: the regex's [^/]+ already keeps segments apart.
        missing += [f"{method} {path} {status}" for status in sorted(documented - seen)]
    assert missing == [], "documented but never answered in the suite:\n  " + "\n  ".join(missing)
