"""What is computed once per release and kept until the next one: per-release values (counts, pyLODE's
page, the vocabulary) and rendered document bodies, least recently used evicted past a bound.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

from haven.web.current import current_store, settings

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
