"""Release history: what each release changed against the one before it, computed once by the build.

A linking dataset needs three things a dump does not give it: which releases there were (id, date, counts,
hashes), what exactly changed between two consecutive ones, and since when an IRI says what it says. The
build computes all three when it writes a release, from the previous release (`build/current`) and the new
one, and writes them into the new release folder, so that serving them costs a file read:

* ``changes.rdfp``: an RDF Patch (https://afs.github.io/rdf-patch/) that turns the previous release's
  N-Quads into this one's: ``H id`` and ``H prev`` name the two releases (their ``{base}releases/{id}``
  IRIs), then one transaction of ``D`` rows (quads removed) and ``A`` rows (quads added);
* ``changes.json``: the same difference read as a changelog: the entities and statements added, changed,
  deprecated (or moved) and removed, with their labels, and the quads added and removed per graph;
* ``history.json``: the earlier releases (each one's manifest facts: id, date, counts, sha256 of its files),
  newest first, and for every IRI the data describes under ``id/`` the release it first appeared in and the
  release it last changed in.

Blank nodes: a release's N-Quads are canonical (`haven.pipeline.release`): a blank node's label is a hash
of its content and position, so an evidence node that did not change keeps its label from one release to
the next, and one that did change gets a new label. The patch names blank nodes by those labels (RDF Patch
treats a label as the node's identity across the patch, not as a fresh node), so applying it to release N's
N-Quads line by line gives release N+1's N-Quads exactly; a changed blank node is a ``D`` of its old rows
and an ``A`` of its new ones.

Which IRI a change belongs to: the subject, when it is an IRI under ``id/``; for a blank node, the IRI at
the root of its tree (the statement that holds the evidence node). An entity also counts as changed when a
statement that has it as ``haven:subject`` or ``haven:object`` is added, changed or removed, since its page
shows those statements. Only the data graph counts: the derived graphs follow from it, and the dataset
description changes with every release (its date).

Standard library and pyoxigraph only, so that the build, the store layer and the web layer may all read it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from haven.iris import STATEMENT_PATH, iris_for
from haven.terms import DCTERMS, OWL, RDFS, SKOS

#: the version of the two JSON files' layout
LAYOUT = 1
#: the ways a published IRI may say where it went (`haven.pipeline.continuity`)
SAME_AS = OWL + "sameAs"
REPLACED_BY = DCTERMS + "isReplacedBy"
DEPRECATED = OWL + "deprecated"
#: what names an IRI in a changelog, best first (a statement has no label: its summary says what it claims)
_LABELS = (SKOS + "prefLabel", RDFS + "label", "summary")
#: the manifest's facts a release list shows for every release
SUMMARY_KEYS = ("id", "created", "version", "triples", "graphs", "sha256")


# -- the difference of two canonical N-Quads documents ------------------------------------------------------

def difference(old: bytes, new: bytes) -> tuple[list[bytes], list[bytes]]:
    """(removed, added): the lines of `old` not in `new` and those of `new` not in `old`, both sorted.

    The build's N-Quads are canonical (sorted lines, each line once), so one merge walk finds them without
    building a set of a million lines; a document that is not sorted (a release written by other tools) is
    sorted first."""
    a, b = _sorted_unique(_lines(old)), _sorted_unique(_lines(new))
    removed: list[bytes] = []
    added: list[bytes] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
        elif a[i] < b[j]:
            removed.append(a[i])
            i += 1
        else:
            added.append(b[j])
            j += 1
    removed += a[i:]
    added += b[j:]
    return removed, added


def _sorted_unique(lines: list[bytes]) -> list[bytes]:
    if all(lines[i] < lines[i + 1] for i in range(len(lines) - 1)):
        return lines
    return sorted(set(lines))


def _lines(text: bytes) -> list[bytes]:
    lines = text.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def release_iri(base: str, release_id: str) -> str:
    """The IRI a release has in patches and in the release list: its page, ``{base}releases/{id}``."""
    return iris_for(base).release_iri(release_id)


def rdf_patch(base: str, release_id: str, previous_id: str, removed: list[bytes], added: list[bytes]) -> bytes:
    """The RDF Patch from release `previous_id` to `release_id`: deletions first, then additions, in one
    transaction. Each change row is the N-Quads line after its operation code, as the grammar has it."""
    rows = [b"H id <%s> ." % release_iri(base, release_id).encode(),
            b"H prev <%s> ." % release_iri(base, previous_id).encode(), b"TX ."]
    rows += [b"D " + line for line in removed]
    rows += [b"A " + line for line in added]
    rows.append(b"TC .")
    return b"\n".join(rows) + b"\n"


# -- what the data graph says about each IRI under id/ ------------------------------------------------------

@dataclass
class Described:
    """The IRIs under ``id/`` a release's data graph describes (by their path below ``id/``), with their labels,
    what each says about where it went, and for each the lines of the data graph it owns."""
    slugs: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    moved: dict[str, dict] = field(default_factory=dict)
    #: statement → the slugs it names as haven:subject or haven:object
    about: dict[str, set[str]] = field(default_factory=dict)
    #: a blank node's label (N-Triples text) → the slug at the root of its tree
    owner_of_blank: dict[str, str] = field(default_factory=dict)


def describe(nquads: bytes, base: str) -> Described:
    """Read the data graph of a release's N-Quads into a :class:`Described`.

    Line by line on the text (a subject and a predicate hold no space in N-Quads; the object is the rest):
    a Python loop over a million parsed quads took 14 s, this one a few; only the few literals it keeps
    (labels) are parsed as terms."""
    ns = iris_for(base)
    space, haven = str(ns.hid), str(ns.haven)
    hid = f"<{space}".encode()
    suffix = f" <{ns.graphs['data']}> .".encode()
    found = Described()
    rank = {f"<{name if name != 'summary' else haven + name}>".encode(): i for i, name in enumerate(_LABELS)}
    ranked: dict[str, int] = {}
    moves = {f"<{SAME_AS}>".encode(): "sameAs", f"<{REPLACED_BY}>".encode(): "replacedBy"}
    deprecated = f"<{DEPRECATED}>".encode()
    links = {f"<{haven}subject>".encode(), f"<{haven}object>".encode()}
    parent: dict[str, str] = {}  # blank node → its subject (a slug, or another blank node's label)
    for line in _lines(nquads):
        if not line.endswith(suffix):
            continue
        s, p, o = line[:-len(suffix)].split(b" ", 2)
        if s.startswith(hid):
            slug = s[len(hid):-1].decode()
            found.slugs.add(slug)
            if p in rank and o.startswith(b'"') and rank[p] < ranked.get(slug, len(rank)):
                (quad,) = ox.parse(line + b"\n", format=ox.RdfFormat.N_QUADS)
                found.labels[slug], ranked[slug] = quad.object.value, rank[p]
            elif p in moves and o.startswith(hid):
                found.moved.setdefault(slug, {})[moves[p]] = o[len(hid):-1].decode()
            elif p == deprecated and o.split(b'"')[1:2] in ([b"true"], [b"1"]):
                found.moved.setdefault(slug, {})["deprecated"] = True
            elif p in links and o.startswith(hid):
                found.about.setdefault(slug, set()).add(o[len(hid):-1].decode())
            if o.startswith(b"_:"):
                parent[o.decode()] = slug
        elif s.startswith(b"_:") and o.startswith(b"_:"):
            parent[o.decode()] = s.decode()
    for node in parent:
        root, seen = node, set()
        while root in parent and root not in seen:  # a cycle of blank nodes has no owner
            seen.add(root)
            root = parent[root]
        if not root.startswith("_:"):
            found.owner_of_blank[node] = root
    return found


def _owner(line: bytes, space: bytes, described: Described) -> str | None:
    """The slug a data-graph line belongs to: its subject under id/, or the root of its blank node's tree."""
    subject = line.split(b" ", 1)[0]
    if subject.startswith(b"<" + space):
        return subject[len(space) + 1:-1].decode()
    if subject.startswith(b"_:"):
        return described.owner_of_blank.get(subject.decode())
    return None


# -- the changelog and the history --------------------------------------------------------------------------

def is_statement(slug: str) -> bool:
    return slug.startswith(STATEMENT_PATH[len("id/"):])


def changelog(base: str, release_id: str, previous_id: str, removed: list[bytes], added: list[bytes],
              old: Described, new: Described) -> dict:
    """What changed from `previous_id` to `release_id`, by IRI: added, changed, deprecated, removed."""
    ns = iris_for(base)
    space = str(ns.hid).encode()
    data_suffix = f" <{ns.graphs['data']}> .".encode()
    touched: set[str] = set()
    for lines, described in ((removed, old), (added, new)):
        for line in lines:
            if line.endswith(data_suffix):
                owner = _owner(line, space, described)
                if owner is not None:
                    touched.add(owner)
    added_slugs = new.slugs - old.slugs
    removed_slugs = old.slugs - new.slugs
    deprecated = {slug for slug in new.slugs & old.slugs
                  if new.moved.get(slug) and new.moved.get(slug) != old.moved.get(slug)}
    # a statement added, changed or removed changes the entities it is about
    for statement in touched | added_slugs | removed_slugs:
        if is_statement(statement):
            touched |= new.about.get(statement, set()) | old.about.get(statement, set())
    changed = (touched & new.slugs & old.slugs) - deprecated

    def listed(slugs: set[str], statements: bool) -> list[dict]:
        return [{"slug": slug, "label": new.labels.get(slug) or old.labels.get(slug),
                 **({"moved": new.moved[slug]} if slug in new.moved else {})}
                for slug in sorted(slugs) if is_statement(slug) == statements]

    graphs = {}
    for name, iri in ns.graphs.items():
        suffix = f" <{iri}> .".encode()
        graphs[name] = {"added": sum(line.endswith(suffix) for line in added),
                        "removed": sum(line.endswith(suffix) for line in removed)}
    return {
        "layout": LAYOUT, "release": release_id, "previous": previous_id,
        "quads": {"added": len(added), "removed": len(removed)}, "graphs": graphs,
        **{kind: {"added": listed(added_slugs, statements), "changed": listed(changed, statements),
                  "deprecated": listed(deprecated, statements), "removed": listed(removed_slugs, statements)}
           for kind, statements in (("entities", False), ("statements", True))},
    }


def summary(manifest: dict) -> dict:
    """The facts of a release the release list shows, read from its manifest."""
    return {key: manifest[key] for key in SUMMARY_KEYS if key in manifest}


def history(release_id: str, previous: dict | None, previous_history: dict | None, new: Described,
            changes: dict | None) -> dict:
    """The history a release carries: the earlier releases, and each IRI's first and last release.

    `previous` is the previous release's manifest (None on a first build); `previous_history` its own
    history.json (None when it was built before releases carried one: its IRIs are then taken to have first
    appeared in it, the earliest release known)."""
    earlier: list[dict] = []
    since: dict[str, list[str]] = {}
    if previous is not None:
        earlier = [{**summary(previous), "previous": (previous_history or {}).get("previous")},
                   *(previous_history or {}).get("earlier", [])]
        since = {slug: list(pair) for slug, pair in (previous_history or {}).get("entities", {}).items()}
    changed: set[str] = set()
    added: set[str] = set()
    for kind in ("entities", "statements") if changes is not None else ():
        added |= {item["slug"] for item in changes[kind]["added"]}
        for what in ("added", "changed", "deprecated"):
            changed |= {item["slug"] for item in changes[kind][what]}
    entities = {}
    for slug in sorted(new.slugs):
        if slug in since:
            first, last = since[slug]
        elif previous is not None and slug not in added:  # the previous release predates histories
            first = last = previous["id"]
        else:
            first = last = release_id
        entities[slug] = [first, release_id if slug in changed else last]
    return {"layout": LAYOUT, "release": release_id, "previous": previous["id"] if previous else None,
            "earlier": earlier, "entities": entities}


def to_bytes(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


def from_bytes(body: bytes | None) -> dict | None:
    """A history or changelog file as written by :func:`to_bytes`; None when absent or unreadable."""
    if body is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) and document.get("layout") == LAYOUT else None


def releases(manifest: dict, history_document: dict | None) -> list[dict]:
    """Every release known to the served one, newest first: itself, then those its history lists."""
    head = {**summary(manifest), "previous": (history_document or {}).get("previous")}
    return [head, *(history_document or {}).get("earlier", [])]


def first_and_last(history_document: dict | None, slug: str) -> tuple[str, str] | None:
    pair = (history_document or {}).get("entities", {}).get(slug)
    return (pair[0], pair[1]) if isinstance(pair, list) and len(pair) == 2 else None

