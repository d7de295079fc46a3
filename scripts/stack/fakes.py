"""The local stand-ins for APNs and FCM (fixtures/fakes), started like the other daemons: used by the
integration tests and by the development stack, so a developer sees pushes arrive locally."""
import json
import subprocess
import sys
import time
from pathlib import Path

from .processes import ROOT, Daemon, state_dir, wait_for_port


class RecordingFake:
    """What both fakes share: a TLS port on loopback, a JSON-lines record of what they received, and
    a JSON file of per-token answers they read on every request."""

    def __init__(self, profile: str, name: str, port: int, record: str, hostname: str = "127.0.0.1"):
        """`hostname`: the name clients reach the fake by (its URL); another than 127.0.0.1 when it
        runs in a container of the compose test."""
        self.PORT, self.hostname = port, hostname
        self.dir = state_dir(profile, name)
        self.record, self.answers = self.dir / record, self.dir / "answers.json"
        self.record.write_text("")
        self.answers.write_text("{}")

    @property
    def url(self) -> str:
        return f"https://{self.hostname}:{self.PORT}"

    def received(self) -> list[dict]:
        # The fake may be appending as we read: a last line without its newline is not whole yet.
        text = self.record.read_text()
        lines = text.split("\n")
        return [json.loads(line) for line in lines[:-1] if line]

    def switch(self, name: str) -> Path:
        """The file by which a test tells the running fake to misbehave (its `<record>.<name>`)."""
        return Path(f"{self.record}.{name}")

    def set_answer(self, token: str, answer: dict) -> None:
        answers = json.loads(self.answers.read_text())
        answers[token] = answer
        self.answers.write_text(json.dumps(answers))


class FakeAPNs(RecordingFake):
    """fixtures/fakes/fake_apns.py with a fresh .p8-style key and a self-signed TLS certificate."""
    KEY_ID, TEAM_ID = "ABC123DEFG", "DEF123ABCG"

    def __init__(self, profile: str, port: int, hostname: str = "127.0.0.1", tls_names: tuple[str, ...] = (), launch: bool = True):
        """`tls_names`: more DNS names for the certificate (the fake FCM's, in containers); `launch`:
        start it here (else a container runs ``argv``)."""
        super().__init__(profile, "fake-apns", port, "pushes.jsonl", hostname)
        self.key_file, self.public_key = self.dir / "AuthKey.p8", self.dir / "AuthKey.pub"
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(self.key_file)], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", str(self.key_file), "-pubout", "-out", str(self.public_key)], check=True, capture_output=True)
        self.cert, self.tls_key = self.dir / "cert.pem", self.dir / "tls-key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=" + ",".join(["IP:127.0.0.1", "DNS:localhost"] + [f"DNS:{n}" for n in (hostname, *tls_names) if n != "127.0.0.1"]),
                        "-keyout", str(self.tls_key), "-out", str(self.cert)],
                       check=True, capture_output=True)
        if launch:
            self.start()

    def argv(self, python: str = sys.executable, listen: str = "127.0.0.1") -> list[str]:
        return [python, str(ROOT / "fixtures" / "fakes" / "fake_apns.py"), "--host", listen, "--port", str(self.PORT), "--cert", str(self.cert),
                "--key", str(self.tls_key), "--public-key", str(self.public_key), "--key-id", self.KEY_ID,
                "--team-id", self.TEAM_ID, "--record", str(self.record), "--answers", str(self.answers)]

    def start(self) -> None:
        """(Re)starts the fake with the same key, certificate and records."""
        self.daemon = Daemon("fake-apns", self.argv(), self.dir / "fake-apns.log")
        wait_for_port(self.PORT, process=self.daemon)

    def pushes(self) -> list[dict]:
        return self.received()

    def goaway_after_next(self) -> None:
        """The next request is answered, then its connection gets GOAWAY and is closed."""
        self.switch("goaway").touch()

    def goaway_sent(self) -> bool:
        return not self.switch("goaway").exists()

    def silence_open_connections(self) -> None:
        """Every connection open now stops answering (requests read, never answered nor recorded);
        connections opened later are answered as usual."""
        self.switch("silent").write_text(str(time.time()))

    def stop_silencing(self) -> None:
        self.switch("silent").unlink(missing_ok=True)

    def report_call(self, push: dict) -> None:
        """What the app does with a VoIP push: report it to CallKit as a new incoming call. Only a
        call push still inside its ring window can be reported (anything else is left unreported)."""
        payload = push["payload"]
        if payload.get("type") == "call" and payload.get("deadline", 0) >= push["received"]:
            with open(self.switch("reported"), "a") as f:
                f.write(push["headers"]["apns-id"] + "\n")

    def violations(self, token: str) -> list[str]:
        """Apple's VoIP rules broken for `token`: pushes the fake refused or flagged, and VoIP pushes
        that no test app reported as a call (iOS would kill such an app and throttle its pushes)."""
        path = self.switch("reported")
        reported = set(path.read_text().split()) if path.exists() else set()
        found = []
        for push in self.pushes():
            if push["token"] != token:
                continue
            if "violation" in push:
                found.append(push["violation"])
            elif push["headers"]["apns-push-type"] == "voip" and push["headers"].get("apns-id") not in reported:
                found.append(f"VoIP push {push['headers'].get('apns-id')} never reported as a call")
        return found

    def slow_down(self, seconds: float) -> None:
        """Every request from now on is answered `seconds` after it arrived (recorded on arrival)."""
        self.switch("slow").write_text(str(seconds))

    def stop_slowing(self) -> None:
        self.switch("slow").unlink(missing_ok=True)

    def expire_provider_tokens(self) -> None:
        """Every provider token issued up to now is answered 403 ExpiredProviderToken from now on."""
        self.switch("expire").write_text(str(time.time()))

    def answer(self, token: str, status: int, reason: str, **extra) -> None:
        self.set_answer(token, {"status": status, "reason": reason, **extra})

    def environment(self) -> dict[str, str]:
        return {"APNS_KEY_FILE": str(self.key_file), "APNS_KEY_ID": self.KEY_ID, "APNS_TEAM_ID": self.TEAM_ID,
                # The two APNs hosts as two names of the fake, so a test can tell which one a push used.
                "APNS_URL": self.url, "APNS_SANDBOX_URL": self.url.replace("127.0.0.1", "localhost"), "PUSH_CA_FILE": str(self.cert)}


class FakeFCM(RecordingFake):
    """fixtures/fakes/fake_fcm.py with a fresh service account (RSA key) and the fake APNs' certificate."""
    PROJECT, EMAIL = "switchboard-test", "push@switchboard-test.iam.gserviceaccount.com"

    def __init__(self, profile: str, port: int, tls: "FakeAPNs", hostname: str = "127.0.0.1", launch: bool = True):
        super().__init__(profile, "fake-fcm", port, "messages.jsonl", hostname)
        self.tls = tls
        key, public = self.dir / "sa-key.pem", self.dir / "sa-pub.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(public)], check=True, capture_output=True)
        self.service_account = self.dir / "service-account.json"
        # Shaped as Google issues it: pretty-printed, the usual fields, a PKCS#8 RSA key with "\n" escapes.
        self.service_account.write_text(json.dumps({
            "type": "service_account", "project_id": self.PROJECT, "private_key_id": "4f1c0e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
            "private_key": key.read_text(), "client_email": self.EMAIL, "client_id": "104729385610293847561",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": f"{self.url}/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{self.EMAIL.replace('@', '%40')}",
            "universe_domain": "googleapis.com"}, indent=2) + "\n")
        self.public_key = public
        if launch:
            self.daemon = Daemon("fake-fcm", self.argv(), self.dir / "fake-fcm.log")
            wait_for_port(self.PORT, process=self.daemon)

    def argv(self, python: str = sys.executable, listen: str = "127.0.0.1") -> list[str]:
        return [python, str(ROOT / "fixtures" / "fakes" / "fake_fcm.py"), "--host", listen, "--name", self.hostname, "--port", str(self.PORT),
                "--cert", str(self.tls.cert), "--key", str(self.tls.tls_key), "--public-key", str(self.public_key),
                "--client-email", self.EMAIL, "--project", self.PROJECT, "--record", str(self.record), "--answers", str(self.answers)]

    def messages(self) -> list[dict]:
        return self.received()

    def tokens_issued(self) -> int:
        path = Path(str(self.record) + ".tokens")
        return len(path.read_text().splitlines()) if path.exists() else 0

    def revoke_tokens(self) -> None:
        """Every access token issued so far is refused (401 UNAUTHENTICATED) from the next message on."""
        self.switch("revoke").touch()

    def answer(self, token: str, status: int, error_code: str, retry_after: str | None = None) -> None:
        self.set_answer(token, {"status": status, "errorCode": error_code, **({"retryAfter": retry_after} if retry_after else {})})

    def environment(self) -> dict[str, str]:
        return {"FCM_SERVICE_ACCOUNT_FILE": str(self.service_account), "FCM_URL": self.url}
