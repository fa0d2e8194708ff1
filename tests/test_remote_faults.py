"""Faults of a remote store are part of the contract: a clear refusal to start, a fast 503 while it is gone,
and recovery by itself when it returns. Each test runs the production server (`haven serve`, waitress) as a
process against its own Oxigraph server, which the test kills and restarts."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse

import pytest

from plugins.figures import report_line
from plugins.release import fixture_triples
from plugins.servers import start_live_server
from plugins.stores import free_port, load_release, start_oxigraph_server

#: a lost store must be reported well within this (a refused connection is immediate)
FAST_503_S = 2.0
#: the pointer is re-read at least once a second, so a returning store is used again within this
RECOVERY_S = 10.0

pytestmark = pytest.mark.live  # every test starts `haven serve`, most an Oxigraph server too


def _serve_exit(build_dir, store_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env["HAVEN_BUILD_DIR"] = str(build_dir)
    return subprocess.run([sys.executable, "-m", "haven.cli", "serve", "--store", store_url, "--port", "0"],
                          env=env, capture_output=True, text=True, timeout=60)


def test_serve_with_unreachable_store_exits_with_message(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/query"
    started = time.monotonic()
    done = _serve_exit(tmp_path / "no-local-build", url)  # a remote store needs no local release
    assert done.returncode != 0
    assert "building first" not in done.stderr
    assert "cannot open the store" in done.stderr and "unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


def test_serve_with_store_holding_no_release_exits_with_message(build_dir, tmp_path):
    server = start_oxigraph_server(tmp_path)
    try:
        done = _serve_exit(build_dir, server.query_url)
    finally:
        server.stop()
    assert done.returncode != 0
    assert "no published Haven release" in done.stderr and "Traceback" not in done.stderr


def _status(server, path: str, accept: str) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        with server.get(path, headers={"Accept": accept}, timeout=30) as response:
            body = response.read().decode("utf-8", "replace")
            return response.status, body, time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), time.monotonic() - started


def test_store_lost_while_serving_gives_fast_503_then_recovers(build_dir, release_dir, tmp_path, request):
    store = start_oxigraph_server(tmp_path)
    load_release(release_dir, store)
    haven = start_live_server(build_dir, store=store.query_url)
    query = "/sparql?" + urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    json_results = "application/sparql-results+json"
    try:
        status, body, _ = _status(haven, query, json_results)
        assert status == 200 and f'"{fixture_triples()}"' in body

        store.kill()
        time.sleep(1.1)  # past the pointer's one-second life, so the loss must be noticed, not cached
        for path, accept in ((query, json_results), ("/data/osama-bin-laden.ttl", "text/turtle"),
                             ("/page/taliban", "text/html")):
            status, body, elapsed = _status(haven, path, accept)
            assert status == 503, (path, status, body)
            assert body.strip(), "a 503 says what happened"
            assert elapsed < FAST_503_S, (path, elapsed)
        report_line(request.config, f"remote store lost: /sparql answered 503 in {elapsed * 1000:.0f} ms")
        status, _, _ = _status(haven, "/healthz", "application/json")
        assert status == 503  # a health check must not report a server that cannot answer as healthy

        store.start()  # same folder, same port
        deadline = time.monotonic() + RECOVERY_S
        while True:
            status, body, _ = _status(haven, query, json_results)
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 200 and f'"{fixture_triples()}"' in body
        assert _status(haven, "/page/taliban", "text/html")[0] == 200
        assert haven.process.poll() is None, "the server stayed up throughout"
    finally:
        haven.stop()
        store.stop()


def test_remote_answers_never_hang_on_a_silent_store(build_dir, release_dir, tmp_path):
    """A store that accepts the connection but never answers: the query timeout applies, then 503."""
    import socket

    from haven.config import Settings
    from haven.store.base import QueryTimeout
    from haven.store.remote import RemoteStore

    store = start_oxigraph_server(tmp_path)
    load_release(release_dir, store)
    remote = RemoteStore(store.query_url, Settings(build_dir=build_dir, query_timeout=0.5))
    store.stop()
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port the store just left
    silent.bind(("127.0.0.1", store.port))
    silent.listen(8)  # accepts (the kernel completes the handshake) and never sends a byte
    try:
        remote._pointer = (time.monotonic(), remote._pointer[1])  # the pointer is fresh: the query itself waits
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            remote.execute("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json", timeout=0.5)
        assert time.monotonic() - started < 0.5 + 2.0 + 1.0
    finally:
        silent.close()


def test_published_switch_is_seen_within_a_second_and_pinned_per_request(build_dir, release_dir, tmp_path):
    """A publish moves the pointer: the server follows within the pointer's life, and never mixes releases
    inside one request (the web layer works on the store's view pinned when the request first asked)."""
    import hashlib
    import json
    import shutil

    from haven.web.app import create_app
    from haven.config import Settings
    from haven.store.remote import RemoteStore
    from haven.web.current import current_store

    store = start_oxigraph_server(tmp_path / "store")
    load_release(release_dir, store)
    second = tmp_path / "second"
    shutil.copytree(release_dir, second)
    lines = (second / "haven.nq").read_text("utf-8").splitlines(keepends=True)
    dropped = next(line for line in lines if "graph/data>" in line and "prefLabel" in line)
    (second / "haven.nq").write_text("".join(line for line in lines if line != dropped), "utf-8")
    manifest = json.loads((second / "manifest.json").read_text())
    manifest.update(id="test-fixture-0002", triples=manifest["triples"] - 1)
    manifest["graphs"][f"{manifest['base']}graph/data"] -= 1
    manifest["sha256"]["haven.nq"] = hashlib.sha256((second / "haven.nq").read_bytes()).hexdigest()
    (second / "manifest.json").write_text(json.dumps(manifest))

    remote = RemoteStore(store.query_url, Settings(build_dir=build_dir))
    app = create_app(Settings(build_dir=build_dir, store=store.query_url), store=remote)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    try:
        assert remote.release_id == "test-fixture-0001"
        with app.test_request_context("/"):
            view = current_store()  # the store's pinned view, taken once per request (Store.pinned)
            load_release(second, store)
            time.sleep(1.1)
            assert current_store() is view and view.release_id == "test-fixture-0001", "one request, one release"
            assert int(view.rows(count)[0]["n"]) == fixture_triples()
        assert remote.release_id == "test-fixture-0002"
        assert int(remote.rows(count)[0]["n"]) == fixture_triples() - 1
        assert remote.manifest["triples"] == fixture_triples() - 1
    finally:
        store.stop()
