"""The resource limits hold on the real server process, under pressure, and memory stays bounded meanwhile.

Settings: 1.5 s query time limit, 2 queries at once, 0.5 s wait for a slot, 50 results, 4 KiB requests.
Checked: a timed-out query is a 503 (never a truncated 200) and takes the limit, not less and not much more;
the result cap is signalled in every format; bodies over the cap are 413 however they are sent; N+k
simultaneous slow queries from N+k clients give at most N evaluations and k 503s with Retry-After once their
wait for a slot is over (before any evaluation ends); and the resident memory of the server and its query
workers after repeated bursts stays near where it started.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from plugins.figures import report_line
from plugins.rawhttp import read_until, timed_exchange
from plugins.servers import start_live_server

pytestmark = pytest.mark.live

TIMEOUT = 1.5
SLOTS = 2
QUEUE_WAIT = 0.5
LIMIT = 50
MAX_BYTES = 4096
MARGIN = 3.0
# a sorted product that runs past the time limit in constant memory: the filter keeps no row (and cannot become a
# join), so the per-query memory cap (a separate limit, tests/test_memory_limits.py) is not what stops it first
SLOW = ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o "
        "FILTER (STRLEN(STR(?a)) + STRLEN(STR(?o)) < 0) } ORDER BY ?a ?o")
SLOW_CONSTRUCT = ("CONSTRUCT { ?a ?b ?o } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?o "
                  "FILTER (STRLEN(STR(?a)) + STRLEN(STR(?o)) < 0) } ORDER BY ?o ?a")
#: resident memory growth allowed over the bursts (workers are replaced after each timeout: same size)
RSS_GROWTH_BOUND_MB = 150
RSS_TOTAL_BOUND_MB = 2048


@pytest.fixture(scope="module")
def server(build_dir):
    live = start_live_server(build_dir, query_timeout=TIMEOUT, max_concurrent_queries=SLOTS, result_limit=LIMIT,
                             max_query_bytes=MAX_BYTES, threads=12, query_queue_timeout=QUEUE_WAIT)
    yield live
    live.stop()


def exchange(server, method, path, body=None, headers=None, address=None):
    return timed_exchange(server, method, path, body, headers, timeout=TIMEOUT + MARGIN + 10, address=address)


def query(server, text, accept="application/sparql-results+json", address=None):
    return exchange(server, "GET", "/sparql?" + urlencode({"query": text}), headers={"Accept": accept},
                    address=address)


# -- time limit -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, accept", [(SLOW, "application/sparql-results+json"), (SLOW, "text/csv"),
                                          (SLOW_CONSTRUCT, "text/turtle"), (SLOW_CONSTRUCT, "application/n-triples")])
def test_timeout_is_503_never_a_truncated_200(server, text, accept):
    response, body, elapsed = query(server, text, accept)
    assert response.status == 503
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert b"time limit" in body and b"http://" not in body and b'"bindings"' not in body
    assert TIMEOUT - 0.1 <= elapsed < TIMEOUT + MARGIN
    assert query(server, "ASK {}")[0].status == 200


# -- result cap -----------------------------------------------------------------------------------------------

def count_results(body: bytes, accept: str) -> int:
    text = body.decode()
    if accept == "application/sparql-results+xml":
        return text.count("<result>")
    if accept == "text/tab-separated-values":
        return len(text.strip().splitlines()) - 1
    if accept == "application/n-triples":
        return len([line for line in text.splitlines() if line.strip() and not line.startswith("#")])
    raise AssertionError(accept)


@pytest.mark.parametrize("text, accept", [
    ("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+xml"),
    ("SELECT * WHERE { ?s ?p ?o }", "text/tab-separated-values"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples"),
])
def test_result_cap_signalled_in_every_format(server, text, accept):
    response, body, _ = query(server, text, accept)
    assert response.status == 200
    assert response.getheader("Haven-Result-Capped") == f"true; limit={LIMIT}"
    assert count_results(body, accept) == LIMIT
    if accept.endswith("xml"):
        assert b"#result-limit" in body  # the results' <link> to the limit's description
    if accept == "application/n-triples":
        assert body.startswith(b"# Haven: result capped at 50 triples")


# -- request size ---------------------------------------------------------------------------------------------

def raw(server, head: bytes, body: bytes = b"") -> bytes:
    """Send a request as bytes and return the answer's head. The server may answer 413 and close before the
    body is all sent (it does not read what it will refuse), so a broken pipe while sending is expected."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=TIMEOUT + MARGIN) as sock:
        sock.sendall(head)
        try:
            for start in range(0, len(body), 65536):
                sock.sendall(body[start:start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_until(sock, b"\r\n\r\n")


def status_of(answer: bytes) -> int:
    return int(answer.split(b"\r\n", 1)[0].split()[1])


def post_head(content_type: bytes, length: int | None) -> bytes:
    framing = b"Content-Length: %d" % length if length is not None else b"Transfer-Encoding: chunked"
    return (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + content_type + b"\r\n"
            + framing + b"\r\n\r\n")


def test_request_body_cap_413_however_it_is_sent(server):
    padded = ("ASK { " + "?s ?p ?o . " * 500 + "}").encode()  # over the cap; form-encoded, under 4x
    assert len(padded) > MAX_BYTES
    # a little over the cap: an ordinary client sends it all and reads the app's 413 (plain text, CORS)
    for headers, body in (({"Content-Type": "application/sparql-query"}, padded),
                          ({"Content-Type": "application/x-www-form-urlencoded"},
                           urlencode({"query": padded.decode()}).encode())):
        response, data, elapsed = exchange(server, "POST", "/sparql", body, headers)
        assert response.status == 413 and b"413" in data, (headers, response.status, data[:200])
        assert response.getheader("Access-Control-Allow-Origin") == "*"
        assert elapsed < MARGIN
    # far over it, announced or chunked: refused without reading (and spooling) the body
    huge = b"ASK {}" + b" " * (4 * 1024 * 1024)
    chunk = b"?s ?p ?o . " * 100
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    for head, body in ((post_head(b"application/sparql-query", len(huge)), huge),
                       (post_head(b"application/x-www-form-urlencoded", len(huge)), huge),
                       (post_head(b"application/sparql-query", 10 ** 12), b"ASK {}"),
                       (post_head(b"application/sparql-query", None), chunked)):
        started = time.monotonic()
        assert status_of(raw(server, head, body)) == 413, head
        assert time.monotonic() - started < MARGIN
    # refused on the Content-Type alone, before the body is read: an unknown type, an update
    for content_type, expected in (("text/plain", 415), ("application/sparql-update", 403)):
        response, _, _ = exchange(server, "POST", "/sparql", b"CLEAR ALL", {"Content-Type": content_type})
        assert response.status == expected
    assert query(server, "ASK {}")[0].status == 200


# -- concurrency cap ------------------------------------------------------------------------------------------

def burst(server, count: int) -> list[tuple[int, bytes, float, str | None]]:
    """`count` slow queries at once, each from its own client (loopback address)."""
    results: list = [None] * count
    gate = threading.Barrier(count)

    def one(index):
        gate.wait()
        response, body, elapsed = query(server, SLOW, address=f"127.0.0.{10 + index}")
        results[index] = (response.status, body, elapsed, response.getheader("Retry-After"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT + MARGIN + 20)
    assert all(r is not None for r in results), "a request never came back"
    return results


def test_excess_concurrent_queries_wait_their_bounded_time_then_503_retry_after(server, pytestconfig):
    extra = 6
    results = burst(server, SLOTS + extra)
    evaluated = [r for r in results if b"time limit" in r[1]]
    refused = [r for r in results if r[3] is not None]
    assert all(status == 503 for status, *_ in results)
    assert len(evaluated) <= SLOTS and len(refused) >= extra
    assert len(evaluated) + len(refused) == len(results)
    # refused once their wait for a slot is over: not at once, and not queued behind the slow ones
    assert min(elapsed for _, _, elapsed, _ in refused) >= QUEUE_WAIT - 0.05
    assert max(elapsed for _, _, elapsed, _ in refused) < TIMEOUT
    assert max(elapsed for _, _, elapsed, _ in results) < TIMEOUT + MARGIN
    assert {retry for *_, retry in refused} == {"1"}
    report_line(pytestconfig, f"limits: {SLOTS}+{extra} simultaneous slow queries from as many clients → "
                              f"{len(evaluated)} evaluated to the {TIMEOUT:g} s limit, {len(refused)} refused 503 "
                              f"Retry-After after waiting {min(e for _, _, e, _ in refused) * 1000:.0f}-"
                              f"{max(e for _, _, e, _ in refused) * 1000:.0f} ms for a slot")
    assert query(server, "ASK {}")[0].status == 200


# -- memory ---------------------------------------------------------------------------------------------------

def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the query workers), from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue  # a worker killed at its deadline while we looked
    return total / 1024


def test_memory_stays_bounded_while_limits_are_hit(server, pytestconfig):
    pid = server.process.pid
    # one round first, so that lazily built caches and replaced workers count in the baseline
    burst(server, SLOTS + 2)
    time.sleep(1.0)
    before = tree_rss_mb(pid)
    big = b"ASK {}" + b" " * (512 * 1024)
    big_head = post_head(b"application/sparql-query", len(big))
    for _ in range(3):
        burst(server, SLOTS + 4)
        for _ in range(5):
            assert query(server, "SELECT * WHERE { ?s ?p ?o . ?t ?q ?u }")[0].status == 200  # capped answers
            assert status_of(raw(server, big_head, big)) == 413
    time.sleep(1.5)  # replacement workers finish loading
    after = tree_rss_mb(pid)
    report_line(pytestconfig, f"limits: server + workers resident memory {before:.0f} MB before, {after:.0f} MB after "
                              f"3 bursts of timeouts, refusals, capped results and 512 KiB bodies")
    assert after < before + RSS_GROWTH_BOUND_MB
    assert after < RSS_TOTAL_BOUND_MB
    assert query(server, "ASK {}")[0].status == 200
