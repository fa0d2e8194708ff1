"""Real SPARQL stores for the tests: an Oxigraph server started here, and a release loaded into it.

`oxigraph_server` (fixture): one Oxigraph server per session with the fixture release published into it;
`.query_url` is what `haven serve --store` takes. Starting one needs the `live` marker.

`start_oxigraph(tmp_path)` runs ``oxigraph serve`` on a free loopback port and returns once it answers;
`OxigraphServer.restart()` brings it back on the same folder and port (the fault tests kill it).
`load_release(release_dir, server)` publishes a build into it with Haven's own publisher when that exists,
else straight through the Graph Store Protocol following `haven.store.releases` (the same layout).
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from haven.config import DEFAULT_QUERY_TIMEOUT
from haven.store import releases
from plugins.tiers import require_marker

#: how long an Oxigraph server may take to open its folder and answer
READY_DEADLINE_S = 30.0


def oxigraph_command() -> str:
    """The `oxigraph` CLI of this interpreter's environment (PyPI package `oxigraph`), else the PATH's."""
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the `oxigraph` command is missing: pip install oxigraph (it is in the test extras)")
    return found


#: the store's own query time limit, Haven's default one: every store the tests start has one (docs/stores.md;
#: Oxigraph 0.5.13 accepts it but does not apply it to a running evaluation, which Haven warns about)
STORE_QUERY_TIMEOUT_S = DEFAULT_QUERY_TIMEOUT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OxigraphServer:
    location: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server root; its SPARQL endpoints are /query, /update and /store (Graph Store Protocol)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_url(self) -> str:
        return f"{self.url}/query"

    @property
    def update_url(self) -> str:
        return f"{self.url}/update"

    def start(self) -> "OxigraphServer":
        require_marker("live", "starts an Oxigraph server")
        self.process = subprocess.Popen(
            [oxigraph_command(), "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}",
             "--timeout-s", str(int(STORE_QUERY_TIMEOUT_S))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + READY_DEADLINE_S
        delay = 0.01
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph exited with {self.process.returncode}: "
                                   f"{self.process.stderr.read().decode(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"oxigraph did not answer on {self.url} within {READY_DEADLINE_S} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.query_url}?query=ASK%7B%7D", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """Lose the store abruptly, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()

    def restart(self) -> "OxigraphServer":
        self.stop()
        return self.start()

    def update(self, text: str) -> None:
        request = urllib.request.Request(self.update_url, data=text.encode("utf-8"),
                                         headers={"Content-Type": "application/sparql-update"})
        with urllib.request.urlopen(request, timeout=30):
            pass

    def select(self, text: str) -> list[dict[str, str]]:
        request = urllib.request.Request(self.query_url, data=text.encode("utf-8"), headers={
            "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            doc = json.load(response)
        return [{k: v["value"] for k, v in row.items()} for row in doc["results"]["bindings"]]

    def quad_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
        return int(rows[0]["n"])


def start_oxigraph(tmp_path: Path) -> tuple[str, subprocess.Popen]:
    """`oxigraph serve` on a free loopback port over a folder in `tmp_path`: (root URL, process)."""
    server = start_oxigraph_server(tmp_path)
    return server.url, server.process


def start_oxigraph_server(tmp_path: Path) -> OxigraphServer:
    location = Path(tmp_path) / "oxigraph"
    location.mkdir(parents=True, exist_ok=True)
    last_error = None
    for _ in range(3):  # another process may take the free port between our probe and oxigraph's bind
        try:
            return OxigraphServer(location, free_port()).start()
        except RuntimeError as error:
            last_error = error
    raise last_error


def load_release(release_dir: Path, server: OxigraphServer) -> str:
    """Publish the build in `release_dir` into `server`; returns its release id."""
    manifest = json.loads((Path(release_dir) / "manifest.json").read_text("utf-8"))
    if importlib.util.find_spec("haven.publish") is not None:
        from haven.publish import publish

        publish(Path(release_dir), server.url)
        return manifest["id"]
    return _load_by_graph_store_protocol(release_dir, manifest, server)


def _load_by_graph_store_protocol(release_dir: Path, manifest: dict, server: OxigraphServer) -> str:
    base, release_id = manifest["base"], manifest["id"]
    target = releases.graph_mapping(base, release_id)
    by_graph: dict[str, list] = defaultdict(list)
    for quad in ox.parse(path=str(Path(release_dir) / "haven.nq"), format=ox.RdfFormat.N_QUADS):
        by_graph[target[quad.graph_name.value]].append(ox.Triple(quad.subject, quad.predicate, quad.object))
    for graph, triples in by_graph.items():
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        request = urllib.request.Request(
            f"{server.url}/store?graph={urllib.parse.quote(graph, safe='')}", data=body, method="PUT",
            headers={"Content-Type": "application/n-triples"})
        with urllib.request.urlopen(request, timeout=60):
            pass
    server.update(releases.record_release_update(base, manifest))
    old = releases.current_release(server.select, base)
    server.update(releases.switch_update(base, old, release_id))
    return release_id


def publish_to(release_dir: Path, url: str) -> None:
    """Publish with Haven's publisher into any store (Virtuoso: as HAVEN_STORE_USER / HAVEN_STORE_PASSWORD, which
    `make test-virtuoso` sets to the throw-away database's account)."""
    from haven.publish import publish

    publish(Path(release_dir), url)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory, release_dir):
    server = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
    load_release(release_dir, server)
    yield server
    server.stop()
