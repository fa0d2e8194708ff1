"""The load test's short version: bench/load.py's mix for a few seconds against a real server process.

Zero errors, every kind of request answered, and a sample of the RDF documents parsed whole by rdflib. The
long run (concurrency 64, 60 s) is a command: `make load` (figures in docs/reliability.md). The checker that
decides what counts as an error is tested here too, on answers that must fail it."""
from __future__ import annotations

import gzip
import http.client

import pytest

from plugins.bench import bench_module
from plugins.figures import report_line
from plugins.servers import start_live_server

SMOKE_SECONDS = 5.0
SMOKE_CONCURRENCY = 16


@pytest.mark.live
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's JSON-LD parser uses ConjunctiveGraph
def test_mix_for_a_few_seconds_has_no_error_and_whole_bodies(build_dir, request):
    load = bench_module("load")
    # the server's default settings, as the load command runs it: see docs/reliability.md
    server = start_live_server(build_dir)
    try:
        targets = load.discover(server.url)
        assert "taliban" in targets.slugs and len(targets.queries) >= 10
        report = load.run_load(server.url, targets, concurrency=SMOKE_CONCURRENCY, duration=SMOKE_SECONDS,
                               mix=load.DEFAULT_MIX, verify=0.3)
        assert server.process.poll() is None
    finally:
        server.stop()
    samples = [s for stats in report.kinds.values() for s in stats.error_samples]
    assert report.errors == 0, samples
    assert set(report.kinds) == set(load.DEFAULT_MIX)
    for name, stats in report.kinds.items():
        assert stats.requests >= 5, (name, stats.requests)
    statuses = {status for stats in report.kinds.values() for status in stats.statuses}
    assert {200, 303} <= statuses and statuses <= {200, 303, 304}
    assert report.rdf_parsed >= 20
    total = report.rows()[-1]
    report_line(request.config, f"load smoke: {report.requests} requests at c={SMOKE_CONCURRENCY} in "
                                f"{report.seconds:.1f} s, {report.errors} errors, p50 {total['p50_ms']:.0f} ms, "
                                f"p99 {total['p99_ms']:.0f} ms, {report.rdf_parsed} RDF bodies parsed whole")


# -- what the load test counts as an error ------------------------------------------------------------------

TURTLE = b"""@prefix hid: <https://w3id.org/haven/id/> .
hid:taliban <http://www.w3.org/2000/01/rdf-schema#label> "Taliban"@en ;
    <http://www.w3.org/2004/02/skos/core#altLabel> "Taliban movement"@en .
"""


def headers(**values) -> http.client.HTTPMessage:
    message = http.client.HTTPMessage()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def data_request(load, ext="ttl"):
    return load.Planned("data", "GET", f"/data/taliban.{ext}", {}, check=f"rdf:{load.DATA_FORMATS[ext][1]}")


def test_checker_accepts_a_whole_document():
    load = bench_module("load")
    load.check_answer(data_request(load), 200, headers(), TURTLE, parse_rdf=True)
    load.check_answer(data_request(load), 200, headers(Content_Encoding="gzip"), gzip.compress(TURTLE),
                      parse_rdf=True)
    assert load.check_rdf("turtle", TURTLE) == 2


@pytest.mark.parametrize("status", [503, 500, 404, 302])
def test_checker_refuses_an_unexpected_status(status):
    load = bench_module("load")
    with pytest.raises(load.BadAnswer, match=f"HTTP {status}"):
        load.check_answer(data_request(load), status, headers(), TURTLE, parse_rdf=False)


def test_checker_refuses_cut_rdf():
    load = bench_module("load")
    with pytest.raises(load.BadAnswer, match="does not parse"):
        load.check_answer(data_request(load), 200, headers(), TURTLE[:-40], parse_rdf=True)
    with pytest.raises(load.BadAnswer, match="does not parse"):
        load.check_rdf("json-ld", b'{"@id": "https://w3id.org/haven/id/taliban", "http://x/p": [')


def test_checker_refuses_empty_and_tripleless_bodies():
    load = bench_module("load")
    with pytest.raises(load.BadAnswer, match="empty body"):
        load.check_answer(data_request(load), 200, headers(), b"\n", parse_rdf=False)
    with pytest.raises(load.BadAnswer, match="no triple"):
        load.check_rdf("turtle", b"@prefix hid: <https://w3id.org/haven/id/> .\n")


def test_checker_refuses_a_cut_gzip_stream():
    load = bench_module("load")
    with pytest.raises(load.BadAnswer, match="gzip"):
        load.check_answer(data_request(load), 200, headers(Content_Encoding="gzip"), gzip.compress(TURTLE)[:-6],
                          parse_rdf=False)


def test_checker_refuses_cut_html_and_sparql_results():
    load = bench_module("load")
    page = load.Planned("page", "GET", "/page/taliban", {}, check="html")
    with pytest.raises(load.BadAnswer, match="</html>"):
        load.check_answer(page, 200, headers(), b"<!doctype html><html><body><h1>Taliban", parse_rdf=False)
    for media_type, cut in (("application/sparql-results+json", b'{"head": {"vars": ["s"]}, "results": {"bi'),
                            ("application/sparql-results+xml", b"<sparql><results><result>"),
                            ("text/csv", b"s\r\nhttps://w3id.org/haven/id/tali")):
        query = load.Planned("sparql-get", "GET", "/sparql", {}, check=f"sparql:{media_type}")
        with pytest.raises(load.BadAnswer):
            load.check_answer(query, 200, headers(), cut, parse_rdf=False)


def test_checker_refuses_a_303_to_the_wrong_format():
    load = bench_module("load")
    thing = load.Planned("id", "GET", "/id/taliban", {"Accept": "text/turtle"}, expect=(303,),
                         location="/data/taliban.ttl")
    load.check_answer(thing, 303, headers(Location="http://127.0.0.1:1/data/taliban.ttl"), b"", parse_rdf=False)
    with pytest.raises(load.BadAnswer, match="303 to"):
        load.check_answer(thing, 303, headers(Location="http://127.0.0.1:1/page/taliban"), b"", parse_rdf=False)


def test_load_refuses_a_host_other_than_loopback():
    load = bench_module("load")
    with pytest.raises(ValueError, match="loopback"):
        load.run_load("http://example.org/", load.Targets(["taliban"], {}), concurrency=1, duration=0.1,
                      mix={"landing": 1})


def test_mix_parsing():
    load = bench_module("load")
    assert load.parse_mix("data=2,sparql-get=1") == {"data": 2, "sparql-get": 1}
    with pytest.raises(ValueError, match="unknown request kind"):
        load.parse_mix("data=2,delete=1")
    with pytest.raises(ValueError, match="no request"):
        load.parse_mix("data=0")


def test_each_client_connects_from_its_own_loopback_address():
    load = bench_module("load")
    url = "http://127.0.0.1:8080/"
    addresses = {load.client_address(url, n, one_address=False) for n in range(300)}
    assert len(addresses) == 300 and all(host.startswith("127.") and port == 0 for host, port in addresses)
    assert ("127.0.0.1", 0) not in addresses
    assert load.client_address(url, 5, one_address=True) is None
    assert load.client_address("http://localhost:8080/", 5, one_address=False) is None


def test_refusals_are_told_apart_by_their_message():
    load = bench_module("load")
    assert load.refusal_reason(503, b"The server is answering as many queries as it allows at once; retry shortly.\n") == "busy"
    assert load.refusal_reason(503, b"The query ran past the 10 s time limit and was stopped.") == "time limit"
    assert load.refusal_reason(429, b"This client already has ...") == "client limit"
    assert load.refusal_reason(200, b"") is None
