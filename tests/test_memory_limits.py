"""Memory per query worker and bytes per answer are bounded (issue 14.8), on the real server process.

* Embedded store, 128 MiB per query: two string-doubling queries (about 700 MB each unbounded) are stopped
  with a 503 that says so, their workers replaced, while cheap queries are answered 200 beside them; an
  answer over the 1 MiB cap is refused whole with a 503 that says so.
* Remote store (a real Oxigraph server): a 110 MB answer is refused after at most twice the cap is read, so
  the server never holds it.

Peak memory of the server and of each query worker is sampled from /proc during each attack and reported
(the figures, not assertions: a test states what must happen, the numbers say how much it cost).
"""
from __future__ import annotations

import concurrent.futures
import json
from urllib.parse import urlencode

import pytest

from plugins.figures import report_line
from plugins.servers import start_live_server
from plugins.procmem import PeakMemory, mib
from plugins.rawhttp import timed_exchange

pytestmark = [pytest.mark.live, pytest.mark.slow]

MEMORY_MB = 128
MAX_ANSWER_BYTES = 1 << 20
TIMEOUT = 30.0


def doubling(steps: int, select: str = "(STRLEN(?s{n}) AS ?length)") -> str:
    """A 10-character string doubled `steps` times: 10 × 2^steps characters, in a query of a few hundred bytes."""
    binds = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(steps))
    return f'SELECT {select.format(n=steps)} WHERE {{ BIND("0123456789" AS ?s0) {binds} }}'


#: about 335 MB in its last string, twice that with the strings before it
MEMORY_BOMB = doubling(25)


def ask(server, query: str, timeout: float = TIMEOUT + 30):
    response, body, seconds = timed_exchange(server, "GET", "/sparql?" + urlencode({"query": query}), None,
                                             {"Accept": "application/sparql-results+json"}, timeout=timeout)
    return response.status, body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def server(build_dir):
    live = start_live_server(build_dir, query_timeout=TIMEOUT, max_concurrent_queries=4,
                             query_memory_mb=MEMORY_MB, max_answer_bytes=MAX_ANSWER_BYTES)
    yield live
    live.stop()


def test_a_query_over_the_memory_limit_is_stopped_and_its_worker_replaced(server, pytestconfig):
    assert ask(server, "ASK {}")[0] == 200  # the workers are up
    with PeakMemory(server.process.pid) as peak, concurrent.futures.ThreadPoolExecutor(2) as pool:
        bombs = [pool.submit(ask, server, MEMORY_BOMB) for _ in range(2)]
        cheap = []
        while not all(b.done() for b in bombs):
            cheap.append(ask(server, "ASK {}"))
        answers = [b.result() for b in bombs]
    report_line(pytestconfig, (
        f"memory (14.8, embedded): 2 string-doubling queries (~700 MB each unbounded) with {MEMORY_MB} MiB per "
        f"query → {sorted({status for status, _ in answers})}; peak per worker {mib(peak.largest_child)}, server "
        f"{mib(peak.server)}, server and workers together {mib(peak.total)}; {len(cheap)} cheap queries meanwhile: "
        f"{sorted({status for status, _ in cheap})}"))
    for status, text in answers:
        assert status == 503, text[:300]
        assert f"needed more than the {MEMORY_MB} MiB of memory a query may use" in text
    # the other clients' queries were answered beside the attack, by the workers it did not take
    assert cheap and all(status == 200 for status, _ in cheap), cheap[:3]
    # the pool is whole again: as many queries at once as it has workers
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert [s for s, _ in pool.map(lambda _: ask(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 1"), range(4))] \
            == [200] * 4


def test_an_answer_over_the_byte_cap_is_refused_whole(server, pytestconfig):
    big = doubling(18, "?s{n}")  # one value of 2.6 MB
    with PeakMemory(server.process.pid) as peak:
        status, text = ask(server, big)
    report_line(pytestconfig, f"answer cap (14.8, embedded): a 2.6 MB answer over the {MAX_ANSWER_BYTES:,}-byte cap → "
                              f"{status}; peak per worker {mib(peak.largest_child)}, server {mib(peak.server)}")
    assert status == 503 and f"over the {MAX_ANSWER_BYTES:,} bytes this endpoint sends" in text, text[:300]
    small = doubling(10, "?s{n}")  # 10 KB: well under the cap
    status, text = ask(server, small)
    assert status == 200 and len(json.loads(text)["results"]["bindings"][0]["s10"]["value"]) == 10 * 2 ** 10


def test_a_remote_store_answer_over_the_byte_cap_is_refused_before_it_is_held(tmp_path, oxigraph_server, pytestconfig):
    (tmp_path / "build").mkdir()
    live = start_live_server(tmp_path / "build", store=oxigraph_server.query_url, query_timeout=TIMEOUT,
                             max_answer_bytes=MAX_ANSWER_BYTES)
    try:
        assert ask(live, "ASK {}")[0] == 200
        with PeakMemory(live.process.pid) as peak:
            # a 1.3 MB value on each of the release's triples: about 110 MB, each value far below what a parser
            # refuses as one token
            status, text = ask(live, doubling(17, "?s{n}").replace("WHERE {", "WHERE { ?s ?p ?o", 1))
        report_line(pytestconfig, f"answer cap (14.8, remote): a 110 MB answer from Oxigraph server over the "
                                  f"{MAX_ANSWER_BYTES:,}-byte cap → {status}; server peak {mib(peak.server)}")
        assert status == 503 and f"over the {MAX_ANSWER_BYTES:,} bytes this endpoint sends" in text, text[:300]
        assert ask(live, doubling(10, "?s{n}"))[0] == 200
    finally:
        live.stop()
