"""`/metrics` on the internal listener as Prometheus reads it: parsed by prometheus_client's own
text parser, every family with its HELP and TYPE, the route histograms moving with requests."""
import requests
from prometheus_client.parser import text_string_to_metric_families

from test_push_app_server import arrivals, message, offline_device, wait_for


def scrape(switchboard) -> dict:
    text = requests.get(f"{switchboard.hooks_url}/metrics", timeout=5).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def count(families: dict, name: str, **labels) -> float:
    """The `_count` sample of histogram `name` with these labels (0 when absent)."""
    family = families.get(name)
    if family is None:
        return 0
    return sum(s.value for s in family.samples if s.name == f"{name}_count" and all(s.labels.get(k) == v for k, v in labels.items()))


def test_the_families_parse_with_help_and_type(switchboard):
    families = scrape(switchboard)
    expected = {
        "switchboard_build_info": "gauge", "switchboard_pushes": "counter", "switchboard_push_retries": "counter",
        "switchboard_push_queue_depth": "gauge", "switchboard_xmpp_component_connected": "gauge",
        "switchboard_database_available": "gauge", "process_resident_memory_bytes": "gauge", "process_open_fds": "gauge",
        "process_cpu_seconds": "counter", "switchboard_database_connections": "gauge", "switchboard_rate_limiter_keys": "gauge",
        "switchboard_push_provider_requests": "gauge",
    }
    for name, kind in expected.items():
        assert name in families, sorted(families)
        assert families[name].type == kind, (name, families[name].type)
        assert families[name].documentation, f"{name} has a HELP line"
    up = {s.labels["component"]: s.value for s in families["switchboard_xmpp_component_connected"].samples}
    assert up == {"admin": 1.0, "push": 1.0}
    connections = {(s.labels["database"], s.labels["state"]): s.value for s in families["switchboard_database_connections"].samples}
    assert connections[("switchboard", "ready")] + connections[("switchboard", "leased")] >= 1
    assert {s.labels["limiter"] for s in families["switchboard_rate_limiter_keys"].samples} >= {"login_by_address", "calls_by_caller"}
    assert families["process_resident_memory_bytes"].samples[0].value > 1e6


def test_route_histograms_move_with_requests_and_are_labelled_by_pattern(switchboard):
    before = scrape(switchboard)
    route = {"listener": "public", "method": "POST", "route": "/api/v1/account/login", "status": "401"}
    for _ in range(3):
        requests.post(f"{switchboard.url}/api/v1/account/login", json={"username": "nobody-metrics", "password": "x" * 12}, timeout=5)
    requests.get(f"{switchboard.url}/api/v1/calls/some-call@host", timeout=5)  # 401: no token
    after = scrape(switchboard)
    name = "switchboard_http_request_duration_seconds"
    assert after[name].type == "histogram"
    assert count(after, name, **route) == count(before, name, **route) + 3
    labels = {s.labels.get("route") for s in after[name].samples}
    assert "/api/v1/calls/{call_id...}" in labels and not any("some-call" in (l or "") for l in labels), "patterns, never paths"


def test_push_attempts_and_whole_deliveries_are_timed_by_platform_and_outcome(switchboard, fake_apns):
    before = count(scrape(switchboard), "switchboard_push_send_duration_seconds", platform="ios", outcome="delivered")
    whole = dict(platform="ios", kind="message", outcome="delivered")
    before_whole = count(scrape(switchboard), "switchboard_push_delivery_duration_seconds", **whole)
    sender, user, token, _ = offline_device(switchboard)
    message(sender, user, "timed")
    wait_for("the push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)
    wait_for("the attempt to be observed", lambda: count(scrape(switchboard), "switchboard_push_send_duration_seconds",
                                                         platform="ios", outcome="delivered") == before + 1, timeout=5)
    assert count(scrape(switchboard), "switchboard_push_delivery_duration_seconds", **whole) == before_whole + 1, \
        "from queued to the provider's answer, once per push"


def test_the_grafana_dashboard_queries_only_families_the_server_serves(switchboard, fake_apns):
    """deploy/grafana/switchboard-dashboard.json: every metric a panel's query names is one /metrics
    has (a renamed family would leave a panel silently empty)."""
    import json
    import re
    from conftest import ROOT_DIR
    dashboard = json.loads((ROOT_DIR / "deploy" / "grafana" / "switchboard-dashboard.json").read_text())
    requests.post(f"{switchboard.url}/api/v1/account/login", json={"username": "nobody-dash", "password": "x" * 12}, timeout=5)
    sender, user, token, _ = offline_device(switchboard)  # so that the push histograms have a series
    message(sender, user, "for the dashboard")
    wait_for("the push", lambda: len(arrivals(fake_apns.pushes, token)) == 1, timeout=5)
    served = set()
    for family in scrape(switchboard).values():
        served.add(family.name)
        served.update(sample.name for sample in family.samples)
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b((?:switchboard|process)_[a-z_]+)\b", target["expr"])}
    assert queried and queried <= served, queried - served
