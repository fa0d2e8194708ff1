"""Store backends behind one interface (`base.Store`); `open_store` picks one from the settings.

Nothing is imported at package level: the query worker (`haven.store.worker`) is started as
``python -m haven.store.worker`` and must not pay for rdflib or Flask.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

STANDARD_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
}


def haven_prefixes(base: str) -> dict[str, str]:
    """Prefixes written into Turtle/RDF-XML answers, for the base IRI the release was built with."""
    return {
        **STANDARD_PREFIXES,
        "haven": f"{base}ontology#",
        "hid": f"{base}id/",
        "hst": f"{base}id/statement/",
        "hg": f"{base}graph/",
    }


def open_store(settings):
    """The store the settings ask for: "embedded" loads `<build_dir>/current`; a URL means a remote endpoint."""
    if settings.store == "embedded":
        from haven.store.embedded import EmbeddedStore

        # the cache folder beside the releases (as the dumps use): the on-disk store is built once per release
        store = EmbeddedStore(settings.current_release, workers=settings.max_concurrent_queries,
                              cache_dir=Path(settings.build_dir) / "cache")
        store.prefixes = haven_prefixes(store.manifest.get("base") or settings.base)
        return store
    if settings.store.startswith(("http://", "https://")) and importlib.util.find_spec("haven.store.remote"):
        from haven.store.remote import RemoteStore

        return RemoteStore(settings.store, settings)
    raise ValueError(f"unknown store {settings.store!r}: use 'embedded' or the URL of a SPARQL endpoint")
