"""`/releases` (every release the served one knows of: HTML, JSON, or RDF in DCAT/VoID/PROV), and per release
`/releases/{id}` (303 to the list, which describes it), `/releases/{id}/changes` (its changelog against the
previous release: HTML or JSON), `/releases/{id}/changes.rdfp` (the RDF Patch from the previous release) and
`/releases/{id}/haven.{ext}` (its dumps, while this host keeps the release).

The URLs name releases by id, so they stay valid after newer releases are published; what a host no longer
keeps (an old release pruned from the build folder) is 404, and the list says which releases are kept.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, send_file

from haven import buildfolder
from haven.dumps import file_name
from haven.formats import DUMP_FORMATS, GRAPH_FORMATS, GZIP, HTML, JSON, RDF_PATCH
from haven.iris import RELEASES_PATH, route
from haven.web.caching import document_response, etag_for
from haven.web.current import current_store, negotiate, not_acceptable, release_modified, url_map
from haven.web.rdf_output import serialize
from haven.web.release_cache import cached_body
from haven.web.releases.view import changes, changes_view, history_file, release_dump, release_entries, \
    releases_graph

bp = Blueprint("releases", __name__)

#: the release list: a browser gets HTML, `application/json` plain JSON, an RDF type the DCAT description
LIST_OFFERS = (HTML, JSON, *GRAPH_FORMATS)
#: a changelog: HTML or JSON (its RDF form is the patch)
CHANGES_OFFERS = (HTML, JSON)


def _document(key: tuple, render, fmt, links=()):
    store = current_store()
    return document_response(lambda: cached_body(key + (url_map().host_root,), render), fmt.media_type,
                             release_id=store.release_id,
                             modified=release_modified(), links=links, negotiated=True)


@bp.route(route(RELEASES_PATH), methods=["GET", "HEAD"])
def release_list():
    fmt = negotiate(LIST_OFFERS)
    if fmt is None:
        return not_acceptable(LIST_OFFERS)
    urls = url_map()

    def render():
        if fmt is HTML:
            return render_template("releases.html", releases=release_entries(urls))
        if fmt is JSON:
            return json.dumps({"releases": release_entries(urls)}, ensure_ascii=False, indent=1)
        return serialize(releases_graph(urls), fmt)

    return _document(("releases", fmt.media_type), render, fmt)


def _known(release_id: str) -> dict:
    entry = next((e for e in release_entries(url_map()) if str(e["id"]) == release_id), None)
    if entry is None:
        abort(404)
    return entry


@bp.route(route(RELEASES_PATH) + "/<release_id>", methods=["GET", "HEAD"])
def release(release_id: str):
    """A release is a thing; the release list describes it (its HTML has an anchor per release)."""
    _known(release_id)
    chosen = negotiate(LIST_OFFERS)
    target = url_map().url(RELEASES_PATH) + (f"#{release_id}" if chosen is HTML else "")
    response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.route(route(RELEASES_PATH) + "/<release_id>/changes", methods=["GET", "HEAD"])
def release_changes(release_id: str):
    _known(release_id)
    document = changes(release_id)
    if document is None:
        abort(404)
    fmt = negotiate(CHANGES_OFFERS)
    if fmt is None:
        return not_acceptable(CHANGES_OFFERS)
    urls = url_map()

    def render():
        if fmt is HTML:
            return render_template("changes.html", changes=changes_view(document, urls),
                                   patch=f"{urls.url(RELEASES_PATH)}/{release_id}/{buildfolder.PATCH}",
                                   previous_url=f"{urls.url(RELEASES_PATH)}/{document['previous']}")
        return json.dumps(document, ensure_ascii=False, indent=1)

    return _document(("changes", release_id, fmt.media_type), render, fmt)


@bp.route(route(RELEASES_PATH) + "/<release_id>/<name>", methods=["GET", "HEAD"])
def release_file(release_id: str, name: str):
    """The release's RDF Patch, or one of its dumps."""
    entry = _known(release_id)
    if name == buildfolder.PATCH:
        body = history_file(buildfolder.PATCH, release_id)
        if body is None:
            abort(404)
        return _document(("patch", release_id), lambda: body, RDF_PATCH)
    return _dump(entry, release_id, name)


def _dump(entry: dict, release_id: str, name: str):
    stem, dot, suffix = name.rpartition(".")
    compressed = suffix == GZIP.extension
    plain_name = stem if compressed else name
    fmt = next((f for f in DUMP_FORMATS if file_name(f.extension) == plain_name), None)
    if fmt is None or not dot:
        abort(404)
    if entry["served"]:
        # the served release's dumps are the dataset's (made in the background over a remote store)
        from haven.web.dataset.routes import dump
        return dump(fmt.extension + (f".{GZIP.extension}" if compressed else ""))
    path = release_dump(release_id, fmt, compressed)
    if path is None:
        abort(404)
    media_type = GZIP.media_type if compressed else fmt.media_type
    response = send_file(path, mimetype=media_type, conditional=True, download_name=name,
                         etag=etag_for(release_id, name, media_type), as_attachment=False)
    # a release never changes once written: its files may be cached for long
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response

