"""The dumps (issue 14.7): written by the build into the release, or in the background for a release that
has none, never in a request thread that other requests wait for.

* `write_dumps` keeps the release's content: the Turtle and N-Triples dumps hold the union, the JSON-LD dump
  every quad in its graph, literals as written.
* A live server on a release without dump files (built before the build wrote them), 20 clients asking for
  dumps at once: they get 503 with Retry-After at once, cheap entity requests are answered while the dumps
  are pending, and the dumps arrive whole later. The entity requests' latencies are reported.
* Over a remote store (a real Oxigraph server) the same holds for every dump, N-Quads included.
"""
from __future__ import annotations

import concurrent.futures
import gzip
import shutil
import statistics
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD

from haven.iris import iris_for
from plugins.figures import report_line
from plugins.pending import when_ready
from plugins.release import make_build_dir
from plugins.servers import start_live_server

#: the dumps made from haven.nq (haven.dumps.DERIVED, spelled out so that this file runs on a tree without it)
DERIVED = ("ttl", "nt", "jsonld")
#: the dumps with a gzip copy beside them: every one, haven.nq included (issue 10, item 9)
COMPRESSED = ("ttl", "nt", "nq", "jsonld")
FIXTURE = Path(__file__).parent / "resources" / "release"
BASE = "https://w3id.org/haven/"
#: triples added to the fixture for the live test: the size at which the request-thread dumps held /id/ for 45 s
FILLER_TRIPLES = 200_000
CONCURRENT_DUMP_REQUESTS = 20
ENTITY_REQUESTS = 20


def _quads(dataset: Dataset) -> set:
    return {(s, p, o, g) for s, p, o, g in dataset.quads((None, None, None, None))}


def _ground(dataset: Dataset) -> set:
    """The quads without blank nodes (whose labels each parse chooses), graph names as text."""
    return {(s, p, o, str(g)) for s, p, o, g in _quads(dataset) if not isinstance(s, BNode) and not isinstance(o, BNode)}


def test_write_dumps_keeps_every_quad_and_literal_as_written(tmp_path):
    from haven.dumps import DERIVED as derived, write_dumps

    assert set(derived) == set(DERIVED)
    nq = tmp_path / "haven.nq"
    extra = (f'<{BASE}id/al-qaeda> <{BASE}ontology#footnote> "7"^^<{XSD.nonNegativeInteger}> <{BASE}graph/data> .\n'
             f'<{BASE}id/al-qaeda> <{BASE}ontology#footnote> "7"^^<{XSD.nonNegativeInteger}> <{BASE}graph/derived> .\n')
    nq.write_text(FIXTURE.joinpath("haven.nq").read_text("utf-8") + extra, encoding="utf-8")
    names = write_dumps(nq, tmp_path / "out", iris_for(BASE).prefixes())
    assert sorted(names) == sorted([f"haven.{ext}" for ext in DERIVED] + [f"haven.{ext}.gz" for ext in COMPRESSED])
    source = Dataset()
    source.parse(nq, format="nquads")
    union = {q[:3] for q in _quads(source)}
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt")):
        graph = Graph().parse(tmp_path / "out" / f"haven.{ext}", format=fmt)
        assert len(graph) == len(union), ext
        assert (URIRef(f"{BASE}id/al-qaeda"), URIRef(f"{BASE}ontology#footnote"),
                Literal("7", datatype=XSD.nonNegativeInteger)) in graph, ext
    jsonld = Dataset()
    jsonld.parse(tmp_path / "out" / "haven.jsonld", format="json-ld")
    assert len(_quads(jsonld)) == len(_quads(source))
    assert _ground(jsonld) == _ground(source)
    assert not list((tmp_path / "out").glob(".*"))  # no scratch or partial file left


def test_every_dump_has_a_gzip_copy_with_the_same_bytes_and_no_timestamp(tmp_path):
    """Issue 10.9: dumps were not compressed. Each .gz holds its dump byte for byte, and two runs give the same
    bytes (no mtime or file name in the gzip header), so a release's digests do not depend on when it was built."""
    from haven.dumps import write_dumps

    nq = tmp_path / "haven.nq"
    nq.write_bytes(FIXTURE.joinpath("haven.nq").read_bytes())
    first, second = tmp_path / "one", tmp_path / "two"
    write_dumps(nq, first, iris_for(BASE).prefixes())
    time.sleep(1.1)  # a timestamp in the header would differ by now
    write_dumps(nq, second, iris_for(BASE).prefixes())
    for ext in COMPRESSED:
        packed = (first / f"haven.{ext}.gz").read_bytes()
        plain = nq.read_bytes() if ext == "nq" else (first / f"haven.{ext}").read_bytes()
        assert gzip.decompress(packed) == plain, ext
        assert packed[4:8] == b"\0\0\0\0" and not packed[3] & 0x08, ext  # MTIME zero, no FNAME flag
        assert packed == (second / f"haven.{ext}.gz").read_bytes(), ext
        assert len(packed) < len(plain) / 3, ext


def test_flat_dumps_hold_the_default_graph_without_the_hedged_triples(tmp_path):
    """haven.nt and haven.ttl are the default graph a client queries: a triple only in hg:hedged stays in the
    N-Quads and JSON-LD (with its graph) and out of the flat dumps; one also in hg:derived stays in."""
    from haven.dumps import write_dumps

    nq = tmp_path / "haven.nq"
    hedged = (f"<{BASE}id/a> <{BASE}ontology#alliedWith> <{BASE}id/b> <{BASE}graph/hedged> .\n"
              f"<{BASE}id/c> <{BASE}ontology#alliedWith> <{BASE}id/d> <{BASE}graph/derived> .\n"
              f"<{BASE}id/c> <{BASE}ontology#alliedWith> <{BASE}id/d> <{BASE}graph/hedged> .\n")
    nq.write_text(FIXTURE.joinpath("haven.nq").read_text("utf-8") + hedged, encoding="utf-8")
    write_dumps(nq, tmp_path / "out", iris_for(BASE).prefixes())
    allied = URIRef(f"{BASE}ontology#alliedWith")
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt")):
        graph = Graph().parse(tmp_path / "out" / f"haven.{ext}", format=fmt)
        pairs = set(graph.subject_objects(allied))  # the fixture's own alliances are in the derived graph too
        assert (URIRef(f"{BASE}id/c"), URIRef(f"{BASE}id/d")) in pairs, ext
        assert (URIRef(f"{BASE}id/a"), URIRef(f"{BASE}id/b")) not in pairs, ext
    jsonld = Dataset()
    jsonld.parse(tmp_path / "out" / "haven.jsonld", format="json-ld")
    assert (URIRef(f"{BASE}id/a"), allied, URIRef(f"{BASE}id/b"), URIRef(f"{BASE}graph/hedged")) in {
        (s, p, o, URIRef(str(g))) for s, p, o, g in _quads(jsonld)}


def _release_without_dumps(root: Path) -> Path:
    """The fixture plus FILLER_TRIPLES labels, as a release folder the build wrote before it wrote dumps."""
    release = root / "releases" / "old-200k"
    release.mkdir(parents=True)
    for name in ("manifest.json", "shapes.ttl", "ontology.ttl"):
        shutil.copy(FIXTURE / name, release / name)
    manifest = (release / "manifest.json").read_text("utf-8")
    (release / "manifest.json").write_text(manifest.replace('"id": "', '"id": "old-200k-', 1), encoding="utf-8")
    with open(release / "haven.nq", "w", encoding="utf-8") as out:
        out.write(FIXTURE.joinpath("haven.nq").read_text("utf-8"))
        label = "http://www.w3.org/2004/02/skos/core#altLabel"
        for i in range(FILLER_TRIPLES):
            out.write(f'<{BASE}id/filler-{i}> <{label}> "filler {i}"@en <{BASE}graph/data> .\n')
    return release


def _fetch(url: str, accept: str | None = None) -> tuple[int, dict, bytes, float, float]:
    """(status, headers, body, started, finished), redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=300) as response:
            return response.status, dict(response.headers), response.read(), started, time.monotonic()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), started, time.monotonic()


@pytest.mark.live
@pytest.mark.slow
def test_first_dump_requests_of_a_release_do_not_hold_up_other_requests(tmp_path, pytestconfig):
    release = _release_without_dumps(tmp_path)
    build = make_build_dir(tmp_path, release)
    server = start_live_server(build)
    try:
        exts = [DERIVED[i % len(DERIVED)] for i in range(CONCURRENT_DUMP_REQUESTS)]
        with concurrent.futures.ThreadPoolExecutor(CONCURRENT_DUMP_REQUESTS) as pool:
            dumps = [pool.submit(_fetch, f"{server.url}dumps/haven.{ext}") for ext in exts]
            # cheap requests while the dump requests are in flight: the entity answers a 303
            entities = [_fetch(f"{server.url}id/al-qaeda", "text/turtle") for _ in range(ENTITY_REQUESTS)]
            first = [future.result() for future in dumps]
        waits = [finished - started for *_, started, finished in entities]
        report_line(pytestconfig, (
            f"dumps (14.7): {CONCURRENT_DUMP_REQUESTS} first dump requests on a {FILLER_TRIPLES:,}-triple release "
            f"without dump files answered {sorted({status for status, *_ in first})} in max "
            f"{max(f - s for *_, s, f in first):.3f} s; {ENTITY_REQUESTS} /id/ requests meanwhile: "
            f"median {statistics.median(waits):.3f} s, max {max(waits):.3f} s"))
        assert [status for status, *_ in entities] == [303] * ENTITY_REQUESTS
        # the dumps were not written in the request threads: each was told to come back
        assert {status for status, *_ in first} == {503}
        assert all(headers.get("Retry-After") for _, headers, *_ in first)

        ready_at = {}
        deadline = time.monotonic() + 300
        while len(ready_at) < len(DERIVED):
            assert time.monotonic() < deadline, f"dumps not written after 300 s: {sorted(ready_at)}"
            for ext in DERIVED:
                if ext not in ready_at:
                    status, _, body, _, finished = _fetch(f"{server.url}dumps/haven.{ext}")
                    assert status in (200, 503), (ext, status, body[:200])
                    if status == 200:
                        ready_at[ext] = (finished, body)
            time.sleep(0.2)
        # every entity request was answered before the first dump was ready: none waited for a dump
        assert max(finished for *_, finished in entities) < min(at for at, _ in ready_at.values())
        union = list(ox.parse(ready_at["nt"][1], format=ox.RdfFormat.N_TRIPLES))  # rdflib takes 10 s over 200k
        assert len(union) >= FILLER_TRIPLES
        report_line(pytestconfig, f"dumps (14.7): written in the background after "
                                  f"{min(at for at, _ in ready_at.values()) - min(s for *_, s, _ in first):.1f} s")
    finally:
        server.stop()


@pytest.mark.live
def test_dumps_over_a_remote_store_are_written_in_the_background(tmp_path, oxigraph_server, release_dir):
    from haven.config import Settings
    from haven.store.remote import RemoteStore
    from haven.web.app import create_app

    settings = Settings(build_dir=tmp_path / "build", store=oxigraph_server.query_url)
    app = create_app(settings, store=RemoteStore(oxigraph_server.query_url, settings))
    client = app.test_client()
    pending = client.get("/dumps/haven.nq")
    assert pending.status_code == 503 and pending.headers["Retry-After"]
    assert pending.headers["Cache-Control"] == "no-store"
    ready = when_ready(client, "/dumps/haven.nq")
    assert ready.status_code == 200
    expected, got = Dataset(), Dataset()
    expected.parse(release_dir / "haven.nq", format="nquads")
    got.parse(data=ready.data.decode(), format="nquads")
    assert len(_quads(got)) == len(_quads(expected))
    for ext in DERIVED:
        assert when_ready(client, f"/dumps/haven.{ext}").status_code == 200, ext
