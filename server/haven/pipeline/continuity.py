"""Stage 1b: every IRI the previous release published under ``id/`` is still there, or says where it went.

A published URI is linked to from other graphs, bookmarks and citations; if a new build silently drops it
(a slug renamed from ``al-qaida`` to ``al-qaeda``, an entity deleted), every one of those links breaks.
So the build compares its data with the release that ``build/current`` serves and refuses to publish
unless each IRI that release described under ``{base}id/`` (entities and statements alike) is, in the new
data, either

* still described (the subject of an ``rdf:type``), possibly marked ``owl:deprecated true``; or
* recorded as moved: ``old owl:sameAs new`` (the same thing under a new slug) or
  ``old dcterms:isReplacedBy new`` (deprecation with a successor), where ``new`` is described.

The comparison is by the path below the base (the slug), so a release built for another base (a local test
base, a move of the whole site) is compared slug for slug. No previous release means nothing to compare.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from haven import buildfolder
from haven.iris import compact, iris_for
from haven.pipeline import BuildError
from haven.terms import DCTERMS, OWL, RDF_TYPE

REDIRECTS = (ox.NamedNode(OWL + "sameAs"), ox.NamedNode(DCTERMS + "isReplacedBy"))
_DEPRECATED = ox.NamedNode(OWL + "deprecated")
_TYPE = ox.NamedNode(RDF_TYPE)
#: longest list of vanished IRIs printed; the rest are counted
MAX_LISTED = 40


@dataclass
class Continuity:
    previous: str | None  # the release id compared against, None on a first build
    published: int  # IRIs under id/ in that release
    moved: int  # of which recorded as moved or deprecated in the new data


def published_slugs(release_dir: Path) -> tuple[str, str, set[str]]:
    """(release id, base, slugs) of the IRIs a release's data graph describes under ``{base}id/``."""
    manifest = buildfolder.read_manifest(release_dir)
    base = manifest["base"]
    data_graph = ox.NamedNode(str(iris_for(base).graphs["data"]))
    space = str(iris_for(base).hid)
    slugs = set()
    with open(release_dir / buildfolder.NQUADS, "rb") as handle:
        for quad in ox.parse(handle, format=ox.RdfFormat.N_QUADS):
            subject = quad.subject
            if quad.graph_name == data_graph and isinstance(subject, ox.NamedNode) and subject.value.startswith(space):
                slugs.add(subject.value[len(space):])
    return str(manifest.get("id", release_dir.name)), base, slugs


def check_continuity(previous_release: Path, store: ox.Store, data: ox.NamedNode, base: str) -> Continuity:
    """Raise BuildError listing every published IRI the new data (graph `data` of the build's store) drops
    without a record of where it went."""
    if not buildfolder.is_release(previous_release):
        return Continuity(None, 0, 0)
    try:
        release_id, _old_base, slugs = published_slugs(previous_release)
    except (OSError, ValueError, SyntaxError, buildfolder.ReleaseFolderError) as exc:
        raise BuildError(f"continuity: cannot read the published release {previous_release} to compare "
                         f"against ({type(exc).__name__}: {exc}); repair or remove build/current") from None
    hid = iris_for(base).hid
    prefixes = iris_for(base).prefixes()
    described = {q.subject for q in store.quads_for_pattern(None, _TYPE, None, data)}

    def objects(iri: ox.NamedNode, predicate: ox.NamedNode) -> list:
        return [q.object for q in store.quads_for_pattern(iri, predicate, None, data)]

    problems: list[str] = []
    moved = 0
    for slug in sorted(slugs):
        iri = ox.NamedNode(hid + slug)
        targets = [t for p in REDIRECTS for t in objects(iri, p)]
        deprecated = any(v.value.lower() == "true" for v in objects(iri, _DEPRECATED))
        if iri in described and not targets:
            moved += deprecated
            continue
        if not targets and not deprecated:
            problems.append(f"{compact(iri.value, prefixes)} was published in release {release_id} and is gone")
            continue
        moved += 1
        for target in targets:
            if target not in described:
                problems.append(f"{compact(iri.value, prefixes)} is recorded as moved to {compact(target.value, prefixes)}, "
                                "which the new data does not describe")
    if problems:
        shown = problems[:MAX_LISTED]
        more = [f"  ... and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
        raise BuildError(
            f"continuity: {len(problems)} published IRI(s) would break (a published slug never changes):\n"
            + "\n".join(f"  {p}" for p in shown + more) + "\n"
            "Keep the old IRI, or record where it went in data/: `hid:old owl:sameAs hid:new` (same thing, new "
            "slug) or `hid:old owl:deprecated true ; dcterms:isReplacedBy hid:new`.")
    return Continuity(release_id, len(slugs), moved)
