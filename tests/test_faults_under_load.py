"""Faults of a remote store while clients keep asking: the production server (`haven serve --store URL`,
waitress) over a real Oxigraph server, with a dozen clients sending bench/load.py's mix the whole time.

* the store killed: every answer is a fast 503 or a whole 200, nothing hangs, and once the store is back (same
  folder, same port) the server answers again by itself;
* the store frozen (SIGSTOP): the query timeout applies, 503 within timeout + margin, recovery after SIGCONT;
* the store switched between two releases by `haven publish` again and again: every answer comes wholly from
  one release (labels that differ per release, and the ETag, which names the release, must agree).

test_remote_faults.py checks the same faults one request at a time; this file checks them under load."""
from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from haven.publish import publish
from haven.web.caching import etag_for
from haven.store.remote import HTTP_MARGIN, POINTER_TIMEOUT
from haven.formats import GRAPH_FORMATS, by_extension
from plugins.bench import bench_module
from plugins.figures import report_line
from plugins.servers import start_live_server
from plugins.stores import load_release, start_oxigraph_server

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: short, so that a frozen store costs the test seconds, not tens of seconds
QUERY_TIMEOUT = 2.0
#: a refused connection is noticed at once; this bounds a 503 while the store is dead
FAST_503_S = 2.0
#: longest wait the store may impose on one answer: its HTTP timeout (query timeout + margin) or the pointer's
SLOW_503_S = max(QUERY_TIMEOUT + HTTP_MARGIN, POINTER_TIMEOUT) + 1.5
#: the pointer is re-read every second, so a store that is back is used again well within this
RECOVERY_S = 10.0
#: fewer clients than waitress threads, so no request waits for a thread and latency is the store's alone
CLIENTS, THREADS = 12, 16
#: kinds of request that reach the store (the landing page may answer from memory)
MIX = {"id": 2, "data": 4, "page": 2, "sparql-get": 1, "sparql-post": 1}


@dataclass
class Outcome:
    began: float
    ended: float
    kind: str
    path: str
    status: int
    failure: str | None

    @property
    def latency(self) -> float:
        return self.ended - self.began


class Clients:
    """CLIENTS threads, each on its own keep-alive connection from its own loopback address (separate users,
    each within the server's per-client query limit, as bench/load.py's clients are), until stop().
    `plan(rng)` gives a request, `judge(planned, status, headers, body)` returns None or what is wrong with
    the answer."""

    def __init__(self, url: str, plan, judge, timeout: float = 20.0):
        self.url, self.parts = url, urllib.parse.urlsplit(url)
        self.plan, self.judge, self.timeout = plan, judge, timeout
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(CLIENTS)]

    def __enter__(self) -> "Clients":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        assert not any(t.is_alive() for t in self._threads), "a client is still waiting for an answer"

    def _run(self, number: int) -> None:
        rng = random.Random(number)
        connection = None
        while not self._stop.is_set():
            planned = self.plan(rng)
            if connection is None:
                source = bench_module("load").client_address(self.url, number, one_address=False)
                connection = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=self.timeout,
                                                        source_address=source)
            began = time.monotonic()
            try:
                connection.request(planned.method, planned.path, body=planned.body, headers=planned.headers)
                response = connection.getresponse()
                body = response.read()
                status, failure = response.status, None
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                status, failure = 0, f"no answer: {type(error).__name__}: {error}"
                connection.close()
                connection = None
            ended = time.monotonic()
            if failure is None:
                failure = self.judge(planned, status, response.headers, body)
            with self._lock:
                self.outcomes.append(Outcome(began, ended, planned.kind, planned.path[:100], status, failure))

    def between(self, start: float, end: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.began >= start and o.ended <= end]

    def after(self, start: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.began >= start]


def mix_planner(load, targets):
    names, weights = list(MIX), list(MIX.values())
    memory: dict = {}
    return lambda rng: load.plan(rng.choices(names, weights)[0], targets, rng, memory)


def whole_or_503(load, context: dict | None = None):
    """A deliberate 503 with a message, or the answer the request expects, whole (every RDF body parsed, JSON-LD
    with the server's `context`)."""

    def judge(planned, status, headers, body):
        if status == 503:
            return None if body.strip() else "a 503 without a word of explanation"
        try:
            load.check_answer(planned, status, headers, body, parse_rdf=True, context=context)
        except load.BadAnswer as error:
            return str(error)
        return None

    return judge


@pytest.fixture
def remote_stack(build_dir, release_dir, tmp_path):
    """(Oxigraph server with the tiny release, Haven serving it, load module, request targets)."""
    load = bench_module("load")
    store = start_oxigraph_server(tmp_path)
    load_release(release_dir, store)
    haven = start_live_server(build_dir, store=store.query_url, query_timeout=QUERY_TIMEOUT, threads=THREADS,
                              max_concurrent_queries=THREADS)
    try:
        yield store, haven, load, load.discover(haven.url)
    finally:
        haven.stop()
        store.stop()


def assert_no_failure(outcomes: list[Outcome]) -> None:
    failures = [o for o in outcomes if o.failure is not None]
    assert not failures, [(o.kind, o.path, o.status, o.failure) for o in failures[:5]]


def wait_until_recovered(clients: Clients, since: float) -> float:
    """When SPARQL answers 200 again after `since` (queries always reach the store)."""
    deadline = since + RECOVERY_S
    while time.monotonic() < deadline:
        ok = [o for o in clients.after(since) if o.kind.startswith("sparql") and o.status == 200]
        if ok:
            return min(o.began for o in ok)
        time.sleep(0.05)
    raise AssertionError(f"no SPARQL answer within {RECOVERY_S} s of the store's return")


def test_store_killed_under_load_fast_503_whole_answers_and_recovery(remote_stack, request):
    store, haven, load, targets = remote_stack
    with Clients(haven.url, mix_planner(load, targets), whole_or_503(load, targets.context)) as clients:
        time.sleep(1.5)
        killed = time.monotonic()
        store.kill()
        time.sleep(2.5)
        back = time.monotonic()
        store.start()  # same folder, same port
        recovered = wait_until_recovered(clients, back)
        time.sleep(2.0)
        end = time.monotonic()
    assert haven.process.poll() is None, "the server stayed up"
    assert_no_failure(clients.outcomes)
    before = clients.between(0, killed)
    assert before and all(o.status in {200, 303, 304} for o in before)
    dead = clients.between(killed, back)
    refused = [o for o in dead if o.status == 503]
    assert len(refused) >= 20, f"only {len(refused)} answers while the store was dead"
    slowest = max(o.latency for o in dead)
    assert slowest < FAST_503_S, slowest
    # once the pointer is read again (a second), a 200 only ever comes after the store's return
    assert all(o.status == 503 for o in dead if o.began > killed + 1.2), "answered without the store"
    healthy = clients.between(recovered + 1.2, end)
    assert len(healthy) >= 20 and all(o.status != 503 for o in healthy), "did not recover by itself"
    whole = sum(1 for o in clients.outcomes if o.status == 200)
    report_line(request.config, f"store killed under load: {len(clients.outcomes)} requests, {len(refused)} "
                                f"answered 503 (slowest {slowest * 1000:.0f} ms), {whole} whole 200s, none cut; "
                                f"recovered {recovered - back:.1f} s after the store's return")


def test_store_frozen_under_load_timeout_applies_then_recovery(remote_stack, request):
    store, haven, load, targets = remote_stack
    frozen_for = SLOW_503_S + 0.5  # long enough for the timeouts to fire
    with Clients(haven.url, mix_planner(load, targets), whole_or_503(load, targets.context)) as clients:
        time.sleep(1.5)
        frozen = time.monotonic()
        os.kill(store.process.pid, signal.SIGSTOP)
        try:
            time.sleep(frozen_for)
        finally:
            os.kill(store.process.pid, signal.SIGCONT)
        thawed = time.monotonic()
        recovered = wait_until_recovered(clients, thawed)
        time.sleep(2.0)
        end = time.monotonic()
    assert haven.process.poll() is None
    assert_no_failure(clients.outcomes)
    stalled = [o for o in clients.outcomes if frozen <= o.ended <= thawed + 0.2]
    timed_out = [o for o in stalled if o.status == 503]
    # each client's request hangs until the timeout fires (its next one until SIGCONT): about one 503 each
    assert len(timed_out) >= CLIENTS // 2, f"only {len(timed_out)} timeouts while the store was frozen"
    assert all(o.latency >= QUERY_TIMEOUT for o in timed_out), "a 503 came before any timeout could fire"
    slowest = max(o.latency for o in clients.outcomes)
    assert slowest < SLOW_503_S, f"an answer took {slowest:.1f} s (bound {SLOW_503_S:.1f} s)"
    healthy = clients.between(recovered + 1.2, end)
    assert len(healthy) >= 20 and all(o.status != 503 for o in healthy), "did not recover after SIGCONT"
    report_line(request.config, f"store frozen {frozen_for:.1f} s under load: {len(timed_out)} answered 503, "
                                f"slowest answer {slowest:.1f} s (timeout {QUERY_TIMEOUT:.0f} s + margin "
                                f"{HTTP_MARGIN:.0f} s); recovered {recovered - thawed:.1f} s after SIGCONT")


# -- a publish under load -----------------------------------------------------------------------------------

SECOND = "test-fixture-0002"
MARK = " [r2]"
HID = "https://w3id.org/haven/id/"
LABELS = ("http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel")
MARKED = ("taliban", "al-qaeda")


def second_release(first: Path, into: Path) -> Path:
    """The first release with the labels of two entities changed: documents about either mention both."""
    shutil.copytree(first, into)
    nq = into / "haven.nq"
    lines = []
    for line in nq.read_text("utf-8").splitlines(keepends=True):
        if any(line.startswith(f"<{HID}{slug}> <{p}> ") for slug in MARKED for p in LABELS):
            line = re.sub(r'"@en ', f'{MARK}"@en ', line, count=1)
        lines.append(line)
    nq.write_text("".join(lines), "utf-8")
    manifest = json.loads((into / "manifest.json").read_text("utf-8"))
    manifest["id"] = SECOND
    manifest["sha256"]["haven.nq"] = hashlib.sha256(nq.read_bytes()).hexdigest()
    (into / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert nq.read_text("utf-8").count(MARK) == 2 * len(MARKED)
    return into


def release_of_labels(labels: list[str]) -> str:
    """Which release the labels of the marked entities come from; a mixture is an error."""
    marked = {label.endswith(MARK) for label in labels}
    if len(labels) < len(MARKED) or len(marked) != 1:
        raise ValueError(f"labels from both releases, or missing: {sorted(labels)}")
    return SECOND if marked.pop() else "test-fixture-0001"


def rdf_labels(load, rdflib_format: str, body: bytes, context: dict | None) -> list[str]:
    import rdflib

    graph = load.read_rdf(rdflib_format, body, context=context)
    return [str(o) for slug in MARKED for p in LABELS for o in graph.objects(rdflib.URIRef(HID + slug),
                                                                             rdflib.URIRef(p))]


MARKER_QUERY = (f"SELECT ?label WHERE {{ VALUES ?s {{ {' '.join(f'<{HID}{s}>' for s in MARKED)} }} "
                f"VALUES ?p {{ {' '.join(f'<{p}>' for p in LABELS)} }} ?s ?p ?label }}")


def publish_planner(load):
    paths = [f"/data/{slug}.{fmt.extension}" for slug in MARKED for fmt in GRAPH_FORMATS]
    paths += [f"/page/{s}" for s in MARKED]

    def plan(rng):
        if rng.random() < 0.3:
            return load.Planned("sparql", "POST", "/sparql", {"Accept": "application/sparql-results+json",
                                                              "Content-Type": "application/sparql-query"},
                                body=MARKER_QUERY.encode(), check="marker")
        path = rng.choice(paths)
        return load.Planned("page" if path.startswith("/page/") else "data", "GET", path, {}, check="marker")

    return plan


def page_labels(path: str, text: str) -> list[str]:
    """The marked entities' labels a page shows: its own in the schema.org summary it embeds (which must be
    about it), the other's as the text of the links to its page."""
    slug = path.removeprefix("/page/")
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    summary = json.loads(script.group(1))
    if summary["@id"] != HID + slug:
        raise ValueError(f"the summary is about {summary['@id']}, not {slug}")
    links = [html.unescape(label) for other in MARKED if other != slug
             for label in re.findall(rf'<a href="[^"]*/page/{other}">(.*?)</a>', text)]
    return [summary["name"], *links]


def one_release_judge(load, seen: dict, context: dict | None = None):
    """Every answer from exactly one release, and for documents the same release as their ETag (JSON-LD read
    with the server's `context`)."""
    lock = threading.Lock()

    def judge(planned, status, headers, body):
        if status != 200:
            return f"HTTP {status} during a publish: {body[:200]!r}"
        try:
            if planned.kind == "sparql":
                rows = json.loads(body)["results"]["bindings"]
                release = release_of_labels([row["label"]["value"] for row in rows])
            elif planned.kind == "data":
                ext = planned.path.rsplit(".", 1)[1]
                release = release_of_labels(rdf_labels(load, load.DATA_FORMATS[ext][1], body, context))
            else:
                text = body.decode("utf-8")
                release = release_of_labels(page_labels(planned.path, text))
                title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
                if (MARK in title) != (release == SECOND):
                    return f"title {title!r} is not from {release}, the page's data is"
            if planned.kind != "sparql":
                media_type = "text/html" if planned.kind == "page" else by_extension(planned.path.rsplit(".", 1)[1], GRAPH_FORMATS).media_type
                tag = (headers.get("ETag") or "").removeprefix("W/").strip('"')
                if tag != etag_for(release, planned.path, media_type):
                    return f"ETag {tag} is not release {release}'s, the body is"
        except (ValueError, KeyError, AttributeError, load.BadAnswer) as error:
            return f"{type(error).__name__}: {error}"
        with lock:
            seen[release] = seen.get(release, 0) + 1
        return None

    return judge


def test_publish_under_load_each_answer_wholly_from_one_release(remote_stack, release_dir, tmp_path, request):
    store, haven, load, targets = remote_stack
    second = second_release(release_dir, tmp_path / "second")
    seen: dict[str, int] = {}
    switches = []
    with Clients(haven.url, publish_planner(load), one_release_judge(load, seen, targets.context)) as clients:
        time.sleep(1.0)
        # back and forth: the first publish loads the second release, the others only move the pointer
        for release in (second, release_dir) * 3:
            result = publish(release, store.url, progress=lambda line: None)
            assert result.switched
            switches.append(result.release_id)
            time.sleep(0.6)
        time.sleep(1.0)
    assert haven.process.poll() is None
    assert_no_failure(clients.outcomes)
    assert switches[-1] == "test-fixture-0001" and len(switches) == 6
    assert seen.get(SECOND, 0) >= 20 and seen.get("test-fixture-0001", 0) >= 20, seen
    report_line(request.config, f"publish under load: {len(switches)} switches while {len(clients.outcomes)} "
                                f"answers were checked, each wholly from one release ({seen})")


# -- the judges catch what they are there to catch ----------------------------------------------------------

def message(**values) -> http.client.HTTPMessage:
    headers = http.client.HTTPMessage()
    for name, value in values.items():
        headers[name] = value
    return headers


def turtle(marked: bool) -> bytes:
    tag = MARK if marked else ""
    return (f'<{HID}taliban> <{LABELS[1]}> "Taliban{tag}"@en .\n'
            f'<{HID}al-qaeda> <{LABELS[1]}> "al-Qaeda{tag}"@en .\n').encode()


def test_whole_or_503_judge():
    load = bench_module("load")
    judge = whole_or_503(load)
    document = load.Planned("data", "GET", "/data/taliban.ttl", {}, check="rdf:turtle")
    assert judge(document, 200, message(), turtle(False)) is None
    assert judge(document, 503, message(), b"The data store could not answer.\n") is None
    assert "explanation" in judge(document, 503, message(), b"")
    assert "does not parse" in judge(document, 200, message(), turtle(False)[:-30])
    assert "HTTP 500" in judge(document, 500, message(), b"oops")


def test_one_release_judge_refuses_mixtures_and_foreign_etags():
    load = bench_module("load")
    judge = one_release_judge(load, {})
    path = "/data/taliban.ttl"
    document = load.Planned("data", "GET", path, {}, check="marker")
    etag = {release: f'"{etag_for(release, path, "text/turtle")}"' for release in ("test-fixture-0001", SECOND)}
    assert judge(document, 200, message(ETag=etag[SECOND]), turtle(True)) is None
    assert judge(document, 200, message(ETag=etag["test-fixture-0001"]), turtle(False)) is None
    mixed = turtle(True).splitlines(keepends=True)[0] + turtle(False).splitlines(keepends=True)[1]
    assert "both releases" in judge(document, 200, message(ETag=etag[SECOND]), mixed)
    assert "ETag" in judge(document, 200, message(ETag=etag["test-fixture-0001"]), turtle(True))
    assert "HTTP 503" in judge(document, 503, message(), b"retry")

    query = load.Planned("sparql", "POST", "/sparql", {}, check="marker")
    rows = [{"label": {"type": "literal", "value": v}} for v in ("Taliban" + MARK, "al-Qaeda")]
    assert "both releases" in judge(query, 200, message(), json.dumps({"results": {"bindings": rows}}).encode())

    page = load.Planned("page", "GET", "/page/taliban", {}, check="marker")
    page_etag = f'"{etag_for(SECOND, "/page/taliban", "text/html")}"'
    assert judge(page, 200, message(ETag=page_etag), entity_page("Taliban" + MARK, "al-Qaeda" + MARK)) is None
    assert "title" in judge(page, 200, message(ETag=page_etag),
                            entity_page("Taliban" + MARK, "al-Qaeda" + MARK, title="Taliban"))
    assert "both releases" in judge(page, 200, message(ETag=page_etag), entity_page("Taliban" + MARK, "al-Qaeda"))
    assert "missing" in judge(page, 200, message(ETag=page_etag), entity_page("Taliban" + MARK, None))
    assert "not taliban" in judge(page, 200, message(ETag=page_etag),
                                  entity_page("Taliban" + MARK, "al-Qaeda" + MARK, about="al-qaeda"))


def entity_page(name: str, other: str | None, *, title: str | None = None, about: str = "taliban") -> bytes:
    """The parts of /page/taliban the judge reads: title, the schema.org summary, a link to al-Qaeda's page."""
    summary = json.dumps({"@context": "https://schema.org", "@type": "Thing", "@id": HID + about, "name": name})
    link = f'<a href="http://127.0.0.1:1/page/al-qaeda">{html.escape(other)}</a>' if other is not None else ""
    return (f'<html><head><title>{html.escape(title or name)} · Haven</title>'
            f'<script type="application/ld+json">{summary}</script></head><body><h1>{html.escape(name)}</h1>'
            f'<p>allied with {link}</p></body></html>').encode()


# -- JSON-LD as an offline client reads it ------------------------------------------------------------------

CONTEXT = {"@context": {"hid": HID, "prefLabel": {"@id": LABELS[1], "@language": "en"},
                        "allyOf": "https://w3id.org/haven/ontology#allyOf"}}


def json_ld(marked: bool, context="https://w3id.org/haven/context.jsonld") -> bytes:
    tag = MARK if marked else ""
    return json.dumps({"@context": context, "@id": "hid:taliban", "prefLabel": "Taliban" + tag,
                       "allyOf": {"@id": "hid:al-qaeda", "prefLabel": "al-Qaeda" + tag}}).encode()


@pytest.fixture
def no_network(monkeypatch) -> list:
    """Every attempt to reach a host, recorded (and failed): a test asserts the list stays empty."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("this test has no network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_json_ld_naming_the_served_context_is_read_with_it_and_a_foreign_context_is_refused(no_network):
    load = bench_module("load")
    document = load.Planned("data", "GET", "/data/taliban.jsonld", {}, check="rdf:json-ld")
    judge = whole_or_503(load, CONTEXT)
    assert judge(document, 200, message(), json_ld(False)) is None
    assert load.check_rdf("json-ld", json_ld(False), context=CONTEXT) == 3  # two labels and the alliance
    foreign = json_ld(False, context="https://example.org/context.jsonld.php")
    assert "remote context 'https://example.org/context.jsonld.php'" in judge(document, 200, message(), foreign)
    scoped = json.dumps({"@context": {"p": {"@id": "http://x/p", "@context": "https://example.org/c"}},
                         "@id": "http://x/s", "p": {"@id": "http://x/o"}}).encode()
    assert "remote context" in judge(document, 200, message(), scoped)
    assert "holds no copy" in whole_or_503(load)(document, 200, message(), json_ld(False))
    assert not no_network, "a JSON-LD check reached for the network"


def test_one_release_judge_reads_json_ld_with_the_served_context(no_network):
    load = bench_module("load")
    judge = one_release_judge(load, {}, CONTEXT)
    path = "/data/taliban.jsonld"
    document = load.Planned("data", "GET", path, {}, check="marker")
    etag = f'"{etag_for(SECOND, path, "application/ld+json")}"'
    assert judge(document, 200, message(ETag=etag), json_ld(True)) is None
    assert "ETag" in judge(document, 200, message(ETag=etag), json_ld(False))
    assert "remote context" in judge(document, 200, message(ETag=etag),
                                     json_ld(True, context="https://example.org/context.jsonld.php"))
    assert not no_network, "a JSON-LD check reached for the network"
