"""The W3C Reconciliation Service API 0.2 over HTTP, as OpenRefine calls it (`haven.search.reconciliation`
holds the logic):

* ``GET /reconcile``: the service manifest; with ``queries=`` (query string or POST form, or a POSTed JSON
  body) a batch of reconciliation queries; with ``query=`` one query (a name or a JSON object); with
  ``extend=`` a data extension request;
* ``/reconcile/preview?id=`` an HTML preview, ``/reconcile/suggest/{entity,type,property}?prefix=``,
  ``/reconcile/flyout/entity?id=``, ``/reconcile/propose_properties?type=``.

Answers are JSON (the preview HTML); a malformed request is 400 with the reason.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import escape

from haven import __version__
from haven.formats import JSON
from haven.iris import (PAGE_PATH, RECONCILE_FLYOUT_PATH, RECONCILE_PATH, RECONCILE_PREVIEW_PATH,
                        RECONCILE_PROPOSE_PATH, RECONCILE_SUGGEST_PATH, route)
from haven.search import reconciliation as api
from haven.web.current import current_store, url_map
from haven.web.errors import plain
from haven.web.hardening import content_security_policy
from haven.web.release_cache import per_release
from haven.web.search.index import current_ids, current_index

bp = Blueprint("reconcile", __name__)

SERVICE_NAME = "Haven: militant organisations, their allegiances and sanctuaries"
#: most characters of a suggest prefix (a name, not a document)
MAX_PREFIX_CHARS = 200
MAX_SUGGEST = 50


def _json(value, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status=status, mimetype=JSON.media_type)


def _values(iris: list[str], property_iri: str):
    return api.property_values(current_store().rows, iris, property_iri)


def _param(name: str) -> str | None:
    """A parameter from the query string or the POSTed form."""
    return request.values.get(name)


def _decoded(name: str, text: str):
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError as error:
        raise api.RequestError(f"{name} is not valid JSON: {error}") from None


def _not_json(constant: str):
    """NaN and Infinity, which Python's json module reads but RFC 8259 JSON has not."""
    raise ValueError(f"{constant} is not a JSON value")


@bp.route(route(RECONCILE_PATH), methods=["GET", "POST"])
def service():
    try:
        return _service()
    except api.RequestError as error:
        return plain(400, str(error))


def _service() -> Response:
    index, ids = current_index(), current_ids()
    if request.method == "POST" and request.mimetype == JSON.media_type:
        body = _decoded("the request body", request.get_data(as_text=True))
        if isinstance(body, dict) and set(body) == {"queries"}:
            body = body["queries"]
        return _json(api.reconcile_batch(index, body, ids, _values))
    queries, query, extension = _param("queries"), _param("query"), _param("extend")
    if queries is not None:
        return _json(api.reconcile_batch(index, _decoded("queries", queries), ids, _values))
    if query is not None:
        single = _decoded("query", query) if query.lstrip().startswith("{") else query
        return _json({"result": api.reconcile(index, single, ids, _values)})
    if extension is not None:
        return _json(api.extend(index, _decoded("extend", extension), ids, _values))
    return _json(api.manifest(index, ids, name=SERVICE_NAME, version=__version__, urls=_service_urls()))


def _service_urls() -> dict[str, str]:
    urls = url_map()
    root = urls.host_root.rstrip("/")
    path = lambda p: route(p)  # noqa: E731 - the paths below the root, as the manifest gives them
    return {"root": root, "view": urls.url(PAGE_PATH), "preview": urls.url(RECONCILE_PREVIEW_PATH),
            "documentation": urls.url(""),
            **{f"suggest_{kind}": path(RECONCILE_SUGGEST_PATH + kind) for kind in ("entity", "type", "property")},
            "flyout_entity": path(RECONCILE_FLYOUT_PATH + "entity"),
            "propose_properties": path(RECONCILE_PROPOSE_PATH)}


def _entity_param():
    index, ids = current_index(), current_ids()
    iri = ids.entity_iri(request.args.get("id", ""))
    entity = index.by_iri.get(iri) if iri else None
    if entity is None:
        abort(404)
    return entity, index, ids


@bp.route(route(RECONCILE_PREVIEW_PATH), methods=["GET", "HEAD"])
def preview():
    entity, index, ids = _entity_param()
    types = [index.classes[t]["label"] or ids.term_id(t) for t in entity.types]
    response = Response(render_template("reconcile_preview.html", entity=entity, types=types,
                                        url=url_map().link(entity.iri),
                                        other_names=[n for n, _ in entity.names if n != entity.label]),
                        mimetype="text/html")
    # OpenRefine shows the preview in a frame of its own page
    response.headers["Content-Security-Policy"] = content_security_policy(framable=True)
    return response


@bp.route(route(RECONCILE_FLYOUT_PATH) + "entity", methods=["GET"])
def flyout_entity():
    entity, index, ids = _entity_param()
    types = ", ".join(index.classes[t]["label"] or ids.term_id(t) for t in entity.types)
    html = f"<p><strong>{escape(entity.label)}</strong> ({escape(types)})</p><p>{escape(entity.description)}</p>"
    return _json({"id": ids.entity_id(entity.iri), "html": html})


def _suggest_args() -> tuple[str, int]:
    text = request.args.get("prefix", "")[:MAX_PREFIX_CHARS]
    try:
        limit = min(max(int(request.args.get("limit", 10)), 1), MAX_SUGGEST)
    except ValueError:
        raise api.RequestError("limit must be a whole number") from None
    return text, limit


@bp.route(route(RECONCILE_SUGGEST_PATH) + "<kind>", methods=["GET"])
def suggest(kind: str):
    if kind not in {"entity", "type", "property"}:
        abort(404)
    index, ids = current_index(), current_ids()
    try:
        text, limit = _suggest_args()
        if kind == "entity":
            types = [ids.term_iri(t) for t in request.args.getlist("type")]
            if None in types:
                raise api.RequestError("type must be a type id")
            return _json(api.suggest_entities(index, text, ids, types, limit))
        table = index.classes if kind == "type" else index.properties
        return _json(api.suggest_terms(table, text, ids, limit, with_broader=kind == "type"))
    except api.RequestError as error:
        return plain(400, str(error))


@bp.route(route(RECONCILE_PROPOSE_PATH), methods=["GET"])
def propose_properties():
    index, ids = current_index(), current_ids()
    type_id = request.args.get("type", "")
    type_iri = ids.term_iri(type_id)
    if type_iri is None or type_iri not in index.classes:
        return plain(400, f"type {type_id!r} is not a class of the ontology")
    try:
        limit = min(max(int(request.args.get("limit", 20)), 1), 500)
    except ValueError:
        return plain(400, "limit must be a whole number")
    store = current_store()
    used = per_release(f"used-properties {type_iri}",
                       lambda: [str(row["p"]) for row in store.rows(api.used_properties_query(type_iri))])
    return _json(api.propose_properties(index, used, type_id, ids, limit))
