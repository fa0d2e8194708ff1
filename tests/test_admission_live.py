"""Query admission through the real server process: bursts wait for a slot instead of being refused, and one
client's burst does not starve another client.

Clients are told apart by address: each test client connects from its own loopback address (127.0.0.N;
Linux routes all of 127/8 to the loopback interface), as different machines would reach a public server.
The admission settings are the defaults; only the query time limit is shortened, so that the slow queries
end within the test.
"""
from __future__ import annotations

import http.client
import threading
from urllib.parse import urlencode, urlsplit

import pytest

from plugins.figures import report_line
from plugins.servers import start_live_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

TIMEOUT = 4.0
CHEAP = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 50"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?s1 ?p1 ?o1 . ?s2 ?p2 ?o2 . ?s3 ?p3 ?o3 . ?s4 ?p4 ?o4 . ?s5 ?p5 ?o5 }"


@pytest.fixture(scope="module")
def server(build_dir):
    live = start_live_server(build_dir, query_timeout=TIMEOUT)
    yield live
    live.stop()


def ask(server, text: str, address: str) -> tuple[int, bytes, str | None]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT + 30,
                                            source_address=(address, 0))
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": text}),
                           headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Retry-After")
    finally:
        connection.close()


def run_all(jobs) -> list:
    """Start every job at once (a barrier), wait for all; their results in order."""
    results = [None] * len(jobs)
    gate = threading.Barrier(len(jobs))

    def one(index, job):
        gate.wait()
        results[index] = job()

    threads = [threading.Thread(target=one, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 60)
    assert all(result is not None for result in results), "a request never came back"
    return results


def test_a_burst_of_cheap_queries_from_many_clients_is_answered_without_503(server, pytestconfig):
    clients, each = 64, 4

    def client(number):
        return [ask(server, CHEAP, f"127.0.0.{10 + number}")[0] for _ in range(each)]

    statuses = [status for answers in run_all([lambda n=n: client(n) for n in range(clients)]) for status in answers]
    assert statuses == [200] * (clients * each)
    report_line(pytestconfig, f"admission: {clients} clients × {each} cheap queries at once, default slots: "
                              f"{statuses.count(200)} × 200, no 503")


def test_one_clients_burst_does_not_starve_another_client(server, pytestconfig):
    greedy, polite = "127.0.0.2", "127.0.0.3"
    burst = 24
    finished_slow = []
    polite_done = threading.Event()
    slow_left_when_polite_done = []

    def greedy_query():
        answer = ask(server, RUNAWAY, greedy)
        finished_slow.append(answer[0])
        return answer

    def polite_client():
        answers = [ask(server, CHEAP, polite) for _ in range(5)]
        slow_left_when_polite_done.append(burst - len(finished_slow))
        polite_done.set()
        return answers

    results = run_all([greedy_query] * burst + [polite_client])
    greedy_answers, polite_answers = results[:burst], results[burst]
    assert [status for status, _, _ in polite_answers] == [200] * 5
    # the polite client was answered while the greedy one's evaluated queries were still running
    over_limit = [a for a in greedy_answers if a[0] == 429]
    timed_out = [a for a in greedy_answers if a[0] == 503 and b"time limit" in a[1]]
    assert len(over_limit) + len(timed_out) == burst, {a[0] for a in greedy_answers}
    assert slow_left_when_polite_done[0] >= len(timed_out) > 0
    assert all(retry == "1" for _, _, retry in over_limit) and over_limit
    report_line(pytestconfig, f"admission: a client's burst of {burst} runaway queries → {len(timed_out)} evaluated "
                              f"to the {TIMEOUT:g} s limit, {len(over_limit)} refused 429; a second client's 5 "
                              f"cheap queries all 200 while they ran")
