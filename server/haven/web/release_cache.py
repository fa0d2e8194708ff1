"""What is computed once per release and kept until the next one: per-release values (counts, the ontology
page, the vocabulary), rendered document bodies (least recently used evicted past a bound), and the entities
known to exist (so that a document already served is answered, 304 or 200, without asking the store again).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

from haven.web.caching import gzipped
from haven.web.current import current_store, settings
from haven.web.metrics import count_cache

_cache_lock = threading.Lock()


def per_release(key: str, compute):
    """`compute()` once per (release, base, key); a new release drops everything computed for the old one."""
    return _per_release(key, compute, count_as="release")


def _per_release(key: str, compute, count_as: str | None = None):
    store = current_store()
    cache = current_app.extensions.setdefault("haven.per_release", {})
    release = (store.release_id, settings().base)
    with _cache_lock:
        if cache.get("release") != release:
            cache.clear()
            cache["release"] = release
        found = key in cache
        value = cache.get(key)
    if count_as is not None:
        count_cache(count_as, found)
    if found:
        return value
    value = compute()  # outside the lock: slow computations (the ontology page) must not block other keys
    with _cache_lock:
        if cache.get("release") == release:
            cache.setdefault(key, value)
    return value


#: rendered documents kept per release (a release never changes, so a body stays valid until the next one)
MAX_CACHED_BODIES = 512
#: entity graphs kept per release: the page and the six RDF formats of one entity are rendered from one graph,
#: built once (al-qaeda's, the largest of the project's release: 1,384 triples, 0.35 s, 3.5 MB), as a reader
#: who opens a page and then its JSON-LD asks for both; bounded by the largest graphs' memory
MAX_CACHED_GRAPHS = 32


def cached_body(key: tuple, build):
    """`build()` once per release for `key` (path and format), least recently used evicted past the bound."""
    return _least_recently_used("bodies", MAX_CACHED_BODIES, "documents", key, build)


def cached_graph(key: tuple, build):
    """`build()` (an entity's document graph, which renderers only read) once per release for `key`, the
    least recently used evicted past a smaller bound."""
    return _least_recently_used("graphs", MAX_CACHED_GRAPHS, "graphs", key, build)


def _least_recently_used(name: str, bound: int, count_as: str, key: tuple, build):
    entries = _per_release(name, OrderedDict)
    with _cache_lock:
        found = key in entries
        if found:
            entries.move_to_end(key)
            value = entries[key]
    count_cache(count_as, found)
    if found:
        return value
    value = build()
    with _cache_lock:
        entries[key] = value
        while len(entries) > bound:
            entries.popitem(last=False)
    return value


def cached_gzipped(key: tuple, build):
    """`caching.gzipped` of the body `cached_body(key, build)`, compressed once per release too."""
    return cached_body(key + ("gzip",), lambda: gzipped(cached_body(key, build)))


#: entities remembered as existing per release; past it the memory starts again (a release of 10M triples has
#: about 110k entities, so every entity of the largest benchmark release fits)
MAX_KNOWN_ENTITIES = 200_000


def known_entity(slug: str, check) -> bool:
    """Whether the entity `slug` exists in the served release: `check()` (a store query) the first time, then
    from memory. Only a yes is remembered: a release never loses an entity, and remembering every unknown slug
    a client tries would let it fill the memory."""
    known = _per_release("entities", set)
    found = slug in known
    count_cache("entities", found)
    if found:
        return True
    if not check():
        return False
    with _cache_lock:
        if len(known) >= MAX_KNOWN_ENTITIES:
            known.clear()
        known.add(slug)
    return True
