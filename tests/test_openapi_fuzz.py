"""Schemathesis (the published CLI, as docs/http.md tells anyone to run it) against the real server over
HTTP, from the server's own /openapi.json: every operation with generated parameters, headers and bodies
(valid ones, and invalid ones the server must refuse with a 4xx), through its examples, coverage, fuzzing
and stateful phases, and every answer checked against the description (status codes, media types, declared
headers, JSON schemas, the methods not described answering 405). A 5xx fails the run unless it is a
deliberate 503 with its reason (tests/plugins/schemathesis_hooks.py); tests/schemathesis.toml names the
operations whose inputs no JSON Schema can state exactly.

The default (CI) profile keeps a fixed number of examples per operation and a fixed seed, so every run sends
the same cases; ``HAVEN_OPENAPI_FUZZ=long`` runs many more, with a seed of its own each run (printed).
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from plugins.figures import report_line
from plugins.servers import start_live_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
#: examples per operation and generation mode
PROFILES = {"ci": 15, "long": 300}
PROFILE = os.environ.get("HAVEN_OPENAPI_FUZZ", "ci")
SEED = 1 if PROFILE == "ci" else random.randrange(1 << 31)
#: a short time limit, so that a generated query that runs long ends in the deliberate 503 soon
QUERY_TIMEOUT = 2.0


@pytest.fixture(params=["embedded", "oxigraph"])
def fuzzed_server(request, build_dir, tmp_path):
    """The fixture release served from the embedded store, and from an Oxigraph server (`haven serve
    --store`, no build folder: everything comes through the remote store)."""
    if request.param == "embedded":
        server = start_live_server(build_dir, query_timeout=QUERY_TIMEOUT)
    else:
        store = request.getfixturevalue("oxigraph_server")
        server = start_live_server(tmp_path / "empty-build", store=store.query_url, query_timeout=QUERY_TIMEOUT)
    yield request.param, server
    server.stop()


def test_the_server_keeps_to_its_description(fuzzed_server, tmp_path, pytestconfig):
    backend, server = fuzzed_server
    report = tmp_path / "schemathesis.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(TESTS / "schemathesis.toml"), "run",
               server.url + "openapi.json", "--max-examples", str(PROFILES[PROFILE]), "--seed", str(SEED),
               "--workers", "1", "--continue-on-failure", "--request-timeout", str(QUERY_TIMEOUT + 10),
               "--report", "json", "--report-json-path", str(report), "--report-dir", str(tmp_path)]
    # from tests/, so that the config's hooks (plugins.schemathesis_hooks) import; its cache stays in tmp_path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    report_line(pytestconfig, f"Schemathesis ({PROFILE}, seed {SEED}, {backend} store): "
                              f"{cases['generated']} cases over "
                              f"{summary['operations']['tested']} operations, "
                              f"{cases['with_failures']} failing, {summary['running_time']:.0f} s")
    assert run.returncode == 0 and summary["complete"], run.stdout[-6000:] + run.stderr[-2000:]
    assert cases["generated"] > 0 and not summary["failures"] and not summary["errors"]
