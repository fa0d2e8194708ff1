"""`GET /search?q=…`: entities ranked by every name they have, however the query spells it
(`haven.search.index`), as JSON or as an HTML page of links; the search box of every page submits here and
its suggestions (static/search.js) read the JSON with `prefix=1`."""
from __future__ import annotations

import json

from flask import Blueprint, render_template, request

from haven.formats import HTML, JSON
from haven.iris import SEARCH_PATH, route
from haven.search.index import Hit, SearchIndex
from haven.web.caching import document_response
from haven.web.current import current_store, negotiate, not_acceptable, release_modified, url_map
from haven.web.errors import plain
from haven.web.search.index import current_ids, current_index

bp = Blueprint("search", __name__)

#: JSON first: a client sending */* (curl, scripts) gets data; a browser asks for text/html by name
SEARCH_OFFERS = (JSON, HTML)
DEFAULT_LIMIT = 10
MAX_LIMIT = 50


@bp.route(route(SEARCH_PATH), methods=["GET", "HEAD"])
def search():
    chosen = negotiate(SEARCH_OFFERS)
    if chosen is None:
        return not_acceptable(SEARCH_OFFERS)
    text = request.args.get("q", "")
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return plain(400, "limit must be a whole number")
    if not 1 <= limit <= MAX_LIMIT:
        return plain(400, f"limit must be between 1 and {MAX_LIMIT}")
    ids, index = current_ids(), current_index()
    types = []
    for given in request.args.getlist("type"):
        iri = ids.term_iri(given)
        if iri is None or iri not in index.classes:
            return plain(400, f"type {given!r} is not a class of the ontology (e.g. type=Person)")
        types.append(iri)
    prefix = request.args.get("prefix", "") in {"1", "true", "yes"}
    store = current_store()

    def body():
        hits = index.search(text, limit=limit, types=types, prefix=prefix)
        results = [_result(hit, index) for hit in hits]
        if chosen is JSON:
            return json.dumps({"query": text, "results": results}, ensure_ascii=False)
        return render_template("search.html", query=text, results=results, searched=bool(text.strip()))

    return document_response(body, chosen.media_type, release_id=store.release_id, modified=release_modified(),
                             negotiated=True, varies_by_query=True)


def _result(hit: Hit, index: SearchIndex) -> dict:
    urls, ids = url_map(), current_ids()
    return {
        "id": ids.entity_id(hit.entity.iri),
        "iri": hit.entity.iri,
        "label": hit.entity.label,
        "type": [{"iri": t, "label": index.classes[t]["label"] or ids.term_id(t)} for t in hit.entity.types],
        "description": hit.entity.description,
        "score": hit.score,
        "matched": hit.name,
        "url": urls.link(hit.entity.iri),
    }
