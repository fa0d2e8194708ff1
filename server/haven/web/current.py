"""What the current request is served from: the settings, the store pinned to one release, the URL map of
the host the request arrived at, the served release's folder and facts, and the format the client asked for.
Blueprints read these rather than `current_app` or `flask.g`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from flask import Response, current_app, g, request

from haven import buildfolder
from haven.config import Settings
from haven.formats import PLAIN_TEXT, Format
from haven.iris import UrlMap
from haven.store.base import Store
from haven.web import negotiation
from haven.web.caching import parse_release_date

def settings() -> Settings:
    return current_app.config["HAVEN_SETTINGS"]


#: the one key of ``app.extensions`` under which the app's store lives
STORE_KEY = "haven"


def current_store() -> Store:
    """The app's store pinned to one release for the whole request (`Store.pinned`)."""
    if "haven_store" not in g:
        g.haven_store = current_app.extensions[STORE_KEY].pinned()
    return g.haven_store


def local_release() -> Path | None:
    """The folder of the release being served, when this host has it: always for the embedded store (the
    folder it pinned at start-up); for a remote store only if the build folder's current release is that very
    release (a replica may hold none, or another)."""
    store = current_store()
    if store.release_dir is not None:
        return store.release_dir
    path = settings().current_release
    try:
        found = buildfolder.read_manifest(path, required=("id",))["id"]
    except buildfolder.ReleaseFolderError:
        return None
    return path if str(found) == store.release_id else None


def url_map() -> UrlMap:
    """The request's URL map, made once per request (Werkzeug rebuilds `request.url_root` on every read)."""
    if "haven_urls" not in g:
        g.haven_urls = UrlMap(base=settings().base, host_root=request.url_root)
    return g.haven_urls


def manifest() -> dict:
    """The served release's facts, as its store knows them (a local build folder may hold another release)."""
    return current_store().manifest


def release_modified():
    return parse_release_date(manifest().get("created"))


# -- negotiation: the core's one function, over the formats Haven's documents come in ---------------------

def negotiate(offers: Sequence[Format]) -> Format | None:
    """The format among `offers` the request prefers (Accept, or `?format=` for browsers), None → 406."""
    return negotiation.choose(request.headers.get("Accept"), negotiation.format_values(request.args), offers)


def not_acceptable(offers: Sequence[Format]) -> Response:
    response = Response(negotiation.offers_message(offers) + "\n", status=406, mimetype=PLAIN_TEXT.media_type)
    response.headers["Vary"] = "Accept"
    return response
