"""Chains the stages. `check` runs the ones that only read (sources to consistency); `build` adds the
dataset description and the release. Both raise BuildError at the first failing stage."""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyoxigraph as ox
from rdflib import Graph

from haven import __version__, buildfolder
from haven.config import DEFAULT_BASE, Settings
from haven.formats import TURTLE
from haven.dumps import FILES as DUMP_FILES, write_dumps
from haven.iris import iris_for
from haven.pipeline import Progress, graphs
from haven.pipeline.consistency import check_consistency, check_consistency_at_scale
from haven.pipeline.continuity import check_continuity
from haven.pipeline.derive import Derivation, derive, materialise_types
from haven.pipeline.metadata import dataset_description
from haven.pipeline.history import release_history, reused_note
from haven.pipeline.search import search_index
from haven.search.index import to_bytes as search_index_bytes
from haven.pipeline.release import (Release, build_lock, canonical_nquads, canonical_nquads_of, clear_leftovers,
                                    content_id, existing_release, prune, switch_current, write_release)
from haven.store.worker import is_complete, prepare
from haven.pipeline.sources import MAX_SOURCE_BYTES, Sources, load_sources, prior_ontologies
from haven.pipeline import fastcheck
from haven.pipeline.validate import Report, validate

#: `--validator auto` uses pySHACL (the reference implementation, the nicest report) below this many triples in
#: ontology + data + derived, and the SPARQL fast path (haven.pipeline.fastcheck) from there on. Measured on
#: bench/generate.py's trees: pySHACL 52 s at 100k (and minutes beyond), the fast path 4.8 s at 100k and
#: 80 s at 1M; below 200k pySHACL still fits in a minute, and the project's own data is far below it. The
#: same threshold moves the consistency stage from HermiT on everything to HermiT on the ontology plus the
#: SPARQL checks of consistency.check_consistency_at_scale.
FAST_VALIDATOR_FROM = 200_000
VALIDATORS = ("auto", "pyshacl", "fast")
#: the fast checks read one scratch copy of the union below this many triples (41-44 s of CPU at 1M against
#: 56-61 s on the three graphs), and the three graphs themselves from there on: at 10M the copy took the build
#: from 7.8 to 12 GiB, and the release stage then passed the benchmark's 16.5 GiB guard; without it the 10M
#: build peaked at 15.8 GiB, and its SHACL stage took 439 s against 469 s with the copy (no gain at that size).
MERGED_UNION_BELOW = 5_000_000


@dataclass
class Checked:
    sources: Sources
    derivation: Derivation
    report: Report


@dataclass
class Built:
    """What a build leaves: the release, its per-graph counts (when written) and the SHACL report. Not the
    build's store: it is freed before the on-disk store is loaded, so the two never share the memory."""
    report: Report
    release: Release | None = None
    graphs: dict[str, int] = field(default_factory=dict)


def check(settings: Settings, progress: Progress, skip_reasoner: bool = False,
          max_bytes: int = MAX_SOURCE_BYTES, validator: str = "auto") -> Checked:
    with progress.stage("sources") as notes:
        sources = load_sources(settings.root, settings.base, max_bytes)
        notes.append(f"{len(sources.files)} files")
        notes += [f"{part} {sources.size(part)} triples" for part in ("ontology", "data", "shapes")]
        if settings.base != DEFAULT_BASE:
            notes.append(f"rebased to {settings.base}")
    for warning in sources.warnings:
        progress.say(f"  warning: {warning}")
    with progress.stage("continuity") as notes:
        kept = check_continuity(settings.current_release, sources.store, sources.graph_name("data"), settings.base)
        notes.append(f"{kept.published} IRIs published by release {kept.previous} checked, {kept.moved} recorded as moved"
                     if kept.previous else "no published release to compare with")
    with progress.stage("derive") as notes:
        derivation = derive(sources.store, settings.base)
        notes += [f"{derivation.statements} statements", f"{derivation.seeded} direct",
                  f"{derivation.size} derived triples ({derivation.hedged_size} hedged)",
                  f"{derivation.rounds} closure rounds"]
    # the graphs SHACL and the reasoner judge together: what is published, less the metadata
    union = [sources.graph_name("ontology"), sources.graph_name("data"), *derivation.names]
    size = sources.size("ontology") + sources.size("data") + derivation.size
    chosen = choose_validator(validator, size)
    merge = chosen == "fast" and size < MERGED_UNION_BELOW
    with graphs.merged(sources.store, union) if merge else nullcontext(union) as checked:
        with progress.stage("validate") as notes:
            if chosen == "fast":
                report = fastcheck.validate_store(sources.store, checked, sources.shapes, settings.base)
            else:
                report = validate(sources.ontology, sources.data, derivation.graph, sources.shapes, settings.base)
            notes += ["0 violations", f"{len(report.warnings)} warnings", f"by {chosen}"]
        if report.text:
            progress.report(report.text, "haven validate lists them")
        if skip_reasoner:
            progress.say("[consistency] skipped (--skip-reasoner)")
        else:
            with progress.stage("consistency") as notes:
                if chosen == "fast":  # HermiT on the ontology, the individuals in SPARQL (consistency.py says what)
                    result = check_consistency_at_scale(sources.store, checked, sources.ontology, settings.base)
                    notes += [f"consistent (HermiT on the ontology, SPARQL on {result.axioms} triples)"]
                else:
                    result = check_consistency(sources.ontology, sources.data, derivation.graph, settings.base)
                    notes += [f"consistent, {result.axioms} triples reasoned over"]
    return Checked(sources, derivation, report)


def choose_validator(validator: str, triples: int) -> str:
    if validator not in VALIDATORS:
        raise ValueError(f"validator {validator!r}: expected one of {', '.join(VALIDATORS)}")
    if validator == "auto":
        return "fast" if triples >= FAST_VALIDATOR_FROM else "pyshacl"
    return validator


def build(settings: Settings, progress: Progress, skip_reasoner: bool = False,
          max_bytes: int = MAX_SOURCE_BYTES, validator: str = "auto") -> Built:
    checked = check(settings, progress, skip_reasoner, max_bytes, validator)
    sources, store = checked.sources, checked.sources.store
    ns = iris_for(settings.base)
    names = {name: ox.NamedNode(str(iri)) for name, iri in ns.graphs.items()}
    built = Built(checked.report)
    with build_lock(settings.build_dir):
        leftovers = clear_leftovers(settings.build_dir)
        if leftovers:
            progress.say(f"  removed {len(leftovers)} leftover(s) of an interrupted build: {', '.join(leftovers)}")
        with progress.stage("types") as notes:
            # after the checks, which judge the types as written (derive.materialise_types says why)
            notes.append(f"{materialise_types(store, settings.base)} rdf:type triples of superclasses derived")
        with progress.stage("metadata") as notes:
            # the source parts as written (the store would publish their integer subtypes as xsd:integer)
            exact = {names[part]: sources.texts[part] for part in ("ontology", "data")}
            body = canonical_nquads_of(store, [names["ontology"], names["data"], *checked.derivation.names], exact)
            shapes = sources.graph_name("shapes")
            shapes_body = canonical_nquads_of(store, [shapes], {shapes: sources.texts["shapes"]})
            release_id = content_id(settings.base, body, shapes_body)
            reuse = existing_release(settings.build_dir, release_id)
            if reuse:
                notes.append(f"release {release_id} already built from the same sources")
            else:
                metadata = dataset_description(settings.base, store, release_id, build_time(), __version__)
                notes.append(f"{len(metadata)} triples")
        with progress.stage("search") as notes:
            # from the build's store, before it is freed; a release built again keeps the index it has
            index = None if reuse and (reuse / buildfolder.SEARCH_INDEX).is_file() else search_index(store, settings.base)
            notes.append(f"{len(index['entities'])} entities, {sum(len(e['names']) for e in index['entities'])} names"
                         if index else "kept the release's index")
        with progress.stage("release") as notes:
            if reuse:
                path = reuse
                stale = reused_note(settings.current_release, settings.base, release_id)
                if stale:
                    notes.append(stale)
                if index is not None:  # built before releases held an index: beside its on-disk store instead
                    cache = buildfolder.release_cache(buildfolder.cache_root(settings.build_dir), release_id)
                    cache.mkdir(parents=True, exist_ok=True)
                    (cache / buildfolder.SEARCH_INDEX).write_bytes(search_index_bytes(index))
                if not all((path / name).is_file() for name in DUMP_FILES):
                    # built before releases held their dumps: write them beside its on-disk store instead
                    write_dumps(path / buildfolder.NQUADS,
                                buildfolder.release_cache(buildfolder.cache_root(settings.build_dir), release_id),
                                ns.prefixes())
            else:
                nquads = _merge(body, canonical_nquads({ns.graphs["metadata"]: metadata}))
                del body, shapes_body
                counts = {str(iri): nquads.count(f" <{iri}> .\n".encode()) for iri in ns.graphs.values()}
                manifest = {
                    "id": release_id, "base": settings.base, "created": metadata_time(metadata),
                    "version": __version__, "triples": sum(counts.values()), "graphs": counts,
                }
                files = {buildfolder.NQUADS: nquads, buildfolder.ONTOLOGY: turtle(sources, "ontology"),
                         buildfolder.SHAPES: turtle(sources, "shapes"),
                         buildfolder.SEARCH_INDEX: search_index_bytes(index),
                         **{buildfolder.prior_ontology(version): text
                            for version, text in prior_ontologies(settings.root).items()}}
                # the history holds the lines of two releases: the build's store (the largest object of a
                # build) is let go first, so that the two never share the memory
                checked = sources = store = exact = index = None
                changes = release_history(settings.current_release, settings.base, release_id, nquads)
                notes.append(changes.note)
                files.update(changes.files)
                prefixes = ns.prefixes()
                path = write_release(settings.build_dir, release_id, files, manifest,
                                     derive=lambda folder: write_dumps(folder / buildfolder.NQUADS, folder, prefixes))
                built.graphs = counts
            notes.append(f"{'kept' if reuse else 'wrote'} {path}")
        del checked, sources, store, exact, index  # the build's store and texts: the largest objects of a build
        if not reuse:
            del nquads
        with progress.stage("store") as notes:
            # the on-disk store `haven serve` opens, made now so that no server start has to load the release
            folder = buildfolder.store_folder(buildfolder.cache_root(settings.build_dir), release_id)
            notes.append(f"{'kept' if is_complete(folder) else 'loaded'} {folder}")
            prepare(str(path / buildfolder.NQUADS), str(folder))
        with progress.stage("switch") as notes:
            switch_current(settings.build_dir, release_id)
            removed = prune(settings.build_dir)
            notes.append("current → " + release_id)
            if removed:
                notes.append(f"removed {len(removed)} old release(s) and their caches")
    built.release = Release(release_id, path, bool(reuse))
    return built


def build_time() -> datetime:
    """`SOURCE_DATE_EPOCH` (the reproducible-builds convention) pins the time; otherwise now, in UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def metadata_time(metadata: Graph) -> str:
    from rdflib.namespace import PROV
    return str(next(metadata.objects(None, PROV.generatedAtTime)))


def turtle(sources: Sources, part: str) -> bytes:
    """The hand-written file itself when there is one and it needs no rebasing (comments and layout are
    part of its documentation); otherwise the merged graph, serialised."""
    files = sources.part(part)
    if len(files) == 1 and sources.base == DEFAULT_BASE:
        return files[0].text.encode("utf-8")
    return sources.merged(part).serialize(format=TURTLE.rdflib, encoding="utf-8")


def _merge(body: bytes, small: bytes) -> bytes:
    """Two sorted N-Quads bodies of distinct graphs → one sorted body. `small` (the metadata, a few hundred
    lines) is placed into `body` by binary search over its lines, so the millions of lines of `body` are never
    split into a list (which held as much memory again as the text at 10M triples)."""
    pieces, start = [], 0
    for line in small.splitlines(keepends=True):
        at = _insertion_point(body, line, start)
        pieces += [body[start:at], line]
        start = at
    pieces.append(body[start:])
    return b"".join(pieces)


def _insertion_point(body: bytes, line: bytes, low: int) -> int:
    """The offset of the first line of `body` at or after `low` that sorts after `line` (len(body) if none)."""
    high = len(body)
    while low < high:
        middle = body.rfind(b"\n", low, (low + high) // 2) + 1 or low  # start of the line holding the midpoint
        if middle < low:
            middle = low
        end = body.index(b"\n", middle) + 1
        if body[middle:end] <= line:
            low = end
        else:
            high = middle
    return low
