"""Triple Pattern Fragments beside /sparql: each competency question asked through a real TPF client
(Comunica, tests/clients/) against `/fragments`, and through `/sparql`, on the same server and release.

    PYTHONPATH=server .venv/bin/python bench/tpf.py [--build-dir build] [--remote] [--url http://host:port/]

Starts `python -m haven.web.serve` on the build's current release (the embedded store), or with `--remote`
an Oxigraph server with that release published into it and Haven serving from it; `--url` measures a server
that is already running instead. Prints, per question, the rows, the HTTP requests the TPF client made and
its wall time (a fresh client process each time, so its start-up is included; the table says how long an
empty query takes), the same requests replayed one by one by a plain HTTP client (the server's share, pages
cached), /sparql's time, and whether both answers are the same multiset.
The tests (tests/test_fragments_client.py) use the same functions to check the answers.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from haven.iris import FRAGMENTS_PATH, METRICS_PATH, SPARQL_PATH

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "ontology" / "competency-questions"
COMUNICA = ROOT / "tests" / "clients" / "node_modules" / ".bin" / "comunica-sparql"
RESULTS_JSON = "application/sparql-results+json"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: a question Comunica takes longer than this to answer is reported as a failure, not waited for
CLIENT_TIMEOUT_S = 600
_REQUEST_LINE = re.compile(r"INFO: Requesting (\S+)")
_FRAGMENT_COUNT = re.compile(r'^haven_http_requests_total\{(?=[^}]*route="/' + FRAGMENTS_PATH + r'")'
                             r'(?=[^}]*status="(?P<status>\d+)")[^}]*\} (?P<count>\S+)$', re.MULTILINE)


@dataclass
class Answer:
    variables: list[str]
    rows: Counter
    seconds: float
    #: the URLs the answer took (the one /sparql request for /sparql)
    urls: list[str]

    @property
    def requests(self) -> int:
        return len(self.urls)


def comunica_command() -> Path:
    if not COMUNICA.exists():
        raise SystemExit(f"{COMUNICA} is missing: run `make install-test-clients` (npm ci in tests/clients)")
    return COMUNICA


def ask_fragments(fragments_url: str, query: str, timeout: float = CLIENT_TIMEOUT_S) -> Answer:
    """`query` answered by Comunica over the TPF interface at `fragments_url` (it finds the Hydra controls
    on the first page), with the requests it made counted from its log."""
    started = time.perf_counter()
    done = subprocess.run([str(comunica_command()), fragments_url, "-q", query, "-t", RESULTS_JSON, "-l", "info"],
                          capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"comunica-sparql failed ({done.returncode}): {done.stderr[-2000:]}")
    fetched = [url for url in _REQUEST_LINE.findall(done.stderr) if url.startswith(fragments_url)]
    try:
        variables, rows = parse_results(done.stdout)
    except json.JSONDecodeError:
        # comunica-sparql leaves by letting node's event loop drain: when its iterators stall with nothing
        # left to wait for, it exits 0 half-way through the answer (Comunica 4 on some property paths,
        # comunica/comunica#1553 and #1554: CQ5 and CQ17 here)
        notes = [line for line in done.stderr.splitlines() if "INFO:" not in line][-10:]
        raise ClientStalled(f"comunica-sparql exited 0 after {len(fetched)} requests and {seconds:.0f} s with an "
                            f"unfinished answer: {done.stdout[-300:]!r}; its last warnings: {notes}") from None
    return Answer(variables, rows, seconds, fetched)


class ClientStalled(RuntimeError):
    """The TPF client stopped without finishing its answer, and without an error."""


def fragment_statuses(server_url: str) -> Counter:
    """How many `/fragments` requests the server at `server_url` has answered, by HTTP status (its
    /metrics, readable from loopback): what a client's failure can be checked against."""
    with urllib.request.urlopen(server_url + METRICS_PATH, timeout=30) as response:
        text = response.read().decode("utf-8")
    statuses = Counter()
    for match in _FRAGMENT_COUNT.finditer(text):
        statuses[int(match["status"])] += int(float(match["count"]))
    return statuses


def replay(urls: list[str], accept: str = "application/n-quads") -> float:
    """Seconds to fetch `urls` one after the other with a plain HTTP client: the server's share of a TPF
    answer without the client's start-up and planning (the pages are in the release cache by then)."""
    started = time.perf_counter()
    for url in urls:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=60) as response:
            response.read()
    return time.perf_counter() - started


def ask_sparql(sparql_url: str, query: str, timeout: float = 60) -> Answer:
    started = time.perf_counter()
    request = urllib.request.Request(sparql_url, data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": RESULTS_JSON,
                                              "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read().decode("utf-8")
    seconds = time.perf_counter() - started
    variables, rows = parse_results(body)
    return Answer(variables, rows, seconds, [sparql_url])


def parse_results(text: str) -> tuple[list[str], Counter]:
    """SPARQL JSON results as (variables, multiset of rows); a row is a tuple of terms in variable order,
    a plain literal the same whether or not xsd:string is written."""
    doc = json.loads(text)
    if "boolean" in doc:
        return [], Counter({("boolean", bool(doc["boolean"])): 1})
    variables = doc["head"].get("vars", [])
    rows = Counter()
    for binding in doc["results"]["bindings"]:
        rows[tuple(_term(binding.get(name)) for name in variables)] += 1
    return variables, rows


def _term(value: dict | None):
    if value is None:
        return None
    kind = "literal" if value["type"] in ("literal", "typed-literal") else value["type"]
    datatype = value.get("datatype")
    return kind, value["value"], None if datatype == XSD_STRING else datatype, value.get("xml:lang")


def questions() -> list[Path]:
    return sorted(QUESTIONS.glob("*.rq"))


def compare(server_url: str, question: Path | str, timeout: float = CLIENT_TIMEOUT_S) -> tuple[Answer, Answer]:
    """`question` (a file of the competency questions, or a query's text) over TPF and over /sparql."""
    text = question if isinstance(question, str) else question.read_text(encoding="utf-8")
    return ask_fragments(server_url + FRAGMENTS_PATH, text, timeout), ask_sparql(server_url + SPARQL_PATH, text)


# -- the command ------------------------------------------------------------------------------------------

def _serve(build_dir: Path, **env_overrides) -> tuple[str, subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update({"HAVEN_BUILD_DIR": str(build_dir), "HAVEN_HOST": "127.0.0.1", "HAVEN_PORT": "0",
                "PYTHONPATH": str(ROOT / "server")})
    env.update({f"HAVEN_{k.upper()}": str(v) for k, v in env_overrides.items()})
    # the server's log (waitress's queue warnings while the client fetches pages in parallel) is kept apart
    log = tempfile.NamedTemporaryFile(prefix="haven-tpf-server-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "haven.web.serve"], stdout=subprocess.PIPE, stderr=log, env=env)
    words = process.stdout.readline().decode().split()
    if words[:2] != ["Serving", "on"]:
        process.kill()
        raise SystemExit(f"the server did not start: {words}")
    url = words[2]
    deadline = time.monotonic() + 120
    while True:  # the query workers load in the background: wait until /sparql answers
        try:
            ask_sparql(url + SPARQL_PATH, "ASK {}")
            return url, process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)


def _oxigraph_with(build_dir: Path, folder: Path) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT / "tests"))
    from plugins.stores import load_release, start_oxigraph_server  # the tests' own Oxigraph harness

    server = start_oxigraph_server(folder)
    load_release((build_dir / "current").resolve(), server)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--remote", action="store_true", help="serve from an Oxigraph server (published build)")
    parser.add_argument("--url", help="measure this running Haven server instead of starting one")
    parser.add_argument("--timeout", type=float, default=CLIENT_TIMEOUT_S,
                        help="seconds the TPF client may take per question (default %(default)s)")
    args = parser.parse_args(argv)
    started = []
    try:
        if args.url:
            url = args.url.rstrip("/") + "/"
        elif args.remote:
            oxigraph = _oxigraph_with(args.build_dir, Path(tempfile.mkdtemp(prefix="haven-tpf-")))
            started.append(oxigraph)
            url, process = _serve(args.build_dir, store=oxigraph.query_url)
            started.append(process)
        else:
            url, process = _serve(args.build_dir)
            started.append(process)
        idle = ask_fragments(url + FRAGMENTS_PATH, "ASK {}")
        print(f"server {url} ({'remote Oxigraph store' if args.remote else 'embedded store' if not args.url else 'given'}); "
              f"Comunica answering `ASK {{}}` (start-up, first page): {idle.seconds:.2f} s, {idle.requests} request(s)")
        print(f"{'question':<40} {'rows':>5} {'TPF req':>8} {'TPF s':>7} {'replay s':>9} {'/sparql s':>10}  same")
        failures = 0
        for question in questions():
            try:
                tpf, sparql = compare(url, question, args.timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                reason = f"no answer within {args.timeout:g} s" if isinstance(error, subprocess.TimeoutExpired) else str(error)[:200]
                print(f"{question.stem:<40} TPF failed: {reason}")
                failures += 1
                continue
            same = tpf.variables == sparql.variables and tpf.rows == sparql.rows
            failures += not same
            print(f"{question.stem:<40} {sum(sparql.rows.values()):>5} {tpf.requests:>8} {tpf.seconds:>7.2f} "
                  f"{replay(tpf.urls):>9.2f} {sparql.seconds:>10.3f}  {'yes' if same else 'NO'}")
        return 1 if failures else 0
    finally:
        for thing in reversed(started):
            if isinstance(thing, subprocess.Popen):
                thing.terminate()
                thing.wait(timeout=20)
            else:
                thing.stop()


if __name__ == "__main__":
    sys.exit(main())
