"""The dataset-level pages and documents: landing page, ontology, shapes, VoID, dumps, context.

Everything here is a function of the published release, so each response carries the release's validators
(see `haven.web.caching`) and anything expensive (counts, the ontology page, dumps) is computed once per release.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, render_template, request, send_file, send_from_directory
from rdflib import Graph
from rdflib.namespace import OWL

from haven.web.dataset.catalogue import (
    DumpPending, ReleasedOntology, dump_file, dump_sizes, example_queries, landing_facts, prior_ontology,
    prior_ontology_versions, released_ontology, shapes_view, void_graph, void_view, with_byte_sizes,
)
from haven.web.dataset.ontology_page import ontology_view
from haven.formats import DUMP_FORMATS, GZIP, HTML, JSON_LD, N_TRIPLES, OPENAPI_JSON, RDF_XML, TURTLE, by_extension
from haven import buildfolder
from haven.iris import (CONTEXT_PATH, DATASET_PATH, DUMP_PATH, GRAPH_PATH, GRAPHS, ONTOLOGY_PATH, OPENAPI_PATH,
                        SHAPES_PATH, QUERY_PAGE_PATH, SPARQL_PATH, STATIC_PATH, VOID_PATH, UrlMap, iris_for, route)
from haven.web.current import (
    current_store, local_release, negotiate, not_acceptable, release_modified, settings, url_map,
)
from haven.web.rdf_output import jsonld_context, serialize
from haven.web.release_cache import cached_body, per_release
from haven.web.caching import accepts_gzip, document_response, etag_for
from haven.web.errors import plain
from haven.web.sparql.routes import url_for_query

bp = Blueprint("dataset", __name__, static_folder=None)

STATIC_DIR = Path(__file__).parent.parent / "static"
#: ontology, shapes and VoID, in the server's order of preference: a browser gets HTML; an explicit RDF type
#: wins by q-value; the ontology is also a file in each of these formats (`/ontology.{extension}`)
DOCUMENT_OFFERS = (HTML, TURTLE, RDF_XML, JSON_LD, N_TRIPLES)


def _negotiated(offers):
    chosen = negotiate(offers)
    if chosen is None:
        return None, not_acceptable(offers)
    return chosen, None


def _rdf_or_html(graph_fn, html_fn, fmt, links=(), negotiated=True, variant=""):
    store = current_store()

    def body():
        return html_fn() if fmt is HTML else serialize(graph_fn(), fmt)

    return document_response(body, fmt.media_type, release_id=store.release_id, modified=release_modified(),
                             links=links, negotiated=negotiated, variant=variant)


# -- landing and query pages -----------------------------------------------------------------------------

@bp.route("/", methods=["GET", "HEAD"])
def landing():
    store, urls = current_store(), url_map()

    def body():
        facts = per_release("landing", lambda: landing_facts(store, settings().base))
        examples = [dict(q, href=url_for_query(q["query"])) for q in example_queries(settings().base)]
        return render_template("landing.html", facts=facts, examples=examples, urls=urls,
                               dumps=[(f.extension, f.media_type) for f in DUMP_FORMATS],
                               openapi_type=OPENAPI_JSON.media_type)

    # RFC 8631: where a program finds the description of this service's HTTP API
    service_desc = (urls.url(f"{OPENAPI_PATH}.{OPENAPI_JSON.extension}"), "service-desc", OPENAPI_JSON.media_type)
    return document_response(body, HTML.media_type, release_id=store.release_id, modified=release_modified(),
                             links=[service_desc])


# -- ontology, shapes, context -------------------------------------------------------------------------------

@bp.route(route(ONTOLOGY_PATH), methods=["GET", "HEAD"])
def ontology():
    fmt, refusal = _negotiated(DOCUMENT_OFFERS)
    if refusal:
        return refusal
    return _ontology_document(fmt, negotiated=True)


@bp.route(route(ONTOLOGY_PATH) + ".<ext>", methods=["GET", "HEAD"])
def ontology_file(ext: str):
    fmt = by_extension(ext, DOCUMENT_OFFERS)
    if fmt is None:
        abort(404)
    return _ontology_document(fmt, negotiated=False)


@bp.route(route(ONTOLOGY_PATH) + "/<version>", methods=["GET", "HEAD"])
def ontology_version(version: str):
    """A version IRI: this release's serves the current ontology; a prior one serves that version as released
    (the release folder keeps each prior version's file), negotiated like the current one."""
    # compared as strings: a URIRef made of client text would have rdflib log it as "not a valid URI"
    requested = iris_for(settings().base).ontology_version_iri(version)
    if any(str(known) == requested for known in _current_ontology().graph.objects(None, OWL.versionIRI)):
        return ontology()
    store = current_store()
    # looked up among the versions the release keeps before anything is cached under the client's text
    if version not in per_release("ontology.versions", lambda: prior_ontology_versions(local_release(), store)):
        abort(404)
    key = f"ontology/{version}"
    prior = per_release(key, lambda: prior_ontology(local_release(), store, version, settings().base))
    if prior is None:
        abort(404)
    fmt, refusal = _negotiated(DOCUMENT_OFFERS)
    if refusal:
        return refusal
    documents = [(f.label, f.media_type, f"{requested}?{urlencode({'format': f.name})}")
                 for f in DOCUMENT_OFFERS if f is not HTML]
    return _released_document(key, prior, fmt, True, [(requested, "canonical", None)], documents)


def _current_ontology():
    return per_release("ontology", lambda: released_ontology(local_release(), current_store(), settings().base))


def _ontology_document(fmt, negotiated: bool):
    links = [(f"{request.url_root}{ONTOLOGY_PATH}.{f.extension}", "alternate", f.media_type)
             for f in DOCUMENT_OFFERS if f is not fmt]
    links.append((str(iris_for(settings().base).ontology_iri), "canonical", None))
    documents = [(f.label, f.media_type, f"{settings().base}{ONTOLOGY_PATH}.{f.extension}")
                 for f in DOCUMENT_OFFERS if f is not HTML]
    return _released_document("ontology", _current_ontology(), fmt, negotiated, links, documents)


def _released_document(key: str, released: ReleasedOntology, fmt, negotiated: bool, links, documents):
    """One version of the ontology (`key` names it in the release's cache) in `fmt`: its released Turtle file
    as it is, or that graph serialised, or its documentation page, which links `documents` (label, media
    type, canonical URL: the same version as RDF)."""
    base = settings().base

    def html():
        # rendered once, linking the canonical IRIs; on this host they must stay browsable here
        page = per_release(f"{key}.html", lambda: render_template(
            "ontology.html", view=ontology_view(released.graph, base, UrlMap(base=base, host_root=base), documents)))
        return page.replace(f'href="{base}', f'href="{request.url_root}')

    def rdf():
        if fmt is TURTLE and released.turtle is not None:
            return released.turtle
        return cached_body((key, fmt.media_type), lambda: serialize(released.graph, fmt))

    store = current_store()
    return document_response(html if fmt is HTML else rdf, fmt.media_type, release_id=store.release_id,
                             modified=release_modified(), links=links, negotiated=negotiated)


@bp.route(route(SHAPES_PATH), methods=["GET", "HEAD"])
def shapes():
    fmt, refusal = _negotiated(DOCUMENT_OFFERS)
    if refusal:
        return refusal
    local = local_release()
    path = local / buildfolder.SHAPES if local is not None else None
    if path is not None and path.is_file():
        def graph():
            return per_release("shapes", lambda: Graph().parse(path, format=TURTLE.rdflib))

        def html():
            return render_template("shapes.html", turtle=path.read_text(encoding="utf-8"),
                                   shapes=shapes_view(graph(), settings().base))
    else:
        # no build folder for this release here: the shapes the publisher put beside the release's graphs
        store = current_store()
        if local is not None:
            abort(404)
        stored = per_release("shapes", store.shapes)
        if stored is None:
            abort(404)

        def graph():
            return stored

        def html():
            return render_template("shapes.html", turtle=serialize(stored, TURTLE),
                                   shapes=shapes_view(stored, settings().base))

    return _rdf_or_html(graph, html, fmt)


@bp.route(route(SHAPES_PATH) + "/<part>", methods=["GET", "HEAD"])
def shapes_part(part: str):
    """A document of the shapes (`…/shapes/recommended`, the header of haven-recommended.ttl): 303 to its entry
    on the shapes page, whose RDF holds it; 404 for a name the shapes do not use."""
    iri = f"{iris_for(settings().base).shapes_iri}/{part}"
    local = local_release()
    path = local / buildfolder.SHAPES if local is not None else None
    graph = (per_release("shapes", lambda: Graph().parse(path, format=TURTLE.rdflib)) if path is not None and path.is_file()
             else per_release("shapes", current_store().shapes))
    if graph is None or not any(str(s) == iri for s in graph.subjects()):
        abort(404)
    response = redirect(f"{request.url_root}{SHAPES_PATH}#{part}", code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.route(route(CONTEXT_PATH), methods=["GET", "HEAD"])
def context():
    store = current_store()
    return document_response(lambda: json.dumps(jsonld_context(settings().base), indent=2),
                             JSON_LD.media_type, release_id=store.release_id, modified=release_modified())


# -- dataset description and dumps ---------------------------------------------------------------------------

@bp.route(route(VOID_PATH), methods=["GET", "HEAD"])
def void():
    fmt, refusal = _negotiated(DOCUMENT_OFFERS)
    if refusal:
        return refusal
    store = current_store()
    sizes = dump_sizes(local_release(), settings(), store.release_id, settings().base)
    # keyed by the sizes too: dumps written in the background after the first request show up once there
    graph = lambda: per_release(("void", tuple(sorted(sizes.items()))), lambda: with_byte_sizes(  # noqa: E731
        per_release("void", lambda: void_graph(store, settings().base)), sizes))

    def html():
        return render_template("void.html", void=void_view(graph(), url_map()))

    # a dump written after a client cached this description (a remote store's, in the background) changes it
    return _rdf_or_html(graph, html, fmt, variant=" ".join(f"{size}" for _, size in sorted(sizes.items())))


@bp.route(route(DATASET_PATH), methods=["GET", "HEAD"])
def dataset():
    """The dataset is a thing; its description lives at /.well-known/void."""
    response = redirect(request.url_root + VOID_PATH, code=303)
    return response


@bp.route(route(GRAPH_PATH) + "<name>", methods=["GET", "HEAD"])
def named_graph(name: str):
    """A named graph of the release (`hg:data`...) is a thing too: 303 to the dataset description, where the
    VoID subset with that `sd:name` gives its size and what it holds (and the service description lists it).
    The graph's content is a query away: ``CONSTRUCT WHERE { GRAPH hg:data { ?s ?p ?o } }``."""
    if name not in GRAPHS:
        abort(404)
    response = redirect(f"{request.url_root}{VOID_PATH}#graph-{name}", code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/favicon.ico", methods=["GET", "HEAD"])
def favicon():
    return send_from_directory(STATIC_DIR, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


#: crawlers may read every page and document, but not run queries: a query link (an example on the landing
#: page, `/sparql?query=…`) costs the server an evaluation each time, and the answers are not documents
ROBOTS = f"""User-agent: *
Disallow: /{SPARQL_PATH}?
Disallow: /{QUERY_PAGE_PATH}?
"""


@bp.route("/robots.txt", methods=["GET", "HEAD"])
def robots():
    store = current_store()
    return document_response(lambda: ROBOTS, "text/plain", release_id=store.release_id, modified=release_modified())


@bp.route(route(DUMP_PATH) + "<ext>", methods=["GET", "HEAD"])
def dump(ext: str):
    """`/dumps/haven.{ext}` and its gzip file `/dumps/haven.{ext}.gz`.

    The `.gz` URL is a file: `application/gzip`, no Content-Encoding, so curl, wget, requests and browsers all
    save exactly the bytes the name promises (with `Content-Encoding: gzip`, requests and `curl --compressed`
    would store plain text under a .gz name; rapper and rdflib read neither form over HTTP, only after
    `zcat` or `gzip.open`, and `oxigraph load` reads the file as it is). The plain URL is the RDF document; a
    client that accepts gzip transfer coding gets it as the same gzip bytes with `Content-Encoding: gzip`.
    """
    base_ext, dot, suffix = ext.rpartition(".")
    compressed = bool(dot) and suffix == GZIP.extension
    fmt = by_extension(base_ext if compressed else ext, DUMP_FORMATS)
    if fmt is None:
        abort(404)
    store = current_store()

    def find(gz: bool):
        return dump_file(local_release(), settings(), store.release_id, fmt, store, compressed=gz)

    try:
        path = find(compressed)
    except DumpPending as pending:
        return plain(503, f"The dumps of this release are being written; retry in {pending.retry_after} s.",
                     {"Retry-After": str(pending.retry_after), "Cache-Control": "no-store"})
    if path is None:
        abort(404)
    packed = None
    if not compressed and accepts_gzip():
        # the plain dump, gzipped for the transfer from its copy when the client takes gzip
        try:
            packed = find(True)
        except DumpPending:
            packed = None  # the copy is being written (a release older than them): the plain file meanwhile
    media_type = GZIP.media_type if compressed else fmt.media_type
    etag = etag_for(store.release_id, request.path, media_type) + ("-gzip" if packed else "")
    response = send_file(packed or path, mimetype=media_type, conditional=True, etag=etag,
                         last_modified=release_modified(), download_name=f"haven.{ext}", as_attachment=False)
    if packed is not None:
        response.headers["Content-Encoding"] = "gzip"
    if not compressed:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# -- static files ------------------------------------------------------------------------------------------

@bp.route(route(STATIC_PATH) + "<path:filename>", methods=["GET", "HEAD"])
def static_file(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=3600)

