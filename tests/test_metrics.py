"""Prometheus metrics at /metrics (haven.web.metrics) and the operations files of deploy/prometheus/.

Fast tests read a fresh app's /metrics through the Flask client, parsed with prometheus_client's own parser:
a request is counted under its route rule and status, never its path; refusals are counted by reason (the
store failures forced by a store that raises, the admission queue's read from its stats, the endpoint's
400/403/413); the caches count hits and misses; the release and its age are there; only loopback (or the
configured networks), never through a proxy, may read it. The live tests scrape a real server process after
traffic (embedded store, then a remote Oxigraph store that is lost) and two replicas behind nginx, each at
its own address, then by a real Prometheus server (Debian's) run with the shipped configuration. promtool
(Debian's `prometheus` package, `make system-deps`) checks the configuration and runs the alert rules' unit
tests.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from haven.store.base import AnswerTooLarge, QueryOutOfMemory, QueryTimeout, StoreBusy, StoreError
from haven.store.embedded import WorkerDied, WorkerPool
from haven.web.caching import parse_release_date
from haven.web.sparql.routes import query_admission

from plugins.release import RELEASE_ID
from plugins.servers import start_live_server
from plugins.stores import free_port, load_release, start_oxigraph_server

PROMETHEUS_DIR = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"
JSON_RESULTS = "application/sparql-results+json"
CHEAP = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition: (sample name, its labels) → value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client, **kwargs) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def series(samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample, labels in samples if sample == name]


def sparql(client, query: str, **kwargs):
    return client.get("/sparql", query_string={"query": query}, headers={"Accept": JSON_RESULTS}, **kwargs)


# -- requests by route ----------------------------------------------------------------------------------------

def test_a_request_is_counted_under_its_route_rule_and_status_not_its_path(client):
    for slug in ("al-qaeda", "taliban", "osama-bin-laden"):
        assert client.get(f"/page/{slug}").status_code == 200
    assert client.get("/page/no-such-entity").status_code == 404
    samples = scrape(client)
    requests = series(samples, "haven_http_requests_total")
    assert value(samples, "haven_http_requests_total", route="/page/<path:slug>", method="GET", status="200") == 3
    assert value(samples, "haven_http_requests_total", route="/page/<path:slug>", method="GET", status="404") == 1
    assert not any("al-qaeda" in labels["route"] or "taliban" in labels["route"] for labels in requests)
    assert value(samples, "haven_http_request_duration_seconds_count", route="/page/<path:slug>") == 4


def test_random_paths_and_methods_add_no_series(client):
    client.get("/nothing/here")
    client.open("/nothing/here", method="BREW")
    before = scrape(client)
    for n in range(25):
        assert client.get(f"/random-{n}/path?x={n}").status_code == 404
        client.open(f"/random-{n}", method=f"M{n}")
    after = scrape(client)
    names = {"haven_http_requests_total", "haven_http_request_duration_seconds_count"}
    # only the counts of /metrics itself are new: the first scrape was not counted yet when it was read
    assert ({key for key in after if key[0] in names} - {key for key in before if key[0] in names}
            == {(name, labels) for name, labels in after if name in names and ("route", "/metrics") in labels})
    assert value(after, "haven_http_requests_total", route="unmatched", method="GET", status="404") == 26
    assert value(after, "haven_http_requests_total", route="unmatched", method="other", status="404") == 26


# -- refusals and query durations -------------------------------------------------------------------------------

@pytest.mark.parametrize("failure, reason", [
    (QueryTimeout("past the limit"), "time_limit"),
    (QueryOutOfMemory("over the limit"), "memory"),
    (AnswerTooLarge("over the cap"), "answer_bytes"),
    (StoreBusy("every worker busy"), "workers_busy"),
    (WorkerDied("query worker exited unexpectedly"), "worker_died"),
    (StoreError("connection refused"), "store_unavailable"),
])
def test_a_store_failure_is_counted_by_reason(app, client, shared_store, monkeypatch, failure, reason):
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(shared_store, "execute", fail)
    response = sparql(client, CHEAP)
    assert response.status_code == 503
    monkeypatch.undo()
    samples = scrape(client)
    assert value(samples, "haven_refusals_total", reason=reason) == 1
    others = {labels["reason"]: value(samples, "haven_refusals_total", **labels)
              for labels in series(samples, "haven_refusals_total") if labels["reason"] != reason}
    assert set(others.values()) == {0}, others
    assert value(samples, "haven_query_duration_seconds_count", outcome=reason) == 1
    assert value(samples, "haven_http_requests_total", route="/sparql", method="GET", status="503") == 1


def test_a_store_failure_on_a_page_is_counted_too(client, shared_store, monkeypatch):
    def fail(*args, **kwargs):
        raise StoreError("connection refused")

    monkeypatch.setattr(shared_store, "graph", fail)
    monkeypatch.setattr(shared_store, "rows", fail)
    monkeypatch.setattr(shared_store, "ask", fail)
    assert client.get("/page/no-such-thing-yet").status_code == 503
    monkeypatch.undo()
    assert value(scrape(client), "haven_refusals_total", reason="store_unavailable") == 1


def test_answered_queries_are_timed(client):
    for _ in range(3):
        assert sparql(client, CHEAP).status_code == 200
    samples = scrape(client)
    assert value(samples, "haven_query_duration_seconds_count", outcome="answered") == 3
    assert value(samples, "haven_query_duration_seconds_sum", outcome="answered") > 0
    assert value(samples, "haven_queries_admitted_total") == 3


def test_a_full_queue_and_a_client_over_its_limit_are_read_from_the_admission_stats(make_app):
    app = make_app(max_concurrent_queries=1, query_queue_timeout=0.0, max_client_queries=1)
    client = app.test_client()
    admission = query_admission(app)
    admission.acquire("10.9.9.9")  # another client holds the one slot
    try:
        assert sparql(client, CHEAP).status_code == 503
        samples = scrape(client)
        assert value(samples, "haven_refusals_total", reason="queue_timeout") == 1
        assert value(samples, "haven_queries_running") == 1
        assert value(samples, "haven_query_slots") == 1
        assert sparql(client, CHEAP, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
        assert value(scrape(client), "haven_refusals_total", reason="client_limit") == 1
    finally:
        admission.release("10.9.9.9")
    assert value(scrape(client), "haven_queries_running") == 0


@pytest.mark.parametrize("request_kwargs, status, reason", [
    ({"query_string": {"query": "SELECT * WHERE {"}}, 400, "invalid"),
    ({"query_string": {"query": "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }"}}, 403, "forbidden"),
    ({"query_string": {"update": "DROP ALL"}}, 403, "forbidden"),
    ({"query_string": {"query": "SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000}}, 413, "too_large"),
])
def test_the_query_endpoints_own_refusals_are_counted(client, request_kwargs, status, reason):
    assert client.get("/sparql", headers={"Accept": JSON_RESULTS}, **request_kwargs).status_code == status
    assert value(scrape(client), "haven_refusals_total", reason=reason) == 1


# -- caches, release, workers ------------------------------------------------------------------------------------

def test_document_cache_hits_and_misses(client):
    for _ in range(3):
        assert client.get("/data/taliban.ttl").status_code == 200
    samples = scrape(client)
    assert value(samples, "haven_cache_lookups_total", cache="documents", result="miss") == 1
    assert value(samples, "haven_cache_lookups_total", cache="documents", result="hit") == 2


def test_an_entitys_page_and_formats_are_rendered_from_one_graph(client):
    """The page and each RDF format of an entity were each built from their own store round trips."""
    for path in ("/page/taliban", "/data/taliban.ttl", "/data/taliban.nt", "/data/taliban.jsonld"):
        assert client.get(path).status_code == 200, path
    samples = scrape(client)
    assert value(samples, "haven_cache_lookups_total", cache="graphs", result="miss") == 1
    assert value(samples, "haven_cache_lookups_total", cache="graphs", result="hit") == 3
    assert value(samples, "haven_cache_lookups_total", cache="documents", result="miss") == 4


def test_the_release_served_and_its_age(client, shared_store):
    samples = scrape(client)
    assert value(samples, "haven_store_up") == 1
    info = series(samples, "haven_release_info")
    assert [labels["release"] for labels in info] == [RELEASE_ID]
    created = parse_release_date(shared_store.manifest["created"]).timestamp()
    assert value(samples, "haven_release_created_timestamp_seconds") == created
    age = value(samples, "haven_release_age_seconds")
    assert time.time() - created - 60 < age <= time.time() - created
    assert value(samples, "haven_release_triples") == shared_store.manifest["triples"]
    assert value(samples, "haven_query_workers") == 4


def test_a_store_without_a_release_is_reported_down(client, shared_store, monkeypatch):
    def lost():
        raise StoreError("connection refused")

    monkeypatch.setattr(shared_store, "pinned", lost)
    samples = scrape(client)
    assert value(samples, "haven_store_up") == 0
    assert not series(samples, "haven_release_info")


@pytest.mark.slow
def test_a_worker_that_dies_is_counted_and_replaced():
    pool = WorkerPool(None, size=1)  # syntax checkers: no release to load
    try:
        pool.start()
        assert (pool.stats().alive, pool.stats().replaced) == (1, 0)
        next(iter(pool._workers)).proc.kill()
        with pytest.raises(StoreError):
            pool.run({"query": "ASK {}"}, timeout=5)
        assert pool.stats().replaced == 1
        deadline = time.monotonic() + 30
        while pool.stats().alive < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.stats().alive == 1
    finally:
        pool.close()


# -- who may read it ------------------------------------------------------------------------------------------

def test_metrics_are_not_cached_and_negotiate_openmetrics(client):
    response = client.get("/metrics")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain" and "version=0.0.4" in response.headers["Content-Type"]
    open_metrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert open_metrics.mimetype == "application/openmetrics-text"
    assert open_metrics.get_data(as_text=True).endswith("# EOF\n")


@pytest.mark.parametrize("environ, headers", [
    ({"REMOTE_ADDR": "203.0.113.9"}, {}),
    ({"REMOTE_ADDR": "127.0.0.1"}, {"X-Forwarded-For": "203.0.113.9"}),
    ({"REMOTE_ADDR": "127.0.0.1"}, {"Forwarded": "for=203.0.113.9"}),
])
def test_only_loopback_reads_the_metrics_and_never_through_a_proxy(client, environ, headers):
    response = client.get("/metrics", environ_base=environ, headers=headers)
    assert response.status_code == 403
    assert "HAVEN_METRICS_FROM" in response.get_data(as_text=True)


def test_metrics_from_names_the_scraper(make_app):
    client = make_app(metrics_from="10.0.0.5, 192.0.2.0/24").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:10.0.0.5"}).status_code == 200
    assert make_app(metrics_from="none").test_client().get("/metrics").status_code == 403


def test_a_bad_metrics_from_stops_start_up(make_app):
    with pytest.raises(ValueError, match="'10.0.0.300' is neither an address nor a network"):
        make_app(metrics_from="127.0.0.1, 10.0.0.300")


def test_haven_serve_takes_metrics_from(build_dir, fake_serve):
    from click.testing import CliRunner

    from haven.cli import main

    result = CliRunner().invoke(main, ["serve", "--build-dir", str(build_dir), "--metrics-from", "10.0.0.5"])
    assert result.exit_code == 0, result.output
    (settings,) = fake_serve
    assert [str(network) for network in settings.metrics_networks] == ["10.0.0.5/32"]


@pytest.mark.slow  # a Python process importing the web stack
def test_the_server_process_refuses_a_bad_metrics_from_in_one_line(build_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(HAVEN_BUILD_DIR=str(build_dir), HAVEN_PORT="0", HAVEN_METRICS_FROM="10.0.0.300")
    done = subprocess.run([sys.executable, "-m", "haven.web.serve"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "haven serve: metrics_from (HAVEN_METRICS_FROM, --metrics-from): '10.0.0.300' is neither an address nor "
        "a network; give e.g. 127.0.0.1,10.0.0.0/24, or none"]


# -- deploy/prometheus ----------------------------------------------------------------------------------------

def test_alert_rules_are_documented_and_name_only_series_haven_exposes(client):
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 10
    # every series a rule reads exists in a scrape (a rule about a renamed series would never fire)
    client.get("/metrics")  # a request counted before the scrape read below
    exposed = {name for name, _ in scrape(client)}
    for rule in alerts:
        assert rule["labels"]["severity"] in {"page", "warn", "info"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        for name in re.findall(r"\bhaven_[a-z_]+", rule["expr"]):
            assert name in exposed, (rule["alert"], name)
    docs = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    for rule in alerts:
        assert rule["alert"] in docs, f"{rule['alert']} is not explained in docs/operations.md"


# slow tier: `make test-slow` installs the system tools it needs (promtool, from Debian's prometheus package)
@pytest.mark.slow
@pytest.mark.parametrize("command", [
    ["check", "config", "prometheus.yml"],
    ["check", "rules", "alerts.yml"],
    ["test", "rules", "alerts.test.yml"],
])
def test_promtool_accepts_the_configuration_and_the_rules_behave(command):
    done = subprocess.run(["promtool", *command], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


# -- live ------------------------------------------------------------------------------------------------------

def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?s1 ?p1 ?o1 . ?s2 ?p2 ?o2 . ?s3 ?p3 ?o3 . ?s4 ?p4 ?o4 . ?s5 ?p5 ?o5 }"


@pytest.mark.live
@pytest.mark.slow
def test_a_real_server_is_scraped_after_traffic(build_dir):
    server = start_live_server(build_dir, query_timeout=1.0)
    try:
        base = server.url
        for path in ("page/al-qaeda", "page/taliban", "data/al-qaeda.ttl", "data/al-qaeda.ttl", "nowhere/1"):
            _get(base + path)
        query = base + "sparql?" + urllib.parse.urlencode({"query": CHEAP})
        assert _get(query, {"Accept": JSON_RESULTS})[0] == 200
        runaway = base + "sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
        assert _get(runaway, {"Accept": JSON_RESULTS})[0] == 503
        status, text = _get(base + "metrics")
        assert status == 200
        samples = parse(text)
    finally:
        server.stop()
    assert value(samples, "haven_http_requests_total", route="/page/<path:slug>", method="GET", status="200") == 2
    assert value(samples, "haven_http_requests_total", route="/data/<path:name>", method="GET", status="200") == 2
    assert value(samples, "haven_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value(samples, "haven_http_requests_total", route="/sparql", method="GET", status="503") == 1
    assert value(samples, "haven_refusals_total", reason="time_limit") == 1
    assert value(samples, "haven_query_duration_seconds_count", outcome="time_limit") == 1
    assert value(samples, "haven_query_duration_seconds_count", outcome="answered") == 1
    assert value(samples, "haven_query_worker_replacements_total") == 1  # the runaway query's worker
    assert value(samples, "haven_cache_lookups_total", cache="documents", result="hit") >= 1
    assert [labels["release"] for labels in series(samples, "haven_release_info")] == [RELEASE_ID]
    assert value(samples, "process_resident_memory_bytes") > 0


@pytest.mark.live
@pytest.mark.slow
def test_a_remote_store_lost_is_seen_in_the_metrics(build_dir, release_dir, tmp_path):
    store = start_oxigraph_server(tmp_path)
    load_release(release_dir, store)
    server = start_live_server(build_dir, store=store.query_url)
    try:
        query = server.url + "sparql?" + urllib.parse.urlencode({"query": CHEAP})
        assert _get(query, {"Accept": JSON_RESULTS})[0] == 200
        up = parse(_get(server.url + "metrics")[1])
        assert value(up, "haven_store_up") == 1
        assert [labels["release"] for labels in series(up, "haven_release_info")] == [RELEASE_ID]
        assert value(up, "haven_query_workers") >= 1  # the remote store's syntax checkers
        store.kill()
        time.sleep(1.1)  # past the release pointer's one-second life
        assert _get(query, {"Accept": JSON_RESULTS})[0] == 503
        down = parse(_get(server.url + "metrics")[1])
    finally:
        server.stop()
        store.stop()
    assert value(down, "haven_store_up") == 0
    assert value(down, "haven_refusals_total", reason="store_unavailable") >= 1


@pytest.mark.live
@pytest.mark.slow
def test_each_replica_is_scraped_at_its_own_address_and_nginx_hides_metrics(replicas):
    posts = 6
    for _ in range(posts):
        request = urllib.request.Request(replicas.nginx_url + "sparql", data=CHEAP.encode(), method="POST",
                                         headers={"Content-Type": "application/sparql-query", "Accept": JSON_RESULTS})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
    assert replicas.request("/metrics").status == 404
    scraped = []
    for url in replicas.replica_urls:
        status, text = _get(url + "metrics")
        assert status == 200, text
        scraped.append(parse(text))
    assert [[labels["release"] for labels in series(s, "haven_release_info")] for s in scraped] == [[RELEASE_ID]] * 2
    # nginx never retries a POST: each was answered by exactly one replica, and counted there
    counted = [value(s, "haven_http_requests_total", route="/sparql", method="POST", status="200") or 0
               for s in scraped]
    assert sum(counted) == posts, counted


def _prometheus_query(url: str, expr: str) -> list[dict]:
    status, text = _get(url + "api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert status == 200, text
    return json.loads(text)["data"]["result"]


@pytest.mark.live
@pytest.mark.slow
def test_a_real_prometheus_scrapes_each_replica_with_the_shipped_configuration(replicas, tmp_path):
    """deploy/prometheus/prometheus.yml with the replicas' addresses as its targets (and a 1 s interval), run
    by Debian's Prometheus server: both replicas are up, one release, and the alert rules load."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    (job,) = config["scrape_configs"]
    job["scrape_timeout"] = "1s"
    job["static_configs"] = [{"targets": [url.removeprefix("http://").rstrip("/") for url in replicas.replica_urls]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "alerts.yml").write_text((PROMETHEUS_DIR / "alerts.yml").read_text())
    port = free_port()
    process = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("w"))
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        up = []
        while time.monotonic() < deadline:
            try:
                up = _prometheus_query(url, 'up{job="haven"} == 1')
            except OSError:
                up = []
            if len(up) == 2:
                break
            time.sleep(0.5)
        assert len(up) == 2, (tmp_path / "prometheus.log").read_text()[-2000:]
        releases = _prometheus_query(url, 'haven_release_info{job="haven"}')
        assert sorted(r["metric"]["release"] for r in releases) == [RELEASE_ID, RELEASE_ID]
        assert _prometheus_query(url, 'count(count by (release) (haven_release_info{job="haven"}))')[0]["value"][1] == "1"
        status, text = _get(url + "api/v1/rules")
        rules = [rule for group in json.loads(text)["data"]["groups"] for rule in group["rules"]]
        assert len(rules) == len(yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"][0]["rules"])
        assert all(rule["health"] != "err" for rule in rules), [r for r in rules if r["health"] == "err"]
    finally:
        process.terminate()
        process.wait(timeout=30)
