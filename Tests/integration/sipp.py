"""Runs SIPp (sip-tester) scenarios from fixtures/sipp against the test Kamailio."""
import subprocess
from pathlib import Path

from conftest import DOMAIN, KAMAILIO_PORTS, PROFILE, ROOT_DIR
from stack.processes import state_dir

SCENARIOS = ROOT_DIR / "fixtures" / "sipp"


class SIPp:
    """One SIPp run (one call) in a directory of its own, with its messages traced for the asserts."""

    def __init__(self, scenario: str, port: int, fields: list[str] | None = None, user: str | None = None,
                 password: str | None = None, server: bool = False, timeout: int = 30, local_ip: str = "127.0.0.1",
                 pause_ms: int | None = None):
        """`pause_ms`: the length of the scenario's `<pause/>` (SIPp's -d)."""
        self.dir = state_dir(PROFILE, f"sipp-{scenario}-{port}")
        argv = ["sipp"] + ([] if server else [f"127.0.0.1:{KAMAILIO_PORTS['udp']}"])
        argv += ["-sf", str(SCENARIOS / f"{scenario}.xml"), "-i", local_ip, "-p", str(port), "-m", "1", "-nostdin",
                 "-timeout", f"{timeout}s", "-timeout_error", "-trace_msg", "-message_file", str(self.dir / "messages.log"),
                 "-trace_err", "-error_file", str(self.dir / "errors.log")]
        if fields is not None:
            csv = self.dir / "fields.csv"
            csv.write_text("SEQUENTIAL\n" + ";".join(fields + [DOMAIN]) + ";\n")
            argv += ["-inf", str(csv)]
        if user is not None:
            argv += ["-au", user, "-ap", password]
        if pause_ms is not None:
            argv += ["-d", str(pause_ms)]
        self.process = subprocess.Popen(argv, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, timeout: float = 40) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def messages(self) -> str:
        path = self.dir / "messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def explain(self) -> str:
        errors = self.dir / "errors.log"
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        return f"rc={self.process.returncode}\n{stderr}\n{errors.read_text() if errors.exists() else ''}\n{self.messages()[-3000:]}"

    def received_statuses(self) -> list[int]:
        """Status codes of the responses SIPp received, in order."""
        statuses = []
        blocks = self.messages().split("----------------------------------------------- ")
        for block in blocks:
            if " message received " in block.split("\n", 1)[0] + block[:300]:
                for line in block.splitlines():
                    if line.startswith("SIP/2.0 "):
                        statuses.append(int(line.split()[1]))
                        break
        return statuses


def run(scenario: str, port: int, fields: list[str], user: str | None = None, password: str | None = None,
        timeout: int = 30, local_ip: str = "127.0.0.1", pause_ms: int | None = None) -> SIPp:
    sipp = SIPp(scenario, port, fields, user, password, timeout=timeout, local_ip=local_ip, pause_ms=pause_ms)
    sipp.wait(timeout + 10)
    return sipp


def final_response(sipp: SIPp) -> list[str]:
    """The last response SIPp received, without the headers that differ per request (tags, nonces,
    Call-ID, CSeq, Via), to compare two refusals."""
    blocks = [b for b in sipp.messages().split("----------------------------------------------- ") if "message received" in b[:200]]
    lines = blocks[-1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("SIP/2.0 "))
    varying = ("via:", "from:", "to:", "call-id:", "cseq:", "www-authenticate:", "content-length:", "server:")
    shape = []
    for line in lines[start:]:
        if not line.strip():
            break
        lower = line.lower()
        if lower.startswith("www-authenticate:"):
            shape.append("www-authenticate: " + " ".join(sorted(part.split("=")[0].strip() for part in line.split(":", 1)[1].split(","))))
        elif not lower.startswith(varying):
            shape.append(line)
    return shape
