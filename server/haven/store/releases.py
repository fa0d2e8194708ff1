"""How a published release is laid out in a remote SPARQL store: the single place that knows it.

A remote store may hold several releases side by side; readers must see exactly one, and a publish must
switch from the old one to the new one in a single step. So:

* release ``R`` lives in fresh named graphs ``{base}graph/release/{R}/ontology|data|derived|hedged|metadata``
  (loaded while the old release is still served; nothing a reader sees changes during the load), with every
  canonical graph IRI *inside* the triples renamed the same way (VoID's ``sd:name <{base}graph/data>``
  becomes ``sd:name <.../release/R/data>``): the store is then the build under one renaming, so a reader
  that maps the query's IRIs forward and the answer's back gets the embedded store's answer, whether a
  graph name stands in GRAPH, VALUES, FILTER or a triple pattern (`rename_terms`, layout version 2);
* the release's SHACL shapes live in ``{base}graph/release/{R}/shapes``, and each prior version of the
  ontology the release keeps in ``{base}graph/release/{R}/ontology/{version}``: not part of the dataset
  clients query (the embedded store does not hold them either), but a server answers /shapes and a prior
  version IRI without the build folder;
* the release's history files (`haven.history`: history.json, changes.json, changes.rdfp) and its
  manifest.json live as text in ``{base}graph/release/{R}/history``, one ``rdf:value`` literal per file, so a
  server without the build folder serves the release list, changelog, patch and entity histories;
* the control graph ``{base}graph/control`` holds the pointer
  ``<{base}dataset> dcterms:hasVersion "R"`` (exactly one) and, for every *fully loaded* release, a record:
  ``<{base}graph/release/{R}> prov:generatedAtTime ..., void:triples ..., void:subset <.../data> ...`` with
  the manifest's facts (id, created, version, per-graph counts), so a server needs no file from the build;
* the switch is ONE SPARQL Update operation (DELETE/INSERT ... WHERE) that replaces the pointer, which
  Oxigraph and Virtuoso apply atomically: a reader sees the old release or the new one, never half.

Clients never see these names: the remote store maps the release graphs back to the canonical
``{base}graph/data`` etc. (`canonical_graphs`), exactly as the embedded store names them.

Every function is pure (it returns SPARQL text or reads rows through a caller's ``query_fn``), so the
publisher and the server share the layout without sharing an HTTP client.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from haven.buildfolder import VERSION_PATTERN
from haven.iris import DEFAULT_GRAPHS, GRAPHS, iris_for
from haven.terms import DCTERMS, OWL, PROV, RDF, VOID, XSD

#: the graphs of a build, in the order the build writes them
PARTS = GRAPHS
#: the release's shapes graph: stored beside them, never part of what clients query
SHAPES = "shapes"
#: version of this layout, recorded with every release. 2: graph IRIs inside the data are renamed too; a
#: release recorded without it (layout 1) holds canonical names in its data and must be published again
LAYOUT = 2

POINTER = f"{DCTERMS}hasVersion"

# Release ids become IRI path segments and SPARQL string literals: keep them to characters that need no
# escaping in either (the build's ids are hex content hashes; test fixtures use words and dashes).
_RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

#: rows of a SELECT, each a mapping from variable name to a plain string, an rdflib term or a pyoxigraph term
QueryFn = Callable[[str], Iterable[Mapping[str, object]]]


def _text(term) -> str:
    """The IRI or lexical form: rdflib terms and plain strings are str; pyoxigraph terms carry `.value`."""
    return str(term) if isinstance(term, str) else str(getattr(term, "value", term))


class ReleaseLayoutError(Exception):
    """The store's control graph is not as this module writes it (e.g. two current pointers)."""


def check_release_id(release_id: str) -> str:
    if not isinstance(release_id, str) or not _RELEASE_ID.fullmatch(release_id):
        raise ValueError(f"not a usable release id: {release_id!r} (letters, digits, '.', '_', '-')")
    return release_id


# -- names ------------------------------------------------------------------------------------------------

def control_graph(base: str) -> str:
    return str(iris_for(base).hg["control"])


def dataset_node(base: str) -> str:
    return str(iris_for(base).dataset_iri)


def _releases_namespace(base: str) -> str:
    """Where the releases' own graph names live: ``{base}graph/release/``."""
    return str(iris_for(base).hg["release/"])


def release_node(base: str, release_id: str) -> str:
    return _releases_namespace(base) + check_release_id(release_id)


def canonical_graphs(base: str) -> dict[str, str]:
    """part → the graph name clients see (`{base}graph/data`...), as in the build's N-Quads."""
    graphs = iris_for(base).graphs
    return {part: str(graphs[part]) for part in PARTS}


def release_graphs(base: str, release_id: str) -> dict[str, str]:
    """part → the named graph that holds that part of release `release_id` in the store."""
    node = release_node(base, release_id)
    return {part: f"{node}/{part}" for part in PARTS}


def shapes_graph(base: str, release_id: str) -> str:
    return f"{release_node(base, release_id)}/{SHAPES}"


def prior_ontology_graph(base: str, release_id: str, version: str) -> str:
    """Where a prior version of the ontology that the release keeps is stored."""
    if not re.fullmatch(VERSION_PATTERN, version):
        raise ReleaseLayoutError(f"not a version: {version!r}")
    return f"{release_node(base, release_id)}/ontology/{version}"


def history_graph(base: str, release_id: str) -> str:
    """Where the release's history files are stored, as text (`history_files_update`)."""
    return f"{release_node(base, release_id)}/history"


def _history_file_node(base: str, release_id: str, name: str) -> str:
    if not re.fullmatch(r"[a-z]+\.[a-z]+", name):
        raise ReleaseLayoutError(f"not a history file name: {name!r}")
    return f"{history_graph(base, release_id)}/{name}"


def history_files_update(base: str, release_id: str, files: Mapping[str, str]) -> str:
    """INSERT DATA of the release's history files, each the text of one literal."""
    body = "\n    ".join(f"<{_history_file_node(base, release_id, name)}> <{RDF}value> {_literal(text)} ."
                          for name, text in sorted(files.items()))
    return f"INSERT DATA {{ GRAPH <{history_graph(base, release_id)}> {{\n    {body}\n}} }}"


def history_file_query(base: str, release_id: str, name: str) -> str:
    return (f"SELECT ?text WHERE {{ GRAPH <{history_graph(base, release_id)}> "
            f"{{ <{_history_file_node(base, release_id, name)}> <{RDF}value> ?text }} }}")


def layout_node(base: str) -> str:
    return str(iris_for(base).hg[f"layout/{LAYOUT}"])


def graph_mapping(base: str, release_id: str) -> dict[str, str]:
    """canonical graph IRI → release graph IRI (the remote store maps client names with it, and back)."""
    canonical, stored = canonical_graphs(base), release_graphs(base, release_id)
    return {canonical[part]: stored[part] for part in PARTS}


def rename_terms(line: bytes, names: Mapping[bytes, bytes]) -> bytes:
    """An N-Triples line (``S P O .``) with each IRI term found in `names` (``<iri>`` → ``<iri>``) replaced.

    Only whole terms in subject, predicate or object position change: the text of a literal, or a datatype
    IRI, never does. The build writes one space between terms; an IRI and a blank node label hold none."""
    if not any(name in line for name in names):
        return line
    subject, _, rest = line.partition(b" ")
    predicate, _, rest = rest.partition(b" ")
    body = rest.rstrip()
    end = body[-1:] == b"."
    obj = body[:-1].rstrip() if end else body
    obj = names.get(obj, obj) if obj.startswith(b"<") else obj
    tail = b" .\n" if end else b"\n"
    return b" ".join((names.get(subject, subject), names.get(predicate, predicate), obj)) + tail


def data_renaming(base: str, release_id: str) -> dict[bytes, bytes]:
    """`rename_terms`' table for release `release_id`: canonical graph IRI term → the release's."""
    return {f"<{canonical}>".encode(): f"<{stored}>".encode()
            for canonical, stored in graph_mapping(base, release_id).items()}


def is_internal_graph(base: str, iri: str) -> bool:
    """Graphs of the layout itself (control graph, any release's graphs): never shown to clients."""
    return iri == control_graph(base) or iri.startswith(_releases_namespace(base))


# -- reading ----------------------------------------------------------------------------------------------

def current_release_query(base: str) -> str:
    return (
        f"SELECT ?release WHERE {{ GRAPH <{control_graph(base)}> "
        f"{{ <{dataset_node(base)}> <{POINTER}> ?release }} }}"
    )


def current_release(query_fn: QueryFn, base: str) -> str | None:
    """The id the pointer names, or None when nothing was ever published; two pointers are an error."""
    found = {_text(row["release"]) for row in query_fn(current_release_query(base)) if row.get("release") is not None}
    if len(found) > 1:
        raise ReleaseLayoutError(f"the control graph points at {len(found)} releases: {sorted(found)}")
    return check_release_id(found.pop()) if found else None


def release_record_query(base: str, release_id: str) -> str:
    node = release_node(base, release_id)
    return (
        "SELECT ?p ?o ?part ?count WHERE { GRAPH <%s> { { <%s> ?p ?o } UNION "
        "{ <%s> <%ssubset> ?part . ?part <%striples> ?count } } }"
        % (control_graph(base), node, node, VOID, VOID)
    )


def read_release_record(query_fn: QueryFn, base: str, release_id: str) -> dict | None:
    """The manifest facts recorded for a fully loaded release (same keys as manifest.json), or None."""
    facts: dict[str, str] = {}
    parts: dict[str, int] = {}
    canonical = canonical_graphs(base)
    stored = {iri: part for part, iri in release_graphs(base, release_id).items()}
    subsets: dict[str, int] = {}
    for row in query_fn(release_record_query(base, release_id)):
        if row.get("part") is not None:
            part = stored.get(_text(row["part"]))
            subsets[_text(row["part"])] = int(_text(row["count"]))
            if part is not None:
                parts[canonical[part]] = int(_text(row["count"]))
        elif row.get("p") is not None:
            facts[_text(row["p"])] = _text(row["o"])
    if f"{PROV}generatedAtTime" not in facts:
        return None
    shapes = None
    if shapes_graph(base, release_id) in subsets:
        shapes = subsets[shapes_graph(base, release_id)]
    prior_prefix = f"{release_node(base, release_id)}/ontology/"
    prior = {iri[len(prior_prefix):]: n for iri, n in subsets.items()
             if iri.startswith(prior_prefix) and re.fullmatch(VERSION_PATTERN, iri[len(prior_prefix):])}
    return {
        "id": release_id,
        "base": base,
        "created": facts.get(f"{DCTERMS}created"),
        "version": facts.get(f"{OWL}versionInfo"),
        "triples": int(facts.get(f"{VOID}triples", sum(parts.values()))),
        "graphs": dict(sorted(parts.items())),
        "published": facts[f"{PROV}generatedAtTime"],
        "layout": LAYOUT if facts.get(f"{DCTERMS}conformsTo") == layout_node(base) else 1,
        #: triples of the release's shapes graph; None when the release was published without shapes
        "shapes": shapes,
        #: prior version of the ontology → triples of its graph (none for a release published without them)
        "prior_ontologies": dict(sorted(prior.items())),
    }


def loaded_releases_query(base: str) -> str:
    return (
        f"SELECT ?release ?when WHERE {{ GRAPH <{control_graph(base)}> "
        f"{{ ?release <{PROV}generatedAtTime> ?when }} }}"
    )


def loaded_releases(query_fn: QueryFn, base: str) -> dict[str, str]:
    """release id → when it was published, for every release with a record (complete loads only)."""
    prefix = _releases_namespace(base)
    out = {}
    for row in query_fn(loaded_releases_query(base)):
        iri = _text(row["release"])
        if iri.startswith(prefix) and _RELEASE_ID.fullmatch(iri[len(prefix):]):
            out[iri[len(prefix):]] = _text(row["when"])
    return out


# -- writing (SPARQL Update text; only the publisher sends these) -----------------------------------------

def _literal(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def record_release_update(base: str, manifest: Mapping, published: datetime | None = None,
                          shapes: int | None = None, prior_ontologies: Mapping[str, int] | None = None) -> str:
    """INSERT DATA of the record that marks release manifest["id"] as fully loaded (send it after the load).

    `manifest` is the build's manifest.json; its "graphs" are keyed by canonical graph IRI. `shapes` is
    the number of triples loaded into the shapes graph (None: the release has no shapes);
    `prior_ontologies` those of each prior version of the ontology loaded beside the release."""
    release_id = check_release_id(str(manifest["id"]))
    node = release_node(base, release_id)
    when = (published or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    stored = release_graphs(base, release_id)
    counts = {part: int(manifest.get("graphs", {}).get(iri, 0)) for part, iri in canonical_graphs(base).items()}
    lines = [
        f"<{node}> <{PROV}generatedAtTime> {_literal(when)}^^<{XSD}dateTime> .",
        f"<{node}> <{DCTERMS}identifier> {_literal(release_id)} .",
        f"<{node}> <{VOID}triples> {int(manifest.get('triples', sum(counts.values())))} .",
        f"<{node}> <{DCTERMS}conformsTo> <{layout_node(base)}> .",
    ]
    if shapes is not None:
        lines.append(f"<{node}> <{VOID}subset> <{shapes_graph(base, release_id)}> .")
        lines.append(f"<{shapes_graph(base, release_id)}> <{VOID}triples> {int(shapes)} .")
    for version, count in sorted((prior_ontologies or {}).items()):
        lines.append(f"<{node}> <{VOID}subset> <{prior_ontology_graph(base, release_id, version)}> .")
        lines.append(f"<{prior_ontology_graph(base, release_id, version)}> <{VOID}triples> {int(count)} .")
    if manifest.get("created"):
        lines.append(f"<{node}> <{DCTERMS}created> {_literal(str(manifest['created']))} .")
    if manifest.get("version"):
        lines.append(f"<{node}> <{OWL}versionInfo> {_literal(str(manifest['version']))} .")
    for part in PARTS:
        lines.append(f"<{node}> <{VOID}subset> <{stored[part]}> .")
        lines.append(f"<{stored[part]}> <{VOID}triples> {counts[part]} .")
    body = "\n    ".join(lines)
    return f"INSERT DATA {{ GRAPH <{control_graph(base)}> {{\n    {body}\n}} }}"


def switch_update(base: str, old: str | None, new: str) -> str:
    """ONE update request moving the pointer to `new`.

    With `old` given it is a compare-and-swap: it changes nothing unless the pointer still names `old`
    (two publishers racing cannot both win; the caller re-reads `current_release` to know). With `old`
    None (first publish) it replaces whatever pointer exists: a `DELETE WHERE` then an `INSERT DATA`, two
    operations in one request, which Oxigraph and Virtuoso apply as one transaction. (The single
    `DELETE/INSERT ... WHERE { OPTIONAL {...} }` form inserts nothing on Virtuoso 7.2 when the OPTIONAL
    matches nothing, so a fresh store would never get its first pointer.)"""
    check_release_id(new)
    graph, subject = control_graph(base), dataset_node(base)
    pointer = f"<{subject}> <{POINTER}> ?previous"
    if old is None:
        return (f"DELETE WHERE {{ GRAPH <{graph}> {{ {pointer} }} }} ;\n"
                f"INSERT DATA {{ GRAPH <{graph}> {{ <{subject}> <{POINTER}> {_literal(new)} }} }}")
    where = f"GRAPH <{graph}> {{ <{subject}> <{POINTER}> {_literal(check_release_id(old))} . {pointer} }}"
    return (
        f"DELETE {{ GRAPH <{graph}> {{ {pointer} }} }}\n"
        f"INSERT {{ GRAPH <{graph}> {{ <{subject}> <{POINTER}> {_literal(new)} }} }}\n"
        f"WHERE {{ {where} }}"
    )


def drop_release_updates(base: str, release_id: str, prior_versions: Iterable[str] = ()) -> list[str]:
    """Updates removing release `release_id` (its record first, so it never looks complete while half gone),
    with the graphs of the prior versions of the ontology named.

    The caller must not drop the release the pointer names."""
    node = release_node(base, release_id)
    graph = control_graph(base)
    graphs = [*release_graphs(base, release_id).values(), shapes_graph(base, release_id), history_graph(base, release_id),
              *(prior_ontology_graph(base, release_id, v) for v in sorted(set(prior_versions)))]
    # one DELETE WHERE per subject: DELETE WHERE allows no FILTER, and each is a plain pattern on every store
    forget = [f"DELETE WHERE {{ GRAPH <{graph}> {{ <{iri}> ?p ?o }} }}" for iri in [node, *graphs]]
    drops = [f"DROP SILENT GRAPH <{iri}>" for iri in graphs]
    return forget + drops
