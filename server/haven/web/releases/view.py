"""What the release pages show, read from the history files the build wrote (`haven.history`): from the
release folders this host keeps, else from the store (`Store.history_file`, what `haven publish` put there).

Files are read once per served release (`release_cache.per_release`): serving a page costs no query.
"""
from __future__ import annotations

import json
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, VOID, XSD

from haven import buildfolder, history
from haven.dumps import file_name
from haven.formats import DUMP_FORMATS, RDF_PATCH, media_type_iri
from haven.iris import RELEASES_PATH, UrlMap
from haven.store.releases import check_release_id
from haven.terms import DCAT as DCAT_IRI, SPDX as SPDX_IRI
from haven.web.current import current_store, local_release, settings
from haven.web.dataset.catalogue import DumpPending, dump_file
from haven.web.release_cache import per_release

#: an open namespace: rdflib's DCAT lists DCAT 2's terms and warns on DCAT 3's versioning ones used here
DCAT = Namespace(DCAT_IRI)
SPDX = Namespace(SPDX_IRI)
#: the changelog's sections, in the order a page shows them
SECTIONS = ("added", "changed", "deprecated", "removed")


def release_folder(release_id: str) -> Path | None:
    """The folder of release `release_id` on this host: the served one's, or one the build folder keeps."""
    if release_id == current_store().release_id:
        return local_release()
    try:
        check_release_id(release_id)
    except ValueError:
        return None
    folder = buildfolder.release_folder(settings().build_dir, release_id)
    return folder if buildfolder.is_release(folder) else None


def release_dump(release_id: str, fmt, compressed: bool = False) -> Path | None:
    """A dump of an earlier release on this host: in its folder, or written for it into the cache folder
    while it was served here (a replica over a remote store keeps those); None otherwise. (The served
    release's dumps are the dataset's, `/dumps/…`, made on demand.)"""
    try:
        check_release_id(release_id)
    except ValueError:
        return None
    try:
        return dump_file(release_folder(release_id), settings(), release_id, fmt, None, compressed=compressed)
    except DumpPending:  # a folder from before releases held their dumps: being written from its haven.nq
        return None


def history_file(name: str, release_id: str) -> bytes | None:
    """A history file of a release, from its folder here or else from the store; once per served release."""
    def read():
        folder = release_folder(release_id)
        if folder is not None:
            try:
                return (folder / name).read_bytes()
            except OSError:
                return None
        return current_store().history_file(name, release_id)

    return per_release(("history-file", name, release_id), read)


def served_history() -> dict | None:
    return history.from_bytes(history_file(buildfolder.HISTORY, current_store().release_id))


def changes(release_id: str) -> dict | None:
    return history.from_bytes(history_file(buildfolder.CHANGES, release_id))


def served_manifest() -> dict:
    """The served release's manifest: the store's facts, with the sha256 of its files from its manifest.json
    (a remote store's record of the release does not keep those; `haven publish` stores the file beside it)."""
    store = current_store()
    manifest = store.manifest or {"id": store.release_id}
    if "sha256" not in manifest:
        def read():
            try:
                found = json.loads(history_file(buildfolder.MANIFEST, store.release_id) or b"null")
            except ValueError:
                return None
            return found if isinstance(found, dict) and str(found.get("id")) == store.release_id else None
        stored = per_release("served-manifest", read)
        if stored is not None:
            manifest = {**stored, **manifest, "sha256": stored.get("sha256")}
    return manifest


def known_releases() -> list[dict]:
    """Every release the served one knows of, newest first (`haven.history.releases`)."""
    return history.releases(served_manifest(), served_history())


def release_entries(urls: UrlMap) -> list[dict]:
    """The release list as the pages show it: each release with the URLs of what this host serves of it."""
    served = current_store().release_id
    entries = []
    for release in known_releases():
        release_id = str(release["id"])
        here = release_id == served or release_folder(release_id) is not None
        page = urls.url(f"{RELEASES_PATH}/{release_id}")
        entry = {**release, "url": page, "served": release_id == served, "kept": here}
        # a remote store keeps the previous release's history files too, without a folder here
        if release.get("previous") and history_file(buildfolder.CHANGES, release_id) is not None:
            entry["changes"] = f"{page}/changes"
            entry["patch"] = f"{page}/{buildfolder.PATCH}"
        if release_id == served or any(release_dump(release_id, fmt) for fmt in DUMP_FORMATS):
            entry["dumps"] = [{"format": fmt.label, "media_type": fmt.media_type,
                               "url": f"{page}/{file_name(fmt.extension)}"} for fmt in DUMP_FORMATS
                              if release_id == served or release_dump(release_id, fmt)]
        entries.append(entry)
    return entries


def releases_graph(urls: UrlMap) -> Graph:
    """The release list in RDF: each release a version of the dataset (DCAT 3 versioning, PROV revisions),
    with its counts (VoID), date, the sha256 of its files (SPDX checksums, as DCAT 3 does) and distributions."""
    base = urls.base
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dcterms", DCTERMS), ("prov", PROV), ("void", VOID),
                              ("spdx", SPDX), ("xsd", XSD)):
        graph.bind(prefix, namespace)
    dataset = URIRef(str(urls.dataset_iri))
    listing = URIRef(base + RELEASES_PATH)
    graph.add((listing, RDFS.label, Literal("Haven releases", lang="en")))
    graph.add((listing, DCTERMS.subject, dataset))
    entries = release_entries(urls)
    for entry in entries:
        node = URIRef(urls.release_iri(str(entry["id"])))
        graph.add((listing, RDFS.member, node))
        graph.add((dataset, DCAT.hasVersion, node))
        if entry["served"]:
            graph.add((dataset, DCAT.hasCurrentVersion, node))
        for kind in (DCAT.Dataset, VOID.Dataset, PROV.Entity):
            graph.add((node, RDF.type, kind))
        graph.add((node, DCAT.isVersionOf, dataset))
        graph.add((node, DCTERMS.identifier, Literal(str(entry["id"]))))
        graph.add((node, DCAT.version, Literal(str(entry["id"]))))
        if entry.get("created"):
            graph.add((node, DCTERMS.issued, Literal(entry["created"], datatype=XSD.dateTime)))
        if isinstance(entry.get("triples"), int):
            graph.add((node, VOID.triples, Literal(entry["triples"])))
        if entry.get("previous"):
            previous = URIRef(urls.release_iri(str(entry["previous"])))
            graph.add((node, DCAT.previousVersion, previous))
            graph.add((node, PROV.wasRevisionOf, previous))
        sha256 = entry.get("sha256") or {}
        release_iri = urls.release_iri(str(entry["id"]))
        for fmt in DUMP_FORMATS:
            name = file_name(fmt.extension)
            if name not in sha256 and not entry.get("dumps"):
                continue
            dump = URIRef(f"{release_iri}/{name}")
            graph.add((node, DCAT.distribution, dump))
            graph.add((dump, RDF.type, DCAT.Distribution))
            graph.add((dump, DCAT.mediaType, URIRef(media_type_iri(fmt.media_type))))
            graph.add((dump, DCTERMS["format"], Literal(fmt.label)))
            if entry.get("dumps"):
                graph.add((dump, DCAT.downloadURL, dump))
            _checksum(graph, dump, sha256.get(name))
        if entry.get("previous"):
            patch = URIRef(f"{release_iri}/{buildfolder.PATCH}")
            graph.add((node, DCAT.distribution, patch))
            graph.add((patch, RDF.type, DCAT.Distribution))
            graph.add((patch, DCAT.mediaType, URIRef(media_type_iri(RDF_PATCH.media_type))))
            graph.add((patch, DCTERMS.description, Literal(
                f"RDF Patch from release {entry['previous']} to release {entry['id']}", lang="en")))
            if entry.get("patch"):
                graph.add((patch, DCAT.downloadURL, patch))
            _checksum(graph, patch, sha256.get(buildfolder.PATCH))
    return graph


def _checksum(graph: Graph, distribution: URIRef, digest: str | None) -> None:
    if not digest:
        return
    checksum = BNode()
    graph.add((distribution, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((checksum, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))


def changes_view(document: dict, urls: UrlMap) -> dict:
    """A changelog with links: each IRI to its page (entities) or its served IRI (statements), and where a
    moved IRI went."""
    def item(entry: dict) -> dict:
        slug = entry["slug"]
        moved = entry.get("moved") or {}
        target = moved.get("sameAs") or moved.get("replacedBy")
        return {**entry, "url": urls.page_url(slug) if not history.is_statement(slug) else urls.served(
            str(urls.entity_iri(slug))), "target_url": urls.page_url(target) if target else None,
                "target": target}

    return {**document, **{kind: {section: [item(e) for e in document[kind][section]] for section in SECTIONS}
                           for kind in ("entities", "statements")}}


def entity_history(slug: str, urls: UrlMap) -> dict | None:
    """The release an IRI first appeared in and the one it last changed in, with their dates and pages; None
    when the served release carries no history (built before releases had one)."""
    pair = history.first_and_last(served_history(), slug)
    if pair is None:
        return None
    known = {str(release["id"]): release for release in known_releases()}

    def release(release_id: str) -> dict:
        page = urls.url(f"{RELEASES_PATH}/{release_id}")
        facts = known.get(release_id, {})
        return {"id": release_id, "created": facts.get("created"), "url": page,
                "changes": f"{page}/changes" if facts.get("previous") else None}

    first, last = pair
    return {"first": release(first), "last": release(last)}
