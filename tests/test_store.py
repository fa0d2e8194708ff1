"""The embedded store's contract: trusted queries as rdflib terms, client queries serialised, dataset rules,
caps, timeouts that kill and replace a worker, and nothing that can write."""
from __future__ import annotations

import json
import os
import time

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from haven.config import Settings
from haven.iris import iris_for
from haven.store import open_store
from haven.store.base import QuerySyntaxError, QueryTimeout, Store, StoreError
from haven.store.embedded import EmbeddedStore
from plugins.release import fixture_triples

HID = "https://w3id.org/haven/id/"
HAVEN = "https://w3id.org/haven/ontology#"
HG = "https://w3id.org/haven/graph/"
#: a cross product over the union graph: billions of rows on the tiny release, i.e. "never finishes"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@pytest.fixture
def store(shared_store) -> EmbeddedStore:
    return shared_store


def test_store_is_a_store_with_the_release_manifest(store, release_dir):
    manifest = json.loads((release_dir / "manifest.json").read_text())
    assert isinstance(store, Store)
    assert store.release_id == manifest["id"]
    assert store.manifest == manifest
    assert len(store) == manifest["triples"]


def test_open_store_embedded_loads_current_release(build_dir, release_dir):
    store = open_store(Settings(build_dir=build_dir, max_concurrent_queries=1))
    try:
        assert store.release_dir == release_dir.resolve()
        assert store.prefixes["hid"] == HID
    finally:
        store.close()


def test_open_store_without_release_says_to_build(tmp_path):
    with pytest.raises(StoreError, match="haven build"):
        open_store(Settings(build_dir=tmp_path))


def test_open_store_unknown_backend():
    with pytest.raises(ValueError, match="unknown store"):
        open_store(Settings(store="postgres"))


def test_prefixes_follow_the_release_base():
    assert iris_for("https://example.org/h/").prefixes()["haven"] == "https://example.org/h/ontology#"


def test_sparql_answers_declare_the_prefixes_documents_bind(store):
    """One prefix table: /sparql Turtle declares what entity documents bind (foaf: was missing from the
    store's own table)."""
    assert store.prefixes == iris_for(store.manifest["base"]).prefixes()
    body = store.execute(f"CONSTRUCT WHERE {{ <{HID}taliban> ?p ?o }}", "text/turtle").body.decode()
    assert "@prefix foaf: <http://xmlns.com/foaf/0.1/>" in body


def test_rows_returns_rdflib_terms_and_omits_unbound(store):
    rows = store.rows(f"""
        SELECT ?s ?label ?alt WHERE {{
          VALUES ?s {{ <{HID}al-qaeda> <{HID}kabul> }}
          ?s <{SKOS.prefLabel}> ?label .
          OPTIONAL {{ ?s <{SKOS.altLabel}> ?alt }}
        }} ORDER BY ?s ?alt""")
    assert [r["s"] for r in rows] == [URIRef(HID + "al-qaeda")] * 2 + [URIRef(HID + "kabul")]
    assert rows[0]["label"] == Literal("al-Qaeda", lang="en")
    assert {rows[0]["alt"], rows[1]["alt"]} == {Literal("AQ", lang="en"), Literal("Al Qaida", lang="en")}
    assert "alt" not in rows[2]


def test_rows_typed_and_simple_literals_compare_like_rdflib_parsed_ones(store):
    row = store.rows("SELECT ?d ?digest WHERE { ?st <https://w3id.org/haven/ontology#startDate> ?d . "
                     "?src <https://w3id.org/haven/ontology#sha256> ?digest }")[0]
    assert row["d"] == Literal("1996-01-01", datatype=rdflib.XSD.date)
    assert row["digest"] == Literal("a6ebdf216a047df2e73664bc3e7cf93d7f114767472cf0296bf7e5331e6e105a")
    assert row["digest"].datatype is None


def test_default_graph_is_the_union_of_named_graphs(store, release_dir):
    total = store.rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
    assert int(total) == json.loads((release_dir / "manifest.json").read_text())["triples"]


def test_from_clause_selects_one_graph_despite_the_union_default(store):
    n = store.rows(f"SELECT (COUNT(*) AS ?n) FROM <{HG}derived> WHERE {{ ?s ?p ?o }}")[0]["n"]
    assert int(n) == fixture_triples("derived")


def test_graph_returns_an_rdflib_graph(store):
    g = store.graph(f"CONSTRUCT {{ <{HID}al-qaeda> ?p ?o }} WHERE {{ <{HID}al-qaeda> ?p ?o }}")
    assert isinstance(g, rdflib.Graph)
    assert (URIRef(HID + "al-qaeda"), RDF.type, URIRef(HAVEN + "MilitantOrganization")) in g
    assert (URIRef(HID + "al-qaeda"), URIRef(HAVEN + "ledBy"), URIRef(HID + "osama-bin-laden")) in g


def test_ask(store):
    assert store.ask(f"ASK {{ <{HID}taliban> <{HAVEN}providedSanctuaryTo> <{HID}al-qaeda> }}") is True
    assert store.ask(f"ASK {{ <{HID}al-qaeda> <{HAVEN}providedSanctuaryTo> <{HID}taliban> }}") is False


def test_trusted_query_of_the_wrong_form_is_a_type_error(store):
    with pytest.raises(TypeError):
        store.rows("ASK {}")
    with pytest.raises(TypeError):
        store.graph("SELECT * {}")
    with pytest.raises(TypeError):
        store.ask("SELECT * {}")


def test_trusted_syntax_error(store):
    with pytest.raises(QuerySyntaxError):
        store.rows("SELECT ?s WHERE {")


def test_execute_select_json(store):
    result = store.execute(f"SELECT ?s WHERE {{ ?s a <{HAVEN}Person> ; <{HAVEN}leaderOf> ?o }}",
                           "application/sparql-results+json")
    assert result.form == "SELECT" and not result.capped
    assert result.media_type == "application/sparql-results+json"
    data = json.loads(result.body)
    assert data["head"]["vars"] == ["s"]
    assert data["results"]["bindings"] == [{"s": {"type": "uri", "value": HID + "osama-bin-laden"}}]


@pytest.mark.parametrize("media_type", ["text/csv", "text/tab-separated-values", "application/sparql-results+xml"])
def test_execute_select_other_result_formats_parse_back(store, media_type):
    from rdflib.query import Result

    result = store.execute(f"SELECT ?s ?l WHERE {{ ?s a <{HAVEN}Person> ; <{HAVEN}leaderOf> ?o ; <{SKOS.prefLabel}> ?l }}",
                           media_type)
    assert result.media_type == f"{media_type}; charset=utf-8"
    fmt = {"text/csv": "csv", "text/tab-separated-values": "tsv", "application/sparql-results+xml": "xml"}[media_type]
    rows = list(Result.parse(source=__import__("io").BytesIO(result.body), format=fmt))
    assert len(rows) == 1
    assert str(rows[0][0]) == HID + "osama-bin-laden"


def test_execute_json_terms_carry_language_and_datatype(store):
    result = store.execute(
        f"SELECT ?l ?d WHERE {{ <{HID}al-qaeda> <{SKOS.prefLabel}> ?l . ?st <{HAVEN}startDate> ?d }}",
        "application/sparql-results+json",
    )
    binding = json.loads(result.body)["results"]["bindings"][0]
    assert binding["l"] == {"type": "literal", "value": "al-Qaeda", "xml:lang": "en"}
    assert binding["d"] == {"type": "literal", "value": "1996-01-01", "datatype": str(rdflib.XSD.date)}


@pytest.mark.parametrize(
    "media_type, rdflib_format",
    [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
     ("application/ld+json", "json-ld")],
)
def test_execute_construct_in_every_rdf_format(store, media_type, rdflib_format):
    query = f"CONSTRUCT {{ <{HID}al-qaeda> ?p ?o }} WHERE {{ <{HID}al-qaeda> ?p ?o }}"
    result = store.execute(query, media_type)
    assert result.form == "CONSTRUCT"
    assert result.media_type.split(";")[0] == media_type
    graph = rdflib.Graph().parse(data=result.body, format=rdflib_format)
    assert graph.isomorphic(store.graph(query))


def test_execute_describe_reports_its_form(store):
    result = store.execute(f"DESCRIBE <{HID}taliban>", "text/turtle")
    assert result.form == "DESCRIBE"
    assert (URIRef(HID + "taliban"), RDF.type, URIRef(HAVEN + "MilitantOrganization")) in rdflib.Graph().parse(
        data=result.body, format="turtle")


def test_execute_turtle_uses_haven_prefixes(build_dir):
    store = open_store(Settings(build_dir=build_dir, max_concurrent_queries=1))
    try:
        body = store.execute(f"CONSTRUCT WHERE {{ <{HID}taliban> ?p ?o }}", "text/turtle").body.decode()
    finally:
        store.close()
    assert "@prefix hid: <https://w3id.org/haven/id/>" in body
    assert "hid:taliban" in body


def test_execute_ask_in_json_and_xml(store):
    assert json.loads(store.execute("ASK {}", "application/sparql-results+json").body)["boolean"] is True
    xml = store.execute(f"ASK {{ <{HID}nobody> ?p ?o }}", "application/sparql-results+xml").body
    assert b"<boolean>false</boolean>" in xml


def test_execute_caps_select_and_says_so(store):
    result = store.execute("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "application/sparql-results+json",
                           result_limit=5, cap_link="http://h/sparql#result-limit")
    data = json.loads(result.body)
    assert result.capped
    assert len(data["results"]["bindings"]) == 5
    assert data["head"]["link"] == ["http://h/sparql#result-limit"]


def test_execute_exactly_at_the_limit_is_not_capped(store):
    result = store.execute(f"SELECT ?s WHERE {{ ?s a <{HAVEN}MilitantOrganization> }}",
                           "application/sparql-results+json", result_limit=2)
    assert not result.capped and len(json.loads(result.body)["results"]["bindings"]) == 2


def test_execute_caps_xml_with_a_head_link(store):
    result = store.execute("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+xml",
                           result_limit=3, cap_link="http://h/sparql#result-limit")
    assert result.capped
    assert b'<link href="http://h/sparql#result-limit"/></head>' in result.body
    assert result.body.count(b"<result>") == 3


def test_execute_caps_construct_with_a_comment(store):
    result = store.execute("CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle", result_limit=4)
    assert result.capped
    assert result.body.startswith(b"# Haven: result capped at 4 triples")
    assert len(rdflib.Graph().parse(data=result.body, format="turtle")) == 4


def test_execute_protocol_dataset_replaces_from(store):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{HG}data> WHERE {{ ?s ?p ?o }}"
    n = lambda r: int(json.loads(r.body)["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert n(store.execute(query, "application/sparql-results+json")) == fixture_triples("data")
    assert n(store.execute(query, "application/sparql-results+json", default_graph_uris=[HG + "metadata"])) == \
        fixture_triples("metadata")
    # only named graphs given: the default graph is empty, FROM still ignored
    assert n(store.execute(query, "application/sparql-results+json", named_graph_uris=[HG + "data"])) == 0


def test_execute_unknown_graph_is_empty(store):
    result = store.execute("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json",
                           default_graph_uris=["http://example.org/not-here"])
    assert json.loads(result.body)["results"]["bindings"] == []


def test_execute_syntax_error_carries_the_parser_message(store):
    with pytest.raises(QuerySyntaxError, match="error at 1:"):
        store.execute("SELECT ?s WHERE {", "application/sparql-results+json")


def test_execute_base_iri_resolves_relative_iris(store):
    result = store.execute("SELECT ?x WHERE { BIND(<thing> AS ?x) }", "application/sparql-results+json",
                           base_iri="http://h/sparql")
    assert json.loads(result.body)["results"]["bindings"][0]["x"]["value"] == "http://h/thing"


def test_execute_past_deadline_raises_and_the_pool_recovers(store):
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        store.execute(ENDLESS, "application/sparql-results+json", timeout=0.5)
    assert time.monotonic() - started < 5
    # the killed worker is replaced; the next queries are answered normally
    for _ in range(6):
        assert store.execute("ASK {}", "application/sparql-results+json", timeout=30).body


def test_execute_refuses_update_text_and_changes_nothing(store):
    before = len(store)
    with pytest.raises(QuerySyntaxError):
        store.execute("INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }", "application/sparql-results+json")
    with pytest.raises(QuerySyntaxError):
        store.rows("DELETE WHERE { ?s ?p ?o }")
    assert len(store) == before
    assert not store.ask("ASK { <http://e/s> ?p ?o }")


def test_store_exposes_no_write_methods(store):
    for name in ("add", "remove", "update", "load", "bulk_load", "clear", "remove_graph", "extend"):
        assert not hasattr(store, name), name


def test_worker_pool_is_killed_on_close(release_dir):
    store = EmbeddedStore(release_dir, workers=2)
    store.warm_up()
    workers = [w.pid for w in store._pool._workers]
    template = store._pool._template.proc
    assert len(workers) == 2 and all(alive(pid) for pid in workers) and template.poll() is None
    store.close()
    assert not any(alive(pid) for pid in workers)  # killed and reaped
    assert template.poll() is not None
    with pytest.raises(StoreError):
        store.execute("ASK {}", "application/sparql-results+json")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow  # kills a worker at a deadline and waits for its replacement
def test_query_workers_are_forked_from_one_copy_of_the_release(release_dir):
    """The workers share the template's copy of the release (issue 11: one copy, not one per worker): each
    is the template's child, not the server's, and a worker killed at its deadline is replaced by a new
    fork that answers at once."""
    store = EmbeddedStore(release_dir, workers=2)
    try:
        store.warm_up()
        template = store._pool._template.proc.pid
        workers = {w.pid for w in store._pool._workers}
        assert len(workers) == 2
        for pid in workers:
            with open(f"/proc/{pid}/stat") as stat:
                assert int(stat.read().rsplit(")", 1)[1].split()[1]) == template
        with pytest.raises(QueryTimeout):
            store.execute("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
                          "application/sparql-results+json", timeout=0.5)
        assert wait_until(lambda: len(store._pool._workers) == 2 and {w.pid for w in store._pool._workers} != workers)
        assert store.execute("ASK {}", "application/sparql-results+json").body
        assert store._pool._template.proc.pid == template, "the template was not reloaded"
    finally:
        store.close()


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_serving_store_is_built_on_disk_once_and_opened_read_only(release_dir, tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "current").symlink_to(release_dir.resolve(), target_is_directory=True)
    settings = Settings(build_dir=build, max_concurrent_queries=1)
    manifest = json.loads((release_dir / "manifest.json").read_text())
    target = build / "cache" / manifest["id"] / "oxigraph"
    store = open_store(settings)
    try:
        # first start of this release: served from memory at once, the on-disk store built beside it
        assert len(store) == manifest["triples"]
        assert wait_until(lambda: store.store_path == target)
        assert (target / "haven-loaded").is_file()
        assert len(store) == manifest["triples"]  # the same release, now read from disk
        built_at = (target / "haven-loaded").stat().st_mtime_ns
        answer = json.loads(store.execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                          "application/sparql-results+json").body)
        assert int(answer["results"]["bindings"][0]["n"]["value"]) == manifest["triples"]
    finally:
        store.close()
    again = open_store(settings)
    try:
        assert again.store_path == target  # opened at once
        assert (target / "haven-loaded").stat().st_mtime_ns == built_at  # reused, not reloaded
        assert len(again) == manifest["triples"]
        assert again.ask("ASK { ?s ?p ?o }")
    finally:
        again.close()


def test_half_loaded_store_folder_is_replaced_not_opened(release_dir, tmp_path):
    manifest = json.loads((release_dir / "manifest.json").read_text())
    debris = tmp_path / "cache" / manifest["id"] / "oxigraph"
    debris.mkdir(parents=True)
    (debris / "000001.sst").write_bytes(b"not a complete store")
    store = EmbeddedStore(release_dir, workers=1, cache_dir=tmp_path / "cache")
    try:
        assert store.store_path is None  # the debris is not opened
        assert wait_until(lambda: store.store_path == debris)
        assert (debris / "haven-loaded").is_file() and not (debris / "000001.sst").exists()
        assert len(store) == manifest["triples"]
    finally:
        store.close()


def test_unwritable_cache_falls_back_to_memory(release_dir, tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    store = EmbeddedStore(release_dir, workers=1, cache_dir=blocked)
    try:
        assert wait_until(lambda: store._preparing.poll() is not None)
        assert store._preparing.returncode != 0
        time.sleep(0.2)
        assert store.store_path is None
        assert store.ask("ASK { ?s ?p ?o }")
        body = store.execute("ASK { ?s ?p ?o }", "application/sparql-results+json").body
        assert json.loads(body)["boolean"] is True
    finally:
        store.close()


def test_background_warm_up_lets_a_client_query_wait_for_the_workers(release_dir):
    store = EmbeddedStore(release_dir, workers=2)
    try:
        store.warm_up(background=True)
        # issued at once: it waits for the first worker of the pool being started rather than failing
        body = store.execute("ASK { ?s ?p ?o }", "application/sparql-results+json").body
        assert json.loads(body)["boolean"] is True
        assert wait_until(lambda: len(store._pool._workers) == 2 and store._pool._started)
    finally:
        store.close()


def test_worker_refuses_a_store_folder_without_its_marker(tmp_path):
    from haven.store.worker import open_release

    (tmp_path / "CURRENT").write_text("x")
    with pytest.raises(OSError, match="not a completely loaded store"):
        open_release(str(tmp_path))


# -- timeouts: one meaning on every backend (defect 3) ------------------------------------------------------

#: a time limit no evaluation can meet, so that the limit, not the speed of the machine, decides
NO_TIME = 1e-9


def test_ask_honours_its_timeout(store):
    """EmbeddedStore.ask ignored its timeout: an ASK past its limit answered instead of timing out."""
    with pytest.raises(QueryTimeout):
        store.ask("ASK { ?s ?p ?o . ?a ?b ?c }", timeout=NO_TIME)


@pytest.mark.parametrize("call, query", [
    ("rows", "SELECT * WHERE { ?s ?p ?o }"),
    ("graph", "CONSTRUCT WHERE { ?s ?p ?o }"),
    ("ask", "ASK { ?s ?p ?o }"),
])
def test_no_timeout_means_the_configured_limit(release_dir, call, query):
    """timeout=None meant "no limit" on the embedded store and "the configured limit" on the remote one; now
    it is the store's query_timeout everywhere (Settings.query_timeout through open_store)."""
    limited = EmbeddedStore(release_dir, workers=1, query_timeout=NO_TIME)
    try:
        assert limited.time_limit(None) == NO_TIME and limited.time_limit(3.0) == 3.0
        with pytest.raises(QueryTimeout):
            getattr(limited, call)(query)
        assert getattr(limited, call)(query, timeout=60)  # an explicit limit still overrides the default
    finally:
        limited.close()


def test_open_store_passes_the_configured_limit(build_dir):
    store = open_store(Settings(build_dir=build_dir, max_concurrent_queries=1, query_timeout=2.5))
    try:
        assert store.query_timeout == 2.5
    finally:
        store.close()


def test_havens_own_queries_run_under_the_limit(release_dir, build_dir):
    """Entity pages, documents and the catalogue ran their queries with no limit on the embedded store."""
    from haven.web.app import create_app

    limited = EmbeddedStore(release_dir, workers=1, query_timeout=NO_TIME)
    try:
        app = create_app(Settings(build_dir=build_dir), store=limited)
        client = app.test_client()
        for path in ("/id/taliban", "/.well-known/void", "/"):
            assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 503, path
    finally:
        limited.close()


def test_a_release_with_a_partial_manifest_is_served(tmp_path, release_dir):
    """A hand-made release whose manifest names only its id (the W3C suite's) opens, with the default
    base's prefixes; a manifest that is not JSON is a StoreError that says so."""
    (tmp_path / "haven.nq").write_bytes((release_dir / "haven.nq").read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps({"id": "partial"}))
    partial = EmbeddedStore(tmp_path, workers=1)
    try:
        assert partial.release_id == "partial" and partial.prefixes["hid"] == HID
    finally:
        partial.close()
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        EmbeddedStore(tmp_path, workers=1)


@pytest.mark.slow  # starts a query worker process
def test_the_default_graph_leaves_out_the_hedged_graph(tmp_path):
    """A direct triple only hedged statements support is in hg:hedged: not in the default graph a client or a
    page queries, and there for GRAPH hg:hedged (docs/architecture.md, "The direct layer")."""
    from plugins.release import write_release

    release = write_release(tmp_path, extra_trig="hg:hedged { hid:al-qaeda haven:alliedWith hid:kabul . }")
    store = EmbeddedStore(release, workers=1)
    hedged = iris_for().graphs["hedged"]
    triple = "<https://w3id.org/haven/id/al-qaeda> <https://w3id.org/haven/ontology#alliedWith> <https://w3id.org/haven/id/kabul>"
    try:
        assert not store.ask(f"ASK {{ {triple} }}")
        assert store.ask(f"ASK {{ GRAPH <{hedged}> {{ {triple} }} }}")
        for query, expected in ((f"ASK {{ {triple} }}", False), (f"ASK {{ GRAPH <{hedged}> {{ {triple} }} }}", True),
                                (f"ASK FROM <{hedged}> {{ {triple} }}", True)):
            answer = store.execute(query, "application/sparql-results+json")
            assert json.loads(answer.body)["boolean"] is expected, query
    finally:
        store.close()
