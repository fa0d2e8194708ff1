"""`/openapi.json` and `/openapi.yaml`: the HTTP API description (haven.web.openapi.description), its
`servers` naming the host the request arrived at."""
from __future__ import annotations

import json

import yaml
from flask import Blueprint, request

from haven import __version__
from haven.formats import OPENAPI_JSON, OPENAPI_YAML
from haven.iris import OPENAPI_PATH, route
from haven.web.caching import document_response
from haven.web.openapi.description import for_server

bp = Blueprint("openapi", __name__)


@bp.route(route(OPENAPI_PATH) + "." + OPENAPI_JSON.extension, methods=["GET", "HEAD"])
def openapi_json():
    return _document(lambda spec: json.dumps(spec, indent=1, ensure_ascii=False), OPENAPI_JSON.media_type)


@bp.route(route(OPENAPI_PATH) + "." + OPENAPI_YAML.extension, methods=["GET", "HEAD"])
def openapi_yaml():
    return _document(lambda spec: yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), OPENAPI_YAML.media_type)


def _document(dump, media_type: str):
    # the description changes with the code, not the release, and names the host it was asked from: the
    # package version and that host are its validator
    return document_response(lambda: dump(for_server(request.url_root)), media_type,
                             release_id=f"haven {__version__} {request.url_root}", modified=None)
