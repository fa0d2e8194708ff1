"""`haven serve` replicas behind nginx, started by scripts/replicas.sh as an operator would (fixture
`replicas`: two replicas of the fixture release and an nginx in a temporary prefix; only for `live` tests)."""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from plugins.release import RELEASE_FIXTURE, make_build_dir
from plugins.tiers import require_marker

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "replicas.sh"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache-Status")


@dataclass
class ReplicaSet:
    state_dir: Path
    nginx_url: str
    replica_urls: list[str]
    replica_pids: list[int]

    def request(self, path: str, headers: dict | None = None, method: str = "GET") -> Answer:
        parts = urlsplit(self.nginx_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        started = time.monotonic()
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return Answer(response.status, response.headers, body, time.monotonic() - started)

    def access_log(self) -> list[str]:
        return (self.state_dir / "nginx-access.log").read_text().splitlines()

    def stop_replica(self, index: int) -> None:
        """SIGTERM, as a service manager stops it, and wait until the process is gone."""
        pid = self.replica_pids[index]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid):
            assert time.monotonic() < deadline, f"replica {pid} ignored SIGTERM"
            time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a stopped replica of this test is our grandchild: it is gone once it is no longer running
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def start_replicas(build: Path) -> ReplicaSet:
    require_marker("live", "starts replicas behind nginx")
    done = subprocess.run([str(SCRIPT), "start", "-n", "2", "-b", str(build)], capture_output=True, text=True,
                          timeout=90)
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return ReplicaSet(
        state_dir=Path(values["STATE_DIR"]),
        nginx_url=values["NGINX_URL"],
        replica_urls=[values["REPLICA_1_URL"], values["REPLICA_2_URL"]],
        replica_pids=[int(values["REPLICA_1_PID"]), int(values["REPLICA_2_PID"])],
    )


@pytest.fixture
def replicas(tmp_path):
    replica_set = start_replicas(make_build_dir(tmp_path, RELEASE_FIXTURE))
    yield replica_set
    subprocess.run([str(SCRIPT), "stop", str(replica_set.state_dir)], check=True, timeout=60)
    assert not replica_set.state_dir.exists()
    assert not any(alive(pid) for pid in replica_set.replica_pids)
