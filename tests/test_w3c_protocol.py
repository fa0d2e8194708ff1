"""The W3C SPARQL 1.1 Protocol test suite, read from its manifest and run against the real server process.

The server serves a throw-away release holding data1/2/3.nt in the named graphs the manifest names. Query
and bad_* tests must pass as written. The 7 update tests cannot pass on a read-only endpoint (Protocol §5
allows implementing the query operation only): each must be refused cleanly (403), and any follow-up query
must show that nothing changed. A summary line reports the counts.
"""
from __future__ import annotations

import http.client
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rdflib
from rdflib import RDF, RDFS, Namespace
from rdflib.collection import Collection

from plugins.figures import report_line
from plugins.release import RESOURCES, make_build_dir
from plugins.servers import start_live_server

SUITE = RESOURCES / "w3c-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "application/ld+json": "json-ld"}


def load_manifest(path: Path) -> tuple[rdflib.Graph, list[rdflib.term.Node]]:
    graph = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    return graph, list(Collection(graph, graph.value(manifest, MF.entries)))


MANIFEST, ENTRIES = load_manifest(SUITE / "manifest.ttl")
SD_MANIFEST, SD_ENTRIES = load_manifest(SUITE / "service-description-manifest.ttl")
OUTCOMES: Counter = Counter()


def entry_name(entry) -> str:
    return str(entry).rsplit("#", 1)[-1]


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory):
    """A release made of the suite's three graphs, served by the production entry point."""
    root = tmp_path_factory.mktemp("w3c")
    release = root / "release"
    release.mkdir()
    graphs = {}
    for entry in ENTRIES:
        for data in MANIFEST.objects(entry, UT.graphData):
            graphs[str(MANIFEST.value(data, RDFS.label))] = Path(urlsplit(str(MANIFEST.value(data, UT.graph))).path)
    assert len(graphs) == 3
    lines = []
    for graph_iri, nt_file in sorted(graphs.items()):
        for line in nt_file.read_text("utf-8").splitlines():
            if line.strip():
                lines.append(line.rstrip().removesuffix(".").rstrip() + f" <{graph_iri}> .")
    (release / "haven.nq").write_text("\n".join(lines) + "\n", "utf-8")
    (release / "manifest.json").write_text(json.dumps({"id": "w3c-protocol", "triples": len(lines)}), "utf-8")
    server = start_live_server(make_build_dir(root, release))
    yield server
    server.stop()


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if not any(OUTCOMES.values()):  # only the manifest check ran (the fast tier): nothing to report
        return
    report_line(request.config, (
        f"W3C SPARQL 1.1 Protocol: {OUTCOMES['passed']} passed, {OUTCOMES['refused-update']} refused-updates "
        f"(read-only), {OUTCOMES['sd-passed']} service-description passed, of {len(ENTRIES)} + {len(SD_ENTRIES)} tests"
    ))


def send(server, request_node) -> tuple[http.client.HTTPResponse, bytes]:
    m = MANIFEST
    path = str(m.value(request_node, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    headers = {}
    header_list = m.value(request_node, HT.headers)
    for header in Collection(m, header_list) if header_list is not None else []:
        headers[str(m.value(header, HT.fieldName))] = str(m.value(header, HT.fieldValue))
    body = None
    body_node = m.value(request_node, HT.body)
    if body_node is not None:
        encoding = str(m.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(m.value(body_node, CNT.chars)).encode(encoding)
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(str(m.value(request_node, HT.methodName)), path, body=body, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def status_class(code: int) -> rdflib.URIRef:
    return HTS[f"StatusCode{code // 100}xx"]


def boolean_of(media_type: str, body: bytes) -> bool:
    if media_type == "application/sparql-results+json":
        return json.loads(body)["boolean"]
    assert media_type == "application/sparql-results+xml", media_type
    node = ET.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}boolean")
    return node.text.strip() == "true"


def check_response(response, body: bytes, expected) -> None:
    m = MANIFEST
    allowed = set(m.objects(expected, MF.expectedStatus))
    assert status_class(response.status) in allowed, (response.status, body[:300])
    media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
    expected_format = m.value(expected, MF.expectedFormat)
    if expected_format is not None:
        kind = str(expected_format)
        if kind == "boolean":
            assert media_type in {"application/sparql-results+json", "application/sparql-results+xml"}
        elif kind == "tabular":
            assert media_type in RESULT_TYPES
            if media_type == "application/sparql-results+json":
                assert json.loads(body)["head"]["vars"]
        else:
            assert kind == "RDF" and media_type in RDF_TYPES
            rdflib.Graph().parse(data=body, format=RDF_TYPES[media_type])
    expected_boolean = m.value(expected, MF.expectedBoolean)
    if expected_boolean is not None:
        assert boolean_of(media_type, body) is expected_boolean.toPython()


@pytest.mark.live
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_name)
def test_w3c_protocol(w3c_server, entry):
    m = MANIFEST
    requests = list(Collection(m, m.value(m.value(entry, MF.action), HT.requests)))
    if entry_name(entry).startswith("update_"):
        # read-only: the update is refused before anything runs, and a follow-up query sees no change
        first, *rest = requests
        response, body = send(w3c_server, first)
        assert response.status == 403, (response.status, body)
        assert b"read-only" in body
        for follow_up in rest:
            response, body = send(w3c_server, follow_up)
            assert response.status == 200
            media_type = response.getheader("Content-Type").split(";")[0]
            assert boolean_of(media_type, body) is False
        OUTCOMES["refused-update"] += 1
        return
    for request_node in requests:
        response, body = send(w3c_server, request_node)
        check_response(response, body, m.value(request_node, HT.resp))
    OUTCOMES["passed"] += 1


def test_manifest_has_the_expected_tests():
    names = [entry_name(e) for e in ENTRIES]
    assert len(names) == 34
    assert sum(n.startswith("update_") for n in names) == 7
    assert sum(n.startswith("bad_") for n in names) == 14
    assert {entry_name(e) for e in SD_ENTRIES} == {"returns-rdf", "has-endpoint-triple", "conforms-to-schema"}


# -- service description suite -------------------------------------------------------------------------------

SD_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix x: <urn:x:> .
x:Service a sh:NodeShape ; sh:targetClass sd:Service ;
  sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
  sh:property [ sh:path sd:resultFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:feature ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultDataset ; sh:maxCount 1 ; sh:class sd:Dataset ] .
x:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
  sh:property [ sh:path sd:defaultGraph ; sh:maxCount 1 ; sh:class sd:Graph ] ;
  sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ] .
x:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ;
  sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:graph ; sh:maxCount 1 ; sh:class sd:Graph ] .
"""


def fetch_description(server, accept: str):
    with server.get("/sparql", headers={"Accept": accept}) as response:
        media_type = response.headers["Content-Type"].split(";")[0]
        return media_type, rdflib.Graph().parse(data=response.read(), format=RDF_TYPES[media_type])


@pytest.mark.live
@pytest.mark.parametrize("entry", SD_ENTRIES, ids=entry_name)
def test_w3c_service_description(w3c_server, entry):
    import pyshacl

    endpoint = rdflib.URIRef(w3c_server.url + "sparql")
    name = entry_name(entry)
    if name == "returns-rdf":
        for accept in RDF_TYPES:
            media_type, graph = fetch_description(w3c_server, accept)
            assert media_type == accept and len(graph) > 0
    elif name == "has-endpoint-triple":
        _, graph = fetch_description(w3c_server, "text/turtle")
        assert (None, SD.endpoint, endpoint) in graph
    else:
        _, graph = fetch_description(w3c_server, "text/turtle")
        conforms, _, report = pyshacl.validate(graph, shacl_graph=rdflib.Graph().parse(data=SD_SHAPES, format="turtle"))
        assert conforms, report
        assert (endpoint, RDF.type, SD.Service) in graph
        names = {str(n) for n in graph.objects(None, SD.name)}
        assert names == {f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)}
    OUTCOMES["sd-passed"] += 1
