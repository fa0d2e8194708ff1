"""The load test: a realistic mix of Linked Data and SPARQL requests against the production server.

    .venv/bin/python bench/load.py [--url URL] [--concurrency 64] [--duration 60] [--mix id=3,data=4,...]

Without --url it starts `haven serve` (waitress) itself on a free loopback port over --build-dir/current
and stops it at the end. What a client of a Linked Data service does, in proportions set by --mix:

  id           GET /id/{slug} with a browser's or an RDF client's Accept: a 303 to the page or the document
  data         GET /data/{slug}.ttl|nt|rdf|jsonld, some with gzip, some revalidated (If-None-Match → 304)
  page         GET /page/{slug}: the HTML page
  landing      GET /
  sparql-get   a competency question (ontology/competency-questions/*.rq), GET ?query=, JSON results
  sparql-post  the same, POSTed as a form or as application/sparql-query, JSON, XML or CSV results

The slugs are the build's own entities, read from the server's /sparql before the load starts.

Why a Python client rather than wrk: each answer is checked, not only timed. A response counts as an error
when its status is not the one its kind expects (any 4xx/5xx, a 503 included), when the connection fails
or times out, when the body is shorter than its Content-Length, or when it fails its content check: every
body is decoded (gzip), HTML must end with </html>, SPARQL JSON must parse, a 303 must point where its
Accept says; a sample of RDF bodies (--verify) is parsed completely with rdflib (JSON-LD with the server's
/context.jsonld, fetched once before the load, in place of the permanent IRI that names it: never a network
fetch). The client's own CPU is reported beside the server's, so that a saturated client would show.

Each client connects from its own loopback address (127.0.0.2, 127.0.0.3, ...), as separate users would, so
the server's per-client query limits (haven.web.sparql.admission) see 64 clients, not one; --one-address
sends everything from one address instead: a single harvester with that many connections, whose queries
beyond its share are answered 429 by design.

Loopback only (a --url elsewhere is refused) and bounded in time (--duration, plus one request timeout).
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CQ_DIR = REPO / "ontology" / "competency-questions"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: where a Haven server serves the JSON-LD context its documents name by their permanent IRI, …/context.jsonld
#: under the base (haven.iris.CONTEXT_PATH; bench/ runs against any server, so it does not import haven)
CONTEXT_PATH = "context.jsonld"

DEFAULT_MIX = {"id": 3, "data": 4, "page": 2, "landing": 1, "sparql-get": 1, "sparql-post": 1}
#: seconds one request may take before it counts as an error (the server's query timeout is 10 s)
REQUEST_TIMEOUT = 30.0

DATA_FORMATS = {"ttl": ("text/turtle", "turtle"), "nt": ("application/n-triples", "nt"),
                "rdf": ("application/rdf+xml", "xml"), "jsonld": ("application/ld+json", "json-ld")}
#: what clients of a thing's IRI send, and where each must be sent (None: the page)
ID_ACCEPTS = {
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": None,  # a browser
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf",
    "application/ld+json": "jsonld",
    "text/turtle;q=0.9, application/rdf+xml;q=0.5": "ttl",  # rdflib-style preference list
}
SPARQL_ACCEPTS = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv")
SLUGS_QUERY = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?s), \"/id/\")) }"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*")


# -- what to request --------------------------------------------------------------------------------------

@dataclass
class Targets:
    slugs: list[str]
    queries: dict[str, str]  # competency question name → SPARQL text
    #: the server's /context.jsonld, which its JSON-LD names by a permanent IRI that an offline client cannot
    #: fetch (None: JSON-LD naming a context is refused, see check_rdf)
    context: dict | None = None


def parse_mix(text: str | None) -> dict[str, int]:
    if not text:
        return dict(DEFAULT_MIX)
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_MIX:
            raise ValueError(f"unknown request kind {name!r}: use {', '.join(DEFAULT_MIX)}")
        mix[name] = int(weight or 1)
    if not any(mix.values()):
        raise ValueError("the mix has no request with a weight above 0")
    return mix


def competency_questions(folder: Path = CQ_DIR) -> dict[str, str]:
    return {path.stem: path.read_text("utf-8") for path in sorted(folder.glob("*.rq"))}


def _get(url: str, path: str, accept: str) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def discover(url: str, queries: dict[str, str] | None = None) -> Targets:
    """The entity slugs the server holds (by asking its /sparql), the queries to send, and the server's
    JSON-LD context (fetched once, as a client that caches it would)."""
    status, body = _get(url, "/sparql?" + urllib.parse.urlencode({"query": SLUGS_QUERY}),
                        "application/sparql-results+json")
    if status != 200:
        raise RuntimeError(f"{url}sparql answered {status} to the slug query: {body[:300]!r}")
    slugs = set()
    for row in json.loads(body)["results"]["bindings"]:
        slug = row["s"]["value"].split("/id/", 1)[1]
        if _SLUG.fullmatch(slug):
            slugs.add(slug)
    if not slugs:
        raise RuntimeError(f"{url} serves no entity under /id/")
    status, body = _get(url, "/" + CONTEXT_PATH, "application/ld+json")
    if status != 200:
        raise RuntimeError(f"{url}{CONTEXT_PATH} answered {status}: {body[:300]!r}")
    return Targets(sorted(slugs), queries if queries is not None else competency_questions(), json.loads(body))


@dataclass
class Planned:
    kind: str
    method: str
    path: str
    headers: dict
    body: bytes | None = None
    expect: tuple[int, ...] = (200,)
    #: for a 303: the path the Location must end with
    location: str | None = None
    #: how to check the body: "rdf:<rdflib format>", "html", "sparql:<media type>", "none"
    check: str = "none"


def plan(kind: str, targets: Targets, rng: random.Random, etags: dict) -> Planned:
    """One request of `kind`, drawn at random; `etags` (kind → path → (ETag, gzip?) seen by this client) lets
    some documents revalidate."""
    slug = rng.choice(targets.slugs)
    if kind == "id":
        accept, ext = rng.choice(list(ID_ACCEPTS.items()))
        target = f"/page/{slug}" if ext is None else f"/data/{slug}.{ext}"
        return Planned(kind, "GET", f"/id/{slug}", {"Accept": accept}, expect=(303,), location=target)
    if kind in {"data", "page"}:
        if kind == "data":
            ext = rng.choice(list(DATA_FORMATS))
            path, check = f"/data/{slug}.{ext}", f"rdf:{DATA_FORMATS[ext][1]}"
        else:
            path, check = f"/page/{slug}", "html"
        headers = {"Accept-Encoding": "gzip"} if rng.random() < 0.5 else {}
        seen = etags.setdefault(kind, {})
        if seen and rng.random() < 0.15:
            # a client revalidating a copy it holds: the gzip variant's tag travels with gzip, as caches do
            path = rng.choice(list(seen))
            etag, gzipped = seen[path]
            headers = {"If-None-Match": etag, **({"Accept-Encoding": "gzip"} if gzipped else {})}
            return Planned(kind, "GET", path, headers, expect=(304,), check="none")
        return Planned(kind, "GET", path, headers, check=check)
    if kind == "landing":
        return Planned(kind, "GET", "/", {"Accept": "text/html"}, check="html")
    query = targets.queries[rng.choice(sorted(targets.queries))]
    if kind == "sparql-get":
        accept = SPARQL_ACCEPTS[0]
        return Planned(kind, "GET", "/sparql?" + urllib.parse.urlencode({"query": query}), {"Accept": accept},
                       check=f"sparql:{accept}")
    accept = rng.choice(SPARQL_ACCEPTS)
    if rng.random() < 0.5:
        return Planned(kind, "POST", "/sparql", {"Accept": accept, "Content-Type": "application/sparql-query"},
                       body=query.encode("utf-8"), check=f"sparql:{accept}")
    return Planned(kind, "POST", "/sparql", {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
                   body=urllib.parse.urlencode({"query": query}).encode("ascii"), check=f"sparql:{accept}")


# -- checking an answer -----------------------------------------------------------------------------------

class BadAnswer(Exception):
    pass


def check_answer(planned: Planned, status: int, headers: http.client.HTTPMessage, body: bytes, *,
                 parse_rdf: bool, context: dict | None = None) -> None:
    """Raises BadAnswer unless the response is what `planned` must get, whole; `context` is the server's
    JSON-LD context (Targets.context), for JSON-LD bodies that name it."""
    if status not in planned.expect:
        raise BadAnswer(f"HTTP {status} (expected {'/'.join(map(str, planned.expect))}): {body[:200]!r}")
    if status in {303, 304}:
        if planned.location and not (headers.get("Location") or "").endswith(planned.location):
            raise BadAnswer(f"303 to {headers.get('Location')!r}, expected …{planned.location}")
        return
    if headers.get("Content-Encoding") == "gzip":
        try:
            body = gzip.decompress(body)  # a cut gzip stream fails here: its trailer is missing
        except (OSError, EOFError) as error:
            raise BadAnswer(f"gzip body does not decompress: {error}") from None
    if not body.strip():
        raise BadAnswer("empty body")
    kind, _, detail = planned.check.partition(":")
    if kind == "html" and not body.rstrip().lower().endswith(b"</html>"):
        raise BadAnswer("HTML page does not end with </html>")
    if kind == "sparql":
        check_sparql(detail, body)
    if kind == "rdf" and parse_rdf:
        check_rdf(detail, body, context=context)


def check_sparql(media_type: str, body: bytes) -> None:
    if media_type == "application/sparql-results+json":
        try:
            doc = json.loads(body)
            doc["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as error:
            raise BadAnswer(f"SPARQL JSON results do not parse: {error}") from None
    elif media_type == "application/sparql-results+xml":
        if not body.rstrip().endswith(b"</sparql>"):
            raise BadAnswer("SPARQL XML results do not end with </sparql>")
    elif not body.endswith(b"\n"):
        raise BadAnswer("CSV results do not end with a whole line")


def check_rdf(rdflib_format: str, body: bytes, *, context: dict | None = None) -> int:
    """Parses the whole document; returns its triple count (a cut document fails to parse or is empty).
    JSON-LD is read with `context` (the server's /context.jsonld) in place of the IRI that names it."""
    graph = read_rdf(rdflib_format, body, context=context)
    if len(graph) == 0:
        raise BadAnswer(f"{rdflib_format} body holds no triple")
    return len(graph)


def read_rdf(rdflib_format: str, body: bytes, *, context: dict | None = None):
    """The rdflib graph of a body (BadAnswer when it does not parse); JSON-LD as jsonld_graph reads it."""
    if rdflib_format != "json-ld":
        return _parse(rdflib_format, body)
    try:
        doc = json.loads(body)
    except ValueError as error:
        raise BadAnswer(f"json-ld body does not parse: {type(error).__name__}: {error}") from None
    return jsonld_graph(doc, context)


def jsonld_graph(doc, context: dict | None):
    """rdflib's reading of a JSON-LD document as an offline client holding `context` (the server's
    /context.jsonld document) reads it: every @context naming an IRI …/context.jsonld is replaced by that
    context's content. rdflib would fetch any remote context it meets, so a document naming another one, or
    naming the served one when no `context` is held, is a BadAnswer instead of a network request."""
    return _parse("json-ld", json.dumps(_inline_context(doc, context)))


def _inline_context(node, context: dict | None):
    if isinstance(node, list):
        return [_inline_context(item, context) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline_context(value, context) for key, value in node.items() if key != "@context"}
    if "@context" in node:
        out = {"@context": _local_context(node["@context"], context), **out}
    return out


def _local_context(value, context: dict | None):
    """`value` (an @context: an object, null, an IRI or a list of them) with nothing left to fetch."""
    if isinstance(value, list):
        return [_local_context(item, context) for item in value]
    if isinstance(value, dict):
        if "@import" in value:
            raise BadAnswer(f"json-ld body imports the remote context {value['@import']!r}")
        return _inline_context(value, context)  # a term's scoped @context may name one too
    if not isinstance(value, str):
        return value  # null: no context
    if not value.endswith("/" + CONTEXT_PATH):
        raise BadAnswer(f"json-ld body names the remote context {value!r}, not the server's {CONTEXT_PATH}")
    if context is None:
        raise BadAnswer(f"json-ld body names {value!r}, and this client holds no copy of the server's context "
                        f"(Targets.context)")
    return _inline_context(context["@context"], None)


def _parse(rdflib_format: str, data):
    import rdflib

    graph = rdflib.Graph()
    try:
        graph.parse(data=data, format=rdflib_format)
    except Exception as error:  # rdflib raises many kinds; any of them means the body is not whole RDF
        raise BadAnswer(f"{rdflib_format} body does not parse: {type(error).__name__}: {error}") from None
    return graph


# -- the load ---------------------------------------------------------------------------------------------

@dataclass
class KindStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    #: why queries were refused: "busy" (no slot within the queue's wait), "client limit" (429), "time limit"
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rdf_parsed: int = 0
    bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)


@dataclass
class LoadReport:
    seconds: float
    concurrency: int
    kinds: dict[str, KindStats]
    client_cpu_s: float

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(k.errors for k in self.kinds.values())

    @property
    def rdf_parsed(self) -> int:
        return sum(k.rdf_parsed for k in self.kinds.values())

    def rows(self) -> list[dict]:
        out = []
        everything = KindStats()
        for name, stats in sorted(self.kinds.items()) + [("all", everything)]:
            if name != "all":
                everything.latencies += stats.latencies
                everything.errors += stats.errors
                everything.rdf_parsed += stats.rdf_parsed
                for status, n in stats.statuses.items():
                    everything.statuses[status] += n
            out.append({"kind": name, "requests": stats.requests, "errors": stats.errors,
                        "rps": stats.requests / self.seconds if self.seconds else 0.0,
                        "p50_ms": percentile(stats.latencies, 50) * 1000,
                        "p99_ms": percentile(stats.latencies, 99) * 1000,
                        "max_ms": max(stats.latencies, default=0.0) * 1000,
                        "statuses": dict(sorted(stats.statuses.items())), "rdf_parsed": stats.rdf_parsed})
        return out

    def table(self) -> str:
        lines = ["| kind | requests | errors | req/s | p50 ms | p99 ms | max ms | statuses | RDF parsed |",
                 "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
        for row in self.rows():
            statuses = " ".join(f"{s}×{n}" for s, n in row["statuses"].items())
            lines.append(f"| {row['kind']} | {row['requests']} | {row['errors']} | {row['rps']:.1f} | "
                         f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.0f} | {statuses} | "
                         f"{row['rdf_parsed']} |")
        return "\n".join(lines)


def refusal_reason(status: int, body: bytes) -> str | None:
    """Why the server refused a request, from its status and plain-text message (haven.web.errors)."""
    if status == 429:
        return "client limit"
    if status == 503:
        return "time limit" if b"time limit" in body else "busy" if b"queries as it allows" in body else "other 503"
    return None


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] if pct < 100 else max(values)


def client_address(url: str, number: int, one_address: bool) -> tuple[str, int] | None:
    """The local address client `number` connects from: its own loopback address (127.0.0.N: all of 127/8
    reaches the loopback interface), so that the server tells the clients apart as it tells users apart and
    gives each its share of the query slots; None (the system's choice) with `one_address`, or when the
    server is not on an IPv4 loopback address."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if one_address or not host.startswith("127."):
        return None
    return (f"127.0.{number // 250 % 250}.{2 + number % 250}", 0)


def run_load(url: str, targets: Targets, *, concurrency: int, duration: float, mix: dict[str, int],
             verify: float = 0.05, seed: int = 1, one_address: bool = False) -> LoadReport:
    """`concurrency` clients, each on its own keep-alive connection from its own loopback address (all from
    one with `one_address`: a single harvester with that many connections), sending the mix for `duration` s."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"the load test runs on loopback only, not against {parts.hostname}")
    kinds = {name: KindStats() for name, weight in mix.items() if weight > 0}
    names, weights = list(kinds), [mix[name] for name in kinds]
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        rng = random.Random(seed * 100_003 + number)
        etags: dict[str, dict] = {}
        connection = None
        start.wait()
        while time.monotonic() < deadline[0]:
            planned = plan(rng.choices(names, weights)[0], targets, rng, etags)
            parse_rdf = planned.check.startswith("rdf:") and rng.random() < verify
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT,
                                                        source_address=client_address(url, number, one_address))
            began = time.perf_counter()
            failure = None
            status, body = 0, b""
            try:
                connection.request(planned.method, planned.path, body=planned.body, headers=planned.headers)
                response = connection.getresponse()
                body = response.read()  # http.client raises IncompleteRead when fewer bytes than announced come
                status = response.status
                elapsed = time.perf_counter() - began
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                elapsed = time.perf_counter() - began
                failure = f"{type(error).__name__}: {error}"
                connection.close()
                connection = None
            if failure is None:
                try:
                    check_answer(planned, status, response.headers, body, parse_rdf=parse_rdf,
                                 context=targets.context)
                    etag = response.headers.get("ETag")
                    if etag and status == 200 and planned.kind in {"data", "page"}:
                        gzipped = response.headers.get("Content-Encoding") == "gzip"
                        etags.setdefault(planned.kind, {})[planned.path] = (etag, gzipped)
                except BadAnswer as error:
                    failure = str(error)
            with lock:
                stats = kinds[planned.kind]
                stats.latencies.append(elapsed)
                stats.statuses[status] += 1
                reason = refusal_reason(status, body)
                if reason:
                    stats.refusals[reason] += 1
                stats.bytes += len(body)
                if failure is not None:
                    stats.errors += 1
                    if len(stats.error_samples) < 5:
                        stats.error_samples.append(f"{planned.method} {planned.path[:120]}: {failure[:300]}")
                elif parse_rdf:
                    stats.rdf_parsed += 1
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_before = os.times()
    deadline[0] = time.monotonic() + duration
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join(duration + REQUEST_TIMEOUT + 5)
    seconds = time.monotonic() - began
    cpu_after = os.times()
    client_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return LoadReport(seconds=seconds, concurrency=concurrency, kinds=kinds, client_cpu_s=client_cpu)


# -- a server of our own ----------------------------------------------------------------------------------

@dataclass
class Server:
    url: str
    process: subprocess.Popen
    #: the server's stderr (waitress warns there when requests wait for a thread)
    log: Path | None = None

    def queue_depth_peak(self) -> int:
        """Deepest waitress task queue the log reports: requests that had to wait for a free thread."""
        if self.log is None or not self.log.exists():
            return 0
        found = re.findall(r"Task queue depth is (\d+)", self.log.read_text("utf-8", "replace"))
        return max(map(int, found), default=0)

    def cpu_seconds(self) -> float:
        """CPU time of the server and its query workers (live children and reaped ones)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
                for task in os.listdir(f"/proc/{pid}/task"):
                    todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except (OSError, ValueError, IndexError):
                continue
        return total

    def stop(self) -> None:
        if self.process.stdout:
            self.process.stdout.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.unlink(missing_ok=True)


def start_server(build_dir: Path, *, threads: int | None = None, max_concurrent_queries: int | None = None,
                 deadline_s: float = 120.0) -> Server:
    """`haven serve --port 0` on loopback over `build_dir`/current; returns once it printed its URL."""
    argv = [sys.executable, "-m", "haven.cli", "serve", "--build-dir", str(build_dir), "--host", "127.0.0.1",
            "--port", "0"]
    if threads:
        argv += ["--threads", str(threads)]
    if max_concurrent_queries:
        argv += ["--max-concurrent-queries", str(max_concurrent_queries)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    log = Path(tempfile.mkstemp(prefix="haven-load-server-", suffix=".log")[1])
    with open(log, "wb") as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=REPO)
    deadline = time.monotonic() + deadline_s
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            process.kill()
            process.wait()
            raise RuntimeError(f"haven serve did not start (exit {process.poll()}, output {line!r}): "
                               f"{log.read_text('utf-8', 'replace')[-2000:]}")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            line += os.read(process.stdout.fileno(), 1)
    words = line.decode().split()
    if words[:2] != ["Serving", "on"]:
        process.kill()
        raise RuntimeError(f"unexpected first line from haven serve: {line!r}")
    return Server(words[2], process, log)


# -- the command ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Haven server on loopback (default: start one)")
    parser.add_argument("--build-dir", type=Path, default=REPO / "build",
                        help="served when no --url is given (its current/ release)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--mix", help=f"kind=weight,... (default {','.join(f'{k}={v}' for k, v in DEFAULT_MIX.items())})")
    parser.add_argument("--verify", type=float, default=0.05, help="fraction of RDF bodies parsed with rdflib")
    parser.add_argument("--threads", type=int, help="waitress threads of the server started here (default: "
                                                     "the server's own)")
    parser.add_argument("--max-concurrent-queries", type=int,
                        help="the started server's query slots (default: the server's own)")
    parser.add_argument("--one-address", action="store_true",
                        help="every client from one address (a single harvester), not one loopback address each")
    parser.add_argument("--exclude", default="",
                        help="competency questions to leave out, by file name prefix (comma-separated, e.g. 17)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    mix = parse_mix(args.mix)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import machine  # bench/machine.py: what the figures were measured on

    print(f"machine: {machine.cpu_model()}, {os.cpu_count()} cores, {machine.ram_gib():.0f} GiB; "
          f"load average before {machine.load_average()}", file=sys.stderr)
    server = None
    url = args.url
    if url is None:
        if not (args.build_dir / "current" / "haven.nq").is_file():
            parser.error(f"no release in {args.build_dir}/current: run `haven build` first, or give --url")
        server = start_server(args.build_dir, threads=args.threads, max_concurrent_queries=args.max_concurrent_queries)
        url = server.url
    url = url if url.endswith("/") else url + "/"
    try:
        excluded = tuple(p for p in args.exclude.split(",") if p)
        targets = discover(url, {name: text for name, text in competency_questions().items()
                                 if not name.startswith(excluded)})
        print(f"load: {url} — {len(targets.slugs)} entities, {len(targets.queries)} competency questions; "
              f"{args.concurrency} clients ({'one address' if args.one_address else 'one address each'}) for "
              f"{args.duration:.0f} s, mix {mix}", file=sys.stderr)
        server_cpu_before = server.cpu_seconds() if server else None
        report = run_load(url, targets, concurrency=args.concurrency, duration=args.duration, mix=mix,
                          verify=args.verify, seed=args.seed, one_address=args.one_address)
        server_cpu = server.cpu_seconds() - server_cpu_before if server else None
        queue_peak = server.queue_depth_peak() if server else None
    finally:
        if server is not None:
            server.stop()

    print(report.table())
    total = report.rows()[-1]
    cpu = f"client CPU {report.client_cpu_s:.0f} s"
    if server_cpu is not None:
        cpu += f", server CPU {server_cpu:.0f} s; waitress queue peaked at {queue_peak} requests"
    print(f"\n{report.requests} requests in {report.seconds:.1f} s ({total['rps']:.0f} req/s), "
          f"{report.errors} errors, p50 {total['p50_ms']:.1f} ms, p99 {total['p99_ms']:.1f} ms; "
          f"{report.rdf_parsed} RDF bodies parsed whole; {cpu}")
    print(f"load average after: {machine.load_average()}")
    for name, stats in sorted(report.kinds.items()):
        if stats.refusals:
            print(f"  refused ({name}): " + ", ".join(f"{reason} ×{n}" for reason, n in sorted(stats.refusals.items())))
    for name, stats in report.kinds.items():
        for sample in stats.error_samples:
            print(f"  error ({name}): {sample}")
    if args.json:
        args.json.write_text(json.dumps({"url": url, "concurrency": args.concurrency, "seconds": report.seconds,
                                         "mix": mix, "kinds": report.rows(), "client_cpu_s": report.client_cpu_s,
                                         "server_cpu_s": server_cpu}, indent=2))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
