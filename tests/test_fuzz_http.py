"""Fuzzing the HTTP surface with Hypothesis: whatever a client sends, no 5xx but a deliberate 503, every
answer within the time limit plus a margin, and the server still up afterwards.

Two targets: the Flask app through its test client (volume: thousands of cases in CI), and a share of the
same cases against the real waitress process over loopback, as raw bytes on a socket where the case is
something an HTTP library would refuse to send (control characters, overlong UTF-8, NUL).

Inputs: SPARQL from a small grammar and mutations of the competency questions; random Accept and
Content-Type; request bodies as latin-1, overlong UTF-8 and NUL bytes; huge parameters; entity, data, page,
dump and ontology paths with traversal (``..``, ``%2e%2e``, ``%00``) and control characters.

``HAVEN_FUZZ_PROFILE=long`` runs the documented long version (docs/reliability.md); the default ``ci``
profile keeps the module to about a minute.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.figures import report_line
from plugins.rawhttp import read_until
from plugins.servers import start_live_server

PROFILES = {
    # examples per test: flask-client tests, live-server tests
    "ci": (900, 200),
    "long": (20_000, 2_000),
}
PROFILE = os.environ.get("HAVEN_FUZZ_PROFILE", "ci")
FLASK_EXAMPLES, LIVE_EXAMPLES = PROFILES[PROFILE]
QUERY_TIMEOUT = 2.0
#: a response may take the query time limit plus this (worker replacement, serialisation, a loaded CI box)
MARGIN = 3.0
FUZZ_SETTINGS = dict(deadline=None, derandomize=PROFILE == "ci", database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture])

HID = "https://w3id.org/haven/id/"
HAVEN = "https://w3id.org/haven/ontology#"
CQ_DIR = Path(__file__).resolve().parent.parent / "ontology" / "competency-questions"
COMPETENCY_QUESTIONS = [p.read_text("utf-8") for p in sorted(CQ_DIR.glob("*.rq"))]

# -- strategies --------------------------------------------------------------------------------------------

variables = st.sampled_from(["?s", "?p", "?o", "?x", "?y", "$z", "?label", "?n"])
iris = st.sampled_from([f"<{HID}al-qaeda>", f"<{HID}taliban>", f"<{HAVEN}leaderOf>", "<http://e/x>", "<>",
                        "skos:prefLabel", "haven:alliedWith", "rdf:type", "a", "hid:osama-bin-laden"])
literals = st.sampled_from(['"al-Qaeda"@en', "1", "1.5e3", "true", '"x"^^xsd:date', "'''multi\nline'''",
                            '"\\u0053"', '""'])
terms = st.one_of(variables, iris, literals)
paths = st.one_of(iris, st.builds(lambda a, b, op: f"({a}{op}{b})", iris, iris, st.sampled_from(["|", "/"])),
                  st.builds(lambda a, m: f"{a}{m}", iris, st.sampled_from(["*", "+", "?"])),
                  st.builds(lambda a: f"^{a}", iris), st.builds(lambda a: f"!{a}", iris))
triples = st.builds(lambda s, p, o: f"{s} {p} {o} .", terms, st.one_of(variables, paths), terms)
expressions = st.one_of(
    st.builds(lambda a, op, b: f"{a} {op} {b}", terms, st.sampled_from(["=", "!=", "<", ">=", "&&", "||", "+"]), terms),
    st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["STR", "LANG", "isIRI", "BOUND", "STRLEN", "UCASE", "ABS",
                                                         "DATATYPE", "SHA256", "ENCODE_FOR_URI"]), terms),
    st.builds(lambda a, r: f'REGEX(STR({a}), "{r}", "i")', variables, st.sampled_from(["^a", ".*", "(a|b)*c", "["])),
)


def group(depth: int = 2):
    parts = [triples, st.builds(lambda e: f"FILTER({e})", expressions),
             st.builds(lambda e, v: f"BIND({e} AS {v})", expressions, variables),
             st.builds(lambda v, t: f"VALUES {v} {{ {' '.join(t)} }}", variables, st.lists(terms, max_size=4))]
    if depth:
        inner = st.deferred(lambda: group(depth - 1))
        parts += [st.builds(lambda g: f"OPTIONAL {g}", inner), st.builds(lambda a, b: f"{a} UNION {b}", inner, inner),
                  st.builds(lambda g: f"MINUS {g}", inner), st.builds(lambda t, g: f"GRAPH {t} {g}", terms, inner)]
    return st.lists(st.one_of(*parts), max_size=5).map(lambda items: "{ " + " ".join(items) + " }")


PROLOGUE = ("PREFIX haven: <https://w3id.org/haven/ontology#> PREFIX hid: <https://w3id.org/haven/id/> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
            "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> ")
heads = st.one_of(
    st.builds(lambda d, vs: f"SELECT {d}{' '.join(vs) or '*'}", st.sampled_from(["", "DISTINCT ", "REDUCED "]),
              st.lists(variables, max_size=3, unique=True)),
    st.just("SELECT (COUNT(*) AS ?n)"), st.just("ASK"), st.builds(lambda g: f"CONSTRUCT {g}", group(0)),
    st.builds(lambda t: f"DESCRIBE {t}", st.one_of(iris, variables)),
)
modifiers = st.sampled_from(["", "LIMIT 5", "ORDER BY ?s", "GROUP BY ?s", "OFFSET 2 LIMIT 1", "LIMIT 99999999999"])
grammar_queries = st.builds(lambda p, h, g, m: f"{p}{h} WHERE {g} {m}", st.sampled_from(["", PROLOGUE]),
                            heads, group(), modifiers)


@st.composite
def mutated(draw, base=st.sampled_from(COMPETENCY_QUESTIONS or ["SELECT * WHERE { ?s ?p ?o }"])):
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 40)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "keyword", "char"]))
        if action == "delete":
            text = text[:i] + text[j:]
        elif action == "insert":
            text = text[:i] + draw(st.text(max_size=10)) + text[i:]
        elif action == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif action == "keyword":
            word = draw(st.sampled_from(["SERVICE <http://127.0.0.1:9/>", "INSERT DATA", "LOAD", "FROM <x>", "{",
                                         "}", "(", "*", "\\u0053ERVICE", "#", '"', "<", "WITH", "GRAPH ?g"]))
            text = text[:i] + f" {word} " + text[i:]
        else:
            text = text[:i] + draw(st.sampled_from(["\x00", "\ufffd", "\u202e", "\r", "\\", "'", "\U0001F600"])) + text[j:]
    return text


queries = st.one_of(grammar_queries, mutated(), st.text(max_size=200))

MEDIA_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values", "text/turtle", "application/n-triples", "application/rdf+xml",
               "application/ld+json", "text/html", "application/xhtml+xml", "*/*", "text/*", "application/*",
               "image/png", "application/json", "", ";", "*/*;q=0", "text/turtle;q=abc", "x/y;charset=\"\\"]
accepts = st.one_of(
    st.lists(st.builds(lambda m, q: m + q, st.sampled_from(MEDIA_TYPES),
                       st.sampled_from(["", ";q=0.5", ";q=0", ";q=1.0", ";q=-1", ";q=2", ";level=1"])),
             max_size=5).map(", ".join),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
content_types = st.one_of(
    st.sampled_from(["application/sparql-query", "application/sparql-query; charset=utf-8",
                     "application/sparql-query; charset=latin-1", "application/x-www-form-urlencoded",
                     "application/x-www-form-urlencoded; charset=iso-8859-1", "application/sparql-update",
                     "multipart/form-data; boundary=zz", "multipart/form-data", "text/plain", "", "*/*",
                     "application/json"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
ODD_BYTES = [b"\xff\xfe", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\x00", b"caf\xe9", b"%", b"%zz", b"%00",
             b"%C0%AF", b"%FF", b"\r\n", b"+", b"&&&", b"=", b"\x1b[31m"]
bodies = st.one_of(
    queries.map(lambda q: q.encode("utf-8", "surrogatepass")),
    queries.map(lambda q: q.encode("latin-1", "replace")),
    st.lists(st.one_of(st.sampled_from(ODD_BYTES), st.binary(max_size=20)), max_size=8).map(b"".join),
    st.builds(lambda q, odd: b"query=" + q.encode("utf-8", "replace") + odd, queries, st.sampled_from(ODD_BYTES)),
)
SEGMENTS = ["..", "%2e%2e", "%2E%2e/", "%00", "%2f", "/", "//", "\\", "..%2f..%2fetc%2fpasswd", "al-qaeda",
            "al-qaeda.ttl", "al-qaeda.", ".ttl", "haven.nq", "haven.", "statement/x", "%C0%AE%C0%AE", "%ff",
            "~", "%0a", "%0d%0aSet-Cookie:%20x=1", ";jsessionid=1", "?", "#", "%3f", "AL-QAEDA", "a" * 300]
path_segments = st.lists(st.one_of(st.sampled_from(SEGMENTS),
                                   st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12)
                                   .map(lambda t: quote(t, safe="/.%"))), min_size=1, max_size=4).map("".join)
PREFIXES = ["/id/", "/data/", "/page/", "/dumps/", "/dumps/haven.", "/ontology", "/ontology.", "/ontology/",
            "/static/", "/sparql/", "/"]
paths_to_fuzz = st.builds(lambda prefix, seg: prefix + seg, st.sampled_from(PREFIXES), path_segments)


@st.composite
def requests(draw):
    """(method, path, headers, body) for one request; the path is already percent-encoded."""
    kind = draw(st.sampled_from(["get-query", "post-direct", "post-form", "path", "huge", "params"]))
    headers = {"Accept": draw(accepts)}
    if kind == "get-query":
        return "GET", "/sparql?query=" + quote(draw(queries), safe=""), headers, b""
    if kind == "post-direct":
        headers["Content-Type"] = draw(content_types)
        return "POST", "/sparql", headers, draw(bodies)
    if kind == "post-form":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return "POST", "/sparql", headers, b"query=" + quote(draw(queries), safe="").encode()
    if kind == "path":
        return draw(st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE"])), draw(paths_to_fuzz), headers, b""
    if kind == "huge":
        size = draw(st.sampled_from([70_000, 200_000, 1_000_000]))
        if draw(st.booleans()):
            return "GET", "/sparql?query=" + "a" * size, headers, b""
        headers["Content-Type"] = "application/sparql-query"
        return "POST", "/sparql", headers, b"ASK { " + b"?s ?p ?o . " * (size // 11) + b"}"
    names = st.sampled_from(["query", "format", "default-graph-uri", "named-graph-uri", "update", "timeout", ""])
    values = st.one_of(queries, st.sampled_from(["json", "ttl", "xml", "nope", "%00", "x" * 5000]))
    pairs = draw(st.lists(st.tuples(names, values), max_size=6))
    return "GET", "/sparql?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs), headers, b""


# -- the properties ---------------------------------------------------------------------------------------

def acceptable(status: int) -> bool:
    return status < 500 or status == 503


class Tally:
    def __init__(self):
        self.cases = 0
        self.statuses: dict[int, int] = {}
        self.slowest = 0.0

    def add(self, status: int, elapsed: float) -> None:
        self.cases += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.slowest = max(self.slowest, elapsed)

    def line(self, target: str) -> str:
        errors = sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)
        common = ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses.items()))
        return (f"fuzz ({target}, profile {PROFILE}): {self.cases} cases, {errors} 5xx other than 503, "
                f"slowest {self.slowest:.2f} s; statuses {common}")


@pytest.fixture(scope="module")
def fuzz_app(build_dir, shared_store):
    from haven.web.app import create_app
    from haven.config import Settings

    app = create_app(Settings(build_dir=build_dir).with_overrides(query_timeout=QUERY_TIMEOUT, result_limit=200),
                     store=shared_store)
    app.config["TESTING"] = False  # errors must go through the handlers, as in production
    return app


@pytest.mark.slow
def test_fuzz_flask_client(fuzz_app, pytestconfig):
    client = fuzz_app.test_client()
    tally = Tally()

    @settings(max_examples=FLASK_EXAMPLES, **FUZZ_SETTINGS)
    @given(requests())
    def case(request):
        method, path, headers, body = request
        started = time.monotonic()
        response = client.open(path, method=method, headers=headers, data=body)
        response.get_data()
        elapsed = time.monotonic() - started
        tally.add(response.status_code, elapsed)
        assert acceptable(response.status_code), (method, path[:300], headers, body[:300], response.get_data()[:500])
        assert elapsed < QUERY_TIMEOUT + MARGIN, (method, path[:300], body[:300])
        if response.status_code == 503:
            assert b"time limit" in response.data or response.headers.get("Retry-After")

    case()
    report_line(pytestconfig, tally.line("Flask test client"))
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


# -- the real process, with bytes no HTTP library would send ------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_server(build_dir):
    server = start_live_server(build_dir, query_timeout=QUERY_TIMEOUT, result_limit=200, threads=4)
    yield server
    server.stop()


def raw_exchange(server, raw: bytes, timeout: float) -> tuple[int | None, bytes]:
    """Send bytes as they are; return (status, head). None when the server closed without an answer."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered (413) and closed before taking a huge body: read that answer
        data = read_until(sock, b"\r\n")
    if not data:
        return None, b""
    status_line = data.split(b"\r\n", 1)[0].split()
    return int(status_line[1]), data[:2000]


def raw_request(method: str, target: bytes, headers: dict, body: bytes) -> bytes:
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in headers.items():
        lines.append(name.encode() + b": " + value.encode("latin-1", "replace"))
    if body or method == "POST":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


RAW_TARGETS = [b"/id/\x01", b"/id/\x00", b"/page/..\x7f", b"/data/al-qaeda\x1b.ttl", b"/dumps/haven.\xc0\xae",
               b"/ontology/\xff\xfe", b"/id/%00", b"/id/../../etc/passwd", b"/sparql?query=\xc0\xaf",
               b"/sparql?query=ASK%20{}\x00", b"/%2e%2e/%2e%2e/etc/passwd", b"//id//al-qaeda", b"/id/al-qaeda\t",
               b"*", b"http://evil.example/id/al-qaeda", b"/sparql?" + b"&".join(b"a=%d" % i for i in range(3000))]


@pytest.mark.live
def test_fuzz_live_server(fuzz_server, pytestconfig):
    tally = Tally()

    def check(raw: bytes) -> None:
        started = time.monotonic()
        status, head = raw_exchange(fuzz_server, raw, timeout=QUERY_TIMEOUT + MARGIN + 5)
        elapsed = time.monotonic() - started
        tally.add(status or 0, elapsed)
        # waitress may close the connection on a request line it cannot parse; that is not an error answer
        assert status is None or acceptable(status), (raw[:300], head)
        assert elapsed < QUERY_TIMEOUT + MARGIN, raw[:300]

    for target in RAW_TARGETS:
        check(raw_request("GET", target, {"Accept": "*/*"}, b""))

    @settings(max_examples=LIVE_EXAMPLES, **FUZZ_SETTINGS)
    @given(requests(), st.sampled_from([None, b"\x01", b"\x00", b"\xc0\xaf", b"\xff", b"%00", b"\x7f"]))
    def case(request, odd):
        method, path, headers, body = request
        target = path.encode("latin-1", "replace")
        if odd is not None:  # a raw byte spliced into the request target
            cut = len(target) // 2
            target = target[:cut] + odd + target[cut:]
        check(raw_request(method, target, headers, body))

    case()
    report_line(pytestconfig, tally.line("real server over HTTP"))
    with fuzz_server.get("/healthz") as response:
        assert response.status == 200
    assert fuzz_server.process.poll() is None
