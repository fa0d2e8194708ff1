"""Store credentials (issue 14.16): never on the command line, never printed, never guessed, and a basic-auth
password never sent unencrypted to another machine without an explicit flag.

The store here is a small recording HTTP server on loopback: it answers the first query (ASK) and SELECTs,
refuses every write with 401, and keeps each request's Authorization header, so a test sees exactly which
account went where.
"""
from __future__ import annotations

import base64
import http.server
import json
import threading
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from haven.cli import main
from haven.config import Settings
from haven.publish import PublishError, publish
from haven.store.base import StoreError
from plugins.release import RELEASE_FIXTURE
from plugins.stores import free_port

SECRET = "s3cret-Pa55"
VIRTUOSO = "Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu"


class RecordingStore:
    def __init__(self, server_header: str = "test-store"):
        self.requests: list[tuple[str, str, str | None]] = []  # method, kind, Authorization
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method: str):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
                form = parse_qs(body) if self.headers.get("Content-Type", "").startswith("application/x-www") else {}
                kind = "query" if method == "GET" or "query" in form else "write"
                recorder.requests.append((method, kind, self.headers.get("Authorization")))
                if kind == "write":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="store"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                text = form.get("query", [""])[0]
                answer = {"head": {}, "boolean": True} if method == "GET" or text.lstrip().startswith("ASK") \
                    else {"head": {"vars": []}, "results": {"bindings": []}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Server", server_header)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def do_PUT(self):
                self._answer("PUT")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # shutdown() waits for the next poll: 0.5 s by default, at every teardown
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}/query"

    def accounts(self) -> set[str]:
        """The accounts sent, as user:password (basic) or 'digest:user'."""
        found = set()
        for _, _, header in self.requests:
            if header and header.startswith("Basic "):
                found.add(base64.b64decode(header[6:]).decode())
            elif header and header.startswith("Digest "):
                found.add("digest:" + header.split('username="', 1)[1].split('"', 1)[0])
        return found

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def store():
    recording = RecordingStore()
    yield recording
    recording.stop()


@pytest.fixture(autouse=True)
def no_account_in_the_environment(monkeypatch):
    monkeypatch.delenv("HAVEN_STORE_USER", raising=False)
    monkeypatch.delenv("HAVEN_STORE_PASSWORD", raising=False)


def publish_cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["publish", "--release", str(RELEASE_FIXTURE), *args], env=env,
                              catch_exceptions=False)


def test_a_password_on_the_command_line_is_refused_before_anything_is_sent(store):
    result = publish_cli("--to", store.url(), "--engine", "generic", "--user", "alice", "--password", SECRET)
    assert result.exit_code == 2
    assert "HAVEN_STORE_PASSWORD" in result.output and "--password-file" in result.output
    assert SECRET not in result.output
    assert store.requests == []


@pytest.mark.parametrize("how", ["file", "environment"])
def test_the_password_comes_from_a_file_or_the_environment(store, tmp_path, how):
    secret = tmp_path / "password"
    secret.write_text(SECRET + "\n")
    args = ("--password-file", str(secret)) if how == "file" else ()
    result = publish_cli("--to", store.url(), "--engine", "generic", "--user", "alice", *args,
                         env={"HAVEN_STORE_PASSWORD": SECRET} if how == "environment" else None)
    assert result.exit_code == 1  # the recording store refuses every write
    assert store.accounts() == {f"alice:{SECRET}"}
    assert "refused the credentials" in result.stderr and SECRET not in result.output


def test_credentials_in_the_url_are_used_and_never_printed(store):
    result = publish_cli("--to", store.url(f"alice:{SECRET}@"), "--engine", "generic")
    assert result.exit_code == 1
    assert store.accounts() == {f"alice:{SECRET}"}
    assert f"the store at {store.url()} refused the credentials" in result.stderr
    assert SECRET not in result.output and "alice" not in result.output


def test_unreachable_store_url_with_credentials_is_named_without_them():
    url = f"http://alice:{SECRET}@127.0.0.1:{free_port()}/query"
    result = publish_cli("--to", url, "--engine", "generic")
    assert result.exit_code == 1 and "cannot reach the store at http://127.0.0.1:" in result.stderr
    assert SECRET not in result.output


def test_basic_auth_over_plain_http_to_another_host_needs_an_explicit_flag(store):
    # the query endpoint is here; the update endpoint, where the password would go, is another machine
    with pytest.raises(PublishError, match="unencrypted to 192.0.2.1 over plain http.*--allow-plain-http-auth"):
        publish(RELEASE_FIXTURE, store.url(), engine="generic", update_url="http://192.0.2.1/update",
                user="alice", password=SECRET)
    assert store.accounts() == set() and [kind for _, kind, _ in store.requests] == ["query"]
    # loopback over http is this machine: allowed, and the password goes
    with pytest.raises(PublishError, match="refused the credentials"):
        publish(RELEASE_FIXTURE, store.url(), engine="generic", user="alice", password=SECRET)
    assert store.accounts() == {f"alice:{SECRET}"}


def test_a_virtuoso_store_gets_no_guessed_account():
    virtuoso = RecordingStore(server_header=VIRTUOSO)
    try:
        with pytest.raises(PublishError, match="Virtuoso, which takes writes only from an account.*HAVEN_STORE_USER"):
            publish(RELEASE_FIXTURE, virtuoso.url(), engine="auto")
        assert virtuoso.accounts() == set()
        assert [kind for _, kind, _ in virtuoso.requests] == ["query"]  # nothing was written, no account tried
    finally:
        virtuoso.stop()


def test_a_remote_store_url_with_credentials_uses_them_and_never_shows_them(store):
    from haven.store.remote import RemoteStore

    settings = Settings(store=store.url(f"alice:{SECRET}@"))
    with pytest.raises(StoreError) as raised:  # the recording store holds no release
        RemoteStore(settings.store, settings)
    assert SECRET not in str(raised.value) and store.url() in str(raised.value)
    assert store.accounts() == {f"alice:{SECRET}"}
    with pytest.raises(StoreError, match="unencrypted to 192.0.2.1"):
        RemoteStore(f"http://alice:{SECRET}@192.0.2.1/query", settings)


def test_serve_names_an_unreachable_store_without_its_credentials():
    url = f"http://alice:{SECRET}@127.0.0.1:{free_port()}/query"
    result = CliRunner().invoke(main, ["serve", "--store", url], catch_exceptions=False)
    assert result.exit_code == 1 and "cannot open the store http://***@127.0.0.1:" in result.output
    assert SECRET not in result.output
