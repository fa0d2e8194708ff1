"""`/fragments`: Triple Pattern Fragments (Linked Data Fragments), a cheap, cacheable query interface beside
`/sparql`. A TPF client (Comunica) answers SPARQL queries itself from pages of one triple pattern each.

``GET /fragments?subject=…&predicate=…&object=…&page=N``: the triples of the default graph matching the
pattern, `PAGE_SIZE` per page, with Hydra controls (the search form, first/previous/next/last, counts) in
TriG, N-Quads, Turtle, N-Triples, JSON-LD or HTML (a form, for people). Every page belongs to the release
being served: it carries the release's validators and lifetime, and its body is built once per release.
A parameter that is not a term in its position is 400, with the reason.
"""
from __future__ import annotations

import pyoxigraph as ox
from urllib.parse import quote_from_bytes

from flask import Blueprint, abort, redirect, render_template, request
from rdflib import URIRef

from haven.formats import HTML, JSON_LD, N_QUADS, N_TRIPLES, TRIG, TURTLE
from haven.iris import FRAGMENTS_PATH, GENID_PATH, UrlMap, compact, iris_for, route
from haven.web.caching import document_response
from haven.web.current import current_store, negotiate, not_acceptable, release_modified, settings, url_map
from haven.web.errors import plain
from haven.web.fragments.fragment import (PAGE_SIZE, BlankNodeTable, FragmentUrls, fragment_dataset, read_fragment,
                                          title, union)
from haven.web.fragments.pattern import PARAMETERS, Pattern, PatternError, explicit, parse_page, parse_pattern
from haven.web.rdf_output import serialize
from haven.web.release_cache import cached_body, per_release

bp = Blueprint("fragments", __name__)

#: the characters left as they are in a page's IRI: RFC 3986's unreserved and reserved ones, and existing escapes
URL_QUERY_SAFE = "-._~:/?#[]@!$&'()*+,;=%"

#: a browser gets the form; of the RDF formats, those with named graphs keep the controls apart from the data
FRAGMENT_OFFERS = (HTML, TRIG, N_QUADS, TURTLE, N_TRIPLES, JSON_LD)
#: formats with named graphs: the controls go in a graph of their own
_QUAD_FORMATS = (TRIG, N_QUADS, JSON_LD)


@bp.route(route(FRAGMENTS_PATH), methods=["GET", "HEAD"])
def fragments():
    try:
        pattern = parse_pattern(request.args)
        page = parse_page(request.args)
    except PatternError as error:
        return plain(400, f"400 Bad Request: {error}")
    chosen = negotiate(FRAGMENT_OFFERS)
    if chosen is None:
        return not_acceptable(FRAGMENT_OFFERS)
    store, urls = current_store(), url_map()
    ns = iris_for(settings().base)
    endpoint = urls.url(FRAGMENTS_PATH)
    # the page's own IRI is the URL as the client sent it (a TPF client looks its controls up under that URL),
    # with what is not allowed in an IRI (a raw quote or space from curl, raw UTF-8) percent-encoded
    query = quote_from_bytes(request.query_string, safe=URL_QUERY_SAFE)
    fragment_urls = FragmentUrls(endpoint=endpoint, requested=endpoint + ("?" + query if query else ""))

    def render():
        blanks = per_release("fragments.blank-nodes", BlankNodeTable).get(store, ns)
        fragment = read_fragment(store, ns, pattern, page, blanks)
        if chosen is HTML:
            return render_template("fragments.html", fragment=fragment, title=title(pattern), endpoint=endpoint,
                                   fields={name: explicit(term) if term is not None else ""
                                           for name, term in zip(PARAMETERS, pattern.terms())},
                                   rows=[_row(triple, urls, fragment_urls, ns) for triple in fragment.triples],
                                   page_url=lambda n: fragment_urls.page(pattern, n), page_size=PAGE_SIZE)
        dataset = fragment_dataset(fragment, fragment_urls, ns)
        return serialize(dataset if chosen in _QUAD_FORMATS else union(dataset), chosen)

    def body():
        return cached_body(("fragments", fragment_urls.requested, chosen.media_type), render)

    return document_response(body, chosen.media_type, release_id=store.release_id, modified=release_modified(),
                             negotiated=True, varies_by_query=True)


@bp.route(route(GENID_PATH) + "<blank_id>", methods=["GET", "HEAD"])
def skolem(blank_id: str):
    """A skolem IRI dereferences to the fragment of its triples (303: the IRI names a node of the data, the
    fragment describes it); an id that names no blank node of the release is 404."""
    store, ns = current_store(), iris_for(settings().base)
    iri = ns.skolem_iri(blank_id)
    blanks = per_release("fragments.blank-nodes", BlankNodeTable).get(store, ns)
    if not blanks.matching([iri, None, None]) and not blanks.matching([None, None, iri]):
        abort(404)
    endpoint = url_map().url(FRAGMENTS_PATH)
    return redirect(FragmentUrls(endpoint=endpoint, requested=endpoint).page(Pattern(subject=ox.NamedNode(iri)), 1),
                    code=303)


def _row(triple, urls: UrlMap, fragment_urls: FragmentUrls, ns) -> list[dict]:
    """How the HTML page shows a triple: each term as text, linked where it can be, with a link to the
    fragment of the triples that have it in the same position."""
    prefixes = ns.prefixes()
    cells = []
    for position, term in zip(PARAMETERS, triple):
        if isinstance(term, URIRef):
            text, href = compact(str(term), prefixes), urls.link(str(term))
        else:
            text, href = term.n3(), None
        pattern = fragment_urls.page(Pattern(**{position: _as_pattern_term(term)}), 1)
        cells.append({"text": text, "href": href, "pattern": pattern, "position": position})
    return cells


def _as_pattern_term(term):
    """An rdflib term of a page as the pyoxigraph term a pattern holds."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))
