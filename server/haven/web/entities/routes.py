"""Entity URIs (Cool URIs, httpRange-14): `/id/{slug}` is the thing, `/page/…` and `/data/….ext` describe it.

`GET /id/{slug}` never answers with a body: it says 303 See Other to the document that suits the client's
Accept header, so the URI of the thing and the URIs of its descriptions stay distinct. The documents are
plain resources with validators, so they can be fetched directly, cached and revalidated.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template

from haven.web.entities.document import continuity_record, entity_document, exists
from haven.formats import GRAPH_FORMATS, HTML, Format, by_extension
from haven.web.current import current_store, settings, negotiate, not_acceptable, release_modified, url_map
from haven.web.rdf_output import serialize
from haven.web.release_cache import cached_body, cached_graph, cached_gzipped, known_entity, per_release
from haven.web.releases.view import entity_history
from haven.web.entities.page import entity_view, search_summary, vocabulary
from haven.web.pictures.data import entity_pictures, statement_kinds
from haven.web.caching import document_response
from haven.web.hardening import json_for_script
from haven.iris import DOCUMENT_PATH, ENTITY_PATH, PAGE_PATH, UrlMap, is_valid_slug, route

bp = Blueprint("entities", __name__)

#: what `/id/{slug}` can redirect to, most preferred first: a browser's `*/*` gets the page
ENTITY_OFFERS = (HTML, *GRAPH_FORMATS)


def _known_entity(slug: str):
    """The canonical IRI of an existing entity, or a 404. The store is asked once per release and entity: a
    document already served is answered (304 to a revalidation, its cached bytes otherwise) without a query."""
    if not is_valid_slug(slug):
        abort(404)
    iri = url_map().entity_iri(slug)
    if not known_entity(slug, lambda: exists(current_store(), iri)):
        abort(404)
    return iri


def _continuity(slug: str, iri, moved_to, fmt: Format | None = None):
    """The answer for a published IRI that moved or was withdrawn, as the data's continuity records say
    (`haven.pipeline.continuity`), or None for one in use. ``old owl:sameAs new`` (the same thing under a new
    slug): 301 Moved Permanently to the same kind of URL for the new slug, `moved_to(new)`. ``owl:deprecated
    true`` or ``dcterms:isReplacedBy``: 410 Gone, whose body (the page, or the RDF of what the data still
    says about it, `fmt` or negotiated) and ``Link: rel="successor-version"`` point to the successor."""
    records = per_release("continuity", dict)
    if slug not in records:
        records[slug] = continuity_record(current_store(), iri, settings().base)
    record = records[slug]
    if "sameAs" in record:
        return redirect(moved_to(record["sameAs"]), code=301)
    if not (record.get("deprecated") or "replacedBy" in record):
        return None
    negotiated = fmt is None
    fmt = fmt or negotiate(ENTITY_OFFERS)
    if fmt is None:
        return not_acceptable(ENTITY_OFFERS)
    store, urls = current_store(), url_map()
    successor = record.get("replacedBy")
    links = [(urls.page_url(successor) if fmt is HTML else str(urls.entity_iri(successor)), "successor-version",
              None)] if successor else []

    def render():
        doc = _document(store, urls, iri, slug)
        if fmt is not HTML:
            return serialize(doc.graph, fmt, root=iri)
        view = entity_view(doc.graph, iri, vocabulary(), urls, doc.statements)
        return render_template("gone.html", entity=view, successor=successor,
                               successor_url=urls.page_url(successor) if successor else None,
                               history=entity_history(slug, urls), served_iri=urls.served(str(iri)))

    return document_response(lambda: cached_body(("gone", slug, fmt.media_type, urls.host_root), render),
                             fmt.media_type, release_id=store.release_id, modified=release_modified(),
                             links=links, negotiated=negotiated, status=410)


@bp.route(route(ENTITY_PATH) + "<path:slug>", methods=["GET", "HEAD"])
def thing(slug: str):
    iri = _known_entity(slug)
    moved = _continuity(slug, iri, lambda new: str(url_map().url(ENTITY_PATH + new)))
    return moved if moved is not None else _see_description(slug)


def _see_description(slug: str):
    """303 to the description of `slug` in the format the request prefers (its page for HTML), or 406."""
    chosen = negotiate(ENTITY_OFFERS)
    if chosen is None:
        response = not_acceptable(ENTITY_OFFERS)
    else:
        urls = url_map()
        target = urls.page_url(slug) if chosen is HTML else urls.data_url(slug, chosen.extension)
        response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.route(route(DOCUMENT_PATH) + "<path:name>", methods=["GET", "HEAD"])
def data(name: str):
    slug, dot, ext = name.rpartition(".")
    if not dot:
        # the generic document: the client's Accept picks one of the concrete ones, as for the thing itself
        iri = _known_entity(name)
        moved = _continuity(name, iri, lambda new: url_map().url(DOCUMENT_PATH + new))
        return moved if moved is not None else _see_description(name)
    fmt = by_extension(ext, GRAPH_FORMATS)
    if fmt is None:
        abort(404)
    iri = _known_entity(slug)
    moved = _continuity(slug, iri, lambda new: url_map().data_url(new, ext), fmt)
    if moved is not None:
        return moved
    store, urls = current_store(), url_map()

    key = ("data", slug, fmt.media_type, urls.host_root)

    def render():
        return serialize(_document(store, urls, iri, slug).graph, fmt, root=iri)

    return document_response(lambda: cached_body(key, render), fmt.media_type, release_id=store.release_id,
                             modified=release_modified(), links=_alternates(slug, exclude=fmt),
                             build_gzipped=lambda: cached_gzipped(key, render))


@bp.route(route(PAGE_PATH) + "<path:slug>", methods=["GET", "HEAD"])
def page(slug: str):
    iri = _known_entity(slug)
    moved = _continuity(slug, iri, url_map().page_url, HTML)
    if moved is not None:
        return moved
    store, urls = current_store(), url_map()

    key = ("page", slug, urls.host_root)

    def render():
        doc = _document(store, urls, iri, slug)
        vocab = vocabulary()
        view = entity_view(doc.graph, iri, vocab, urls, doc.statements)
        summary = json_for_script(json.dumps(search_summary(view, doc.graph, iri, vocab, urls), ensure_ascii=False))
        formats = [(f.extension, urls.data_url(slug, f.extension), f.media_type) for f in GRAPH_FORMATS]
        pictures = entity_pictures(doc.graph, iri, doc.statements, vocab, statement_kinds(), urls)
        return render_template("entity.html", entity=view, summary=summary, formats=formats,
                               capped=doc.capped, served_iri=urls.served(str(iri)),
                               history=entity_history(slug, urls), pictures=pictures)

    return document_response(lambda: cached_body(key, render), HTML.media_type, release_id=store.release_id,
                             modified=release_modified(), links=_alternates(slug, exclude=HTML),
                             build_gzipped=lambda: cached_gzipped(key, render))


def _document(store, urls: UrlMap, iri, slug: str):
    """The entity's document graph, built once per release for all its formats and its page."""
    return cached_graph(("entity", slug, urls.host_root), lambda: entity_document(store, urls, iri, slug))


def _alternates(slug: str, exclude: Format):
    urls = url_map()
    links = [(urls.page_url(slug), "alternate", HTML.media_type)] if exclude is not HTML else []
    links += [(urls.data_url(slug, f.extension), "alternate", f.media_type) for f in GRAPH_FORMATS if f is not exclude]
    links.append((str(urls.entity_iri(slug)), "canonical", None))
    return links

