"""The search index of the release a request is served from, made once per release: read from the release
folder's file (or the one the build left in the cache folder), or, for a release this host has no file for
(a remote store's release built elsewhere), extracted from the store with the build's own queries."""
from __future__ import annotations

import threading

from haven import buildfolder
from haven.iris import iris_for
from haven.search.index import SearchIndex, extract, read_file
from haven.search.reconciliation import Ids
from haven.web.current import current_store, local_release, settings
from haven.web.release_cache import per_release

#: seconds the extraction queries may take on a store (once per release; 1M triples take a few seconds)
EXTRACTION_TIMEOUT = 120.0


def current_index() -> SearchIndex:
    return per_release("search-index", _load)


def current_ids() -> Ids:
    ns = iris_for(settings().base)
    return Ids(ns, ns.prefixes())


def _load() -> SearchIndex:
    store = current_store()
    folders = [local_release(), buildfolder.release_cache(buildfolder.cache_root(settings().build_dir), store.release_id)]
    for folder in folders:
        content = read_file(folder / buildfolder.SEARCH_INDEX) if folder is not None else None
        if content is not None:
            return SearchIndex(content)
    return SearchIndex(extract(lambda query: _solutions(store, query), iris_for(settings().base)))


def _solutions(store, query: str):
    for row in store.rows(query, timeout=max(store.query_timeout, EXTRACTION_TIMEOUT)):
        yield {name: str(term) for name, term in row.items() if term is not None}


def warm_up(app) -> threading.Thread:
    """Make the index of the release served now in the background, so that the first search does not wait
    for it (a second or more at a million triples); a failure is logged and the first search tries again."""

    def load():
        with app.app_context():
            try:
                current_index()
            except Exception:  # noqa: BLE001 - a store that is down now is retried by the first search
                app.logger.warning("the search index could not be made at start-up", exc_info=True)

    thread = threading.Thread(target=load, name="search-index", daemon=True)
    thread.start()
    return thread
