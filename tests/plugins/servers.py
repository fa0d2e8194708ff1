"""The production server as a separate process, started for the tests that talk to it over real HTTP.

* `live_server`: `python -m haven.web.serve` (the production waitress entry point) on a free loopback port over
  the fixture release, started once per session; `live_server.url` is its base URL.
* `start_live_server(build_dir, **env)` starts another one (the W3C suite serves its own data); only a test
  marked `live` may (tests/plugins/tiers.py).
* `fake_serve`: stands in for haven.web.serve where the CLI would start it, and records its settings.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import types
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from plugins.tiers import require_marker

#: how long a server process may take to print its port and answer /healthz
STARTUP_DEADLINE_S = 60.0


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


@pytest.fixture
def fake_serve(monkeypatch):
    """Stands in for haven.web.serve (another module's job): records the settings it was started with."""
    calls = []
    module = types.ModuleType("haven.web.serve")
    module.run = calls.append
    monkeypatch.setitem(sys.modules, "haven.web.serve", module)
    return calls
