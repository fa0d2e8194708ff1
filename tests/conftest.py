"""Shared fixtures: the tiny release, apps on it, and the real server as a separate process.

Tiers (tests/plugins/tiers.py): a test with none of the markers `live`, `browser`, `slow` is in the fast tier
(`make test-fast`: unit and Flask test-client tests, each under ~2 s); a test that starts a server process,
nginx, an Oxigraph server or Chromium must be marked `live`/`browser` (the helpers below refuse otherwise),
and one that takes longer in-process `slow`. `make test` runs everything.

* `release_dir` / `build_dir`: the hand-made release in tests/resources/release, exposed as `build/current`.
* `make_app(**settings)`: a fresh app per test (flaskr style) over ONE store loaded once per session, so that
  tests can change limits without reloading data or restarting query workers. `app` and `client` use the
  defaults.
* `live_server`: `python -m haven.web.serve` (the production waitress entry point) on a free loopback port,
  started once per session; `live_server.url` is its base URL. `start_live_server(build_dir, **env)` starts
  another one (the W3C suite serves its own data).
* `oxigraph_server`: a real Oxigraph server (`tests/backends.py`) started once per session, with the tiny
  release published into it; `.query_url` is what `haven serve --store` takes.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from haven.web.app import create_app
from haven.config import Settings
from haven.store.embedded import EmbeddedStore
from plugins.tiers import require_marker

pytest_plugins = ["plugins.tiers"]

RESOURCES = Path(__file__).parent / "resources"
RELEASE_FIXTURE = RESOURCES / "release"
#: how long a server process may take to print its port and answer /healthz
STARTUP_DEADLINE_S = 60.0


@pytest.fixture(scope="session")
def release_dir() -> Path:
    return RELEASE_FIXTURE


def make_build_dir(parent: Path, release: Path) -> Path:
    """A build folder whose `current` points at `release`, as `haven build` leaves it."""
    build = parent / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "current").symlink_to(release.resolve(), target_is_directory=True)
    return build


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory, release_dir) -> Path:
    return make_build_dir(tmp_path_factory.mktemp("haven"), release_dir)


@pytest.fixture(scope="session")
def shared_store(release_dir):
    store = EmbeddedStore(release_dir, workers=4)
    yield store
    store.close()


@pytest.fixture
def make_app(build_dir, shared_store):
    """make_app(result_limit=2, ...) → a new app on the shared store with those settings."""

    def factory(**overrides):
        settings = Settings(build_dir=build_dir).with_overrides(**overrides)
        app = create_app(settings, store=shared_store)
        app.config["TESTING"] = True
        return app

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen

    def get(self, path: str, headers: dict | None = None, timeout: float = 30.0):
        req = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        return urllib.request.urlopen(req, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


def start_live_server(build: Path, stderr=None, **env_overrides) -> LiveServer:
    """Run the production entry point as a real process on a port the OS picks; wait until it is healthy.
    `stderr` (a file) receives the server's log; by default it goes to the test run's own stderr."""
    require_marker("live", "starts a server process")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update({"HAVEN_BUILD_DIR": str(build), "HAVEN_HOST": "127.0.0.1", "HAVEN_PORT": "0"})
    env.update({f"HAVEN_{k.upper()}": str(v) for k, v in env_overrides.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "haven.web.serve"], stdout=subprocess.PIPE, stderr=stderr, env=env, bufsize=0
    )
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    try:
        url = _read_serving_url(process, deadline)
        server = LiveServer(url=url, process=process)
        _wait_healthy(server, deadline)
    except Exception:
        process.kill()
        process.wait()
        raise
    return server


def _read_serving_url(process: subprocess.Popen, deadline: float) -> str:
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise RuntimeError(f"server did not start (exit code {process.poll()}, output {line!r})")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                continue
            line += chunk
    words = line.decode().split()
    assert words[:2] == ["Serving", "on"], line
    return words[2]


def _wait_healthy(server: LiveServer, deadline: float) -> None:
    delay = 0.01
    while True:
        try:
            with server.get("/healthz", timeout=5) as response:
                if response.status == 200 and json.load(response)["status"] == "ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server never answered /healthz")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


@pytest.fixture(scope="session")
def live_server(build_dir):
    server = start_live_server(build_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory, release_dir):
    from backends import load_release, start_oxigraph_server

    server = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
    load_release(release_dir, server)
    yield server
    server.stop()


# -- figures the tests measure, printed at the end of the run ----------------------------------------------

def report_line(config, line: str) -> None:
    """Queue a line for the end-of-run summary (a figure or count a test measured)."""
    config.stash.setdefault(_REPORT_KEY, []).append(line)


_REPORT_KEY = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_REPORT_KEY, [])
    if lines:
        terminalreporter.section("Haven server figures")
        for line in lines:
            terminalreporter.write_line(line)
