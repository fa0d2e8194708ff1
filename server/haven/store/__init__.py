"""Store backends behind one interface (`base.Store`); `open_store` picks one from the settings.

Nothing is imported at package level: the query worker (`haven.store.worker`) is started as
``python -m haven.store.worker`` and must not pay for rdflib or Flask.
"""
from __future__ import annotations

import importlib.util

from haven import buildfolder

def open_store(settings):
    """The store the settings ask for: "embedded" loads `<build_dir>/current`; a URL means a remote endpoint."""
    if settings.store == "embedded":
        from haven.store.embedded import EmbeddedStore

        # the cache folder beside the releases (as the dumps use): the on-disk store is built once per release
        return EmbeddedStore(settings.current_release, workers=settings.max_concurrent_queries,
                             memory_mb=settings.query_memory_mb, cache_dir=buildfolder.cache_root(settings.build_dir),
                             query_timeout=settings.query_timeout)
    if settings.store.startswith(("http://", "https://")) and importlib.util.find_spec("haven.store.remote"):
        from haven.store.remote import RemoteStore

        return RemoteStore(settings.store, settings)
    raise ValueError(f"unknown store {settings.store!r}: use 'embedded' or the URL of a SPARQL endpoint")
