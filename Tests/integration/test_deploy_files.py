"""The shipped configuration keeps its unauthenticated control doors on loopback by default: the
stack renders these files with its own addresses, so only a check of the files themselves sees
their defaults."""
import re

from conftest import ROOT_DIR

DEPLOY = ROOT_DIR / "deploy"


def test_ejabberds_component_listeners_default_to_loopback():
    text = (DEPLOY / "ejabberd" / "ejabberd.yml").read_text()
    assert re.search(r'^  INTERNAL_IP: "127\.0\.0\.1"$', text, re.M)
    listeners = re.findall(r"- port: (\w+)\n    ip: (\w+)\n    module: ejabberd_service", text)
    assert sorted(listeners) == [("ADMIN_COMPONENT_PORT", "INTERNAL_IP"), ("PUSH_COMPONENT_PORT", "INTERNAL_IP")]


def test_rtpengines_control_socket_defaults_to_loopback_on_both_sides():
    assert re.search(r"^listen-ng = 127\.0\.0\.1:2223$", (DEPLOY / "rtpengine" / "rtpengine.conf").read_text(), re.M)
    assert '#!substdef "!RTPENGINE_SOCK!udp:127.0.0.1:2223!g"' in (DEPLOY / "kamailio" / "kamailio.cfg").read_text()


def test_coturn_denies_its_own_external_address_as_a_peer():
    text = (DEPLOY / "coturn" / "turnserver.conf").read_text()
    external = re.search(r"^external-ip=(.*)$", text, re.M).group(1)
    assert re.search(rf"^denied-peer-ip={re.escape(external)}$", text, re.M)


def test_the_systemd_unit_verifies_with_the_release_binary(binary, tmp_path):
    """deploy/systemd/switchboard.service as systemd reads it (directives, sandboxing options, the
    commands), with the binary this checkout builds in place of /usr/local/bin/switchboard."""
    import subprocess
    unit = (DEPLOY / "systemd" / "switchboard.service").read_text().replace("/usr/local/bin/switchboard", str(binary))
    assert "ProtectSystem=strict" in unit and "NoNewPrivileges=yes" in unit and "EnvironmentFile=" in unit
    (tmp_path / "switchboard.service").write_text(unit)
    checked = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "switchboard.service")], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
