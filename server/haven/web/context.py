"""What the Linked Data blueprints share: the request's store, URL map and release, RDF serialisation with
Haven's published JSON-LD context, and a cache of things computed once per release.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Sequence

from flask import Response, current_app, g, request
from rdflib import Dataset, Graph

from haven import buildfolder
from haven.formats import JSON_LD, TURTLE, Format
from haven.web import negotiation
from haven.config import DEFAULT_BASE, Settings
from haven.iris import CONTEXT_PATH, UrlMap, iris_for
from haven.web.caching import parse_release_date
from haven.store.base import Store



# -- negotiation: the core's one function, over the formats Haven's documents come in ---------------------

def negotiate(offers: Sequence[Format]) -> Format | None:
    """The format among `offers` the request prefers (Accept, or `?format=` for browsers), None → 406."""
    return negotiation.choose(request.headers.get("Accept"), request.args.get("format"), offers)


def not_acceptable(offers: Sequence[Format]) -> Response:
    response = Response(negotiation.describe_offers(offers) + "\n", status=406, mimetype="text/plain")
    response.headers["Vary"] = "Accept"
    return response


# -- the app's objects -------------------------------------------------------------------------------------

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
    return UrlMap(base=settings().base, host_root=request.url_root)


def manifest() -> dict:
    """The served release's facts, as its store knows them (a local build folder may hold another release)."""
    return current_store().manifest


def release_modified():
    return parse_release_date(manifest().get("created"))


# -- once per release --------------------------------------------------------------------------------------

_cache_lock = threading.Lock()


def per_release(key: str, compute):
    """`compute()` once per (release, base, key); a new release drops everything computed for the old one."""
    store = current_store()
    cache = current_app.extensions.setdefault("haven.per_release", {})
    release = (store.release_id, settings().base)
    with _cache_lock:
        if cache.get("release") != release:
            cache.clear()
            cache["release"] = release
        if key in cache:
            return cache[key]
    value = compute()  # outside the lock: slow computations (pyLODE) must not block other keys
    with _cache_lock:
        if cache.get("release") == release:
            cache.setdefault(key, value)
    return value


#: rendered documents kept per release (a release never changes, so a body stays valid until the next one)
MAX_CACHED_BODIES = 512


def cached_body(key: tuple, build):
    """`build()` once per release for `key` (path and format), least recently used evicted past the bound."""
    bodies = per_release("bodies", OrderedDict)
    with _cache_lock:
        if key in bodies:
            bodies.move_to_end(key)
            return bodies[key]
    body = build()
    with _cache_lock:
        bodies[key] = body
        while len(bodies) > MAX_CACHED_BODIES:
            bodies.popitem(last=False)
    return body


def vocabulary():
    from haven.web.entities.page import load_vocabulary

    return per_release("vocabulary", lambda: load_vocabulary(current_store(), settings().base))


# -- JSON-LD context and serialisation ------------------------------------------------------------------

@lru_cache(maxsize=8)
def context_document(base: str) -> dict:
    """Haven's @context, written against the default base and moved to the configured one."""
    text = files("haven.web").joinpath(CONTEXT_PATH).read_text(encoding="utf-8")
    return json.loads(text.replace(DEFAULT_BASE, base))


def context_url() -> str:
    """Where a JSON-LD processor fetches the context: this host, which certainly serves it."""
    return request.url_root + CONTEXT_PATH


def serialize(graph: Graph | Dataset, fmt: Format) -> str:
    if fmt is JSON_LD:
        return to_json_ld(graph)
    if fmt is TURTLE:  # a document read by people: Haven's prefixes make it legible
        iris_for(settings().base).bind(graph)
    return graph.serialize(format=fmt.rdflib)


def to_json_ld(graph: Graph | Dataset) -> str:
    """Compact JSON-LD against the published context, which the document then names by URL rather than
    inlining it, so that every Haven JSON-LD document reads the same way."""
    context = context_document(settings().base)["@context"]
    doc = json.loads(graph.serialize(format=JSON_LD.rdflib, context=context, auto_compact=True))
    if isinstance(doc, dict):
        doc["@context"] = context_url()
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)
