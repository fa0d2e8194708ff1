"""Stage 1: find, read and parse every Turtle source, rebase it, and check what a parser cannot.

Each file is checked twice on purpose: pyoxigraph's strict Turtle parser first, because it reports every
syntax error with a line and column (rdflib's parser reports some of them as a bare ``AssertionError``),
then rdflib, whose graphs the later stages use. Problems are collected over all files so that one run
lists every broken file, then raised together.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from haven.config import DEFAULT_BASE
from haven.namespaces import compact, namespaces, rebase_graph
from haven.pipeline import BuildError

#: the source folders of a checkout, in build order
PARTS = ("ontology", "data", "shapes")
#: a hand-written Turtle file beyond this is a mistake (a generated dump dropped in the wrong folder)
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: longest list of problems printed; the rest are counted
MAX_PROBLEMS_SHOWN = 60

# Any IRI that looks like ours: catches http:// instead of https://, a wrong case, or a stale base.
_HAVEN_LIKE = re.compile(r"w3id\.org/haven", re.IGNORECASE)
_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_PREFIX = re.compile(r"^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
_OX_POSITION = re.compile(r"^Parser error at line (\d+) between columns (\d+) and \d+: (.*?)(?: \(line \d+\))?$", re.S)


@dataclass
class SourceFile:
    part: str
    rel: str
    text: str
    graph: Graph


@dataclass
class Sources:
    root: Path
    base: str
    files: list[SourceFile]
    warnings: list[str] = field(default_factory=list)

    def part(self, name: str) -> list[SourceFile]:
        return [f for f in self.files if f.part == name]

    def merged(self, name: str) -> Graph:
        graph = namespaces(self.base).bind(Graph())
        for source in self.part(name):
            graph += source.graph
        return graph

    @cached_property
    def ontology(self) -> Graph:
        return self.merged("ontology")

    @cached_property
    def data(self) -> Graph:
        return self.merged("data")

    @cached_property
    def shapes(self) -> Graph:
        return self.merged("shapes")


def find_files(root: Path) -> dict[str, list[Path]]:
    """Every `*.ttl` of each part, sorted so that builds do not depend on directory order."""
    found: dict[str, list[Path]] = {}
    for part in PARTS:
        folder = root / part
        if not folder.is_dir():
            raise BuildError(f"{folder}: source folder missing (expected ontology/, data/ and shapes/ under {root})")
        files = sorted(p for p in folder.rglob("*.ttl")
                       if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts))
        if not files:
            raise BuildError(f"{part}/: no Turtle (*.ttl) files")
        found[part] = files
    return found


def read_text(path: Path, rel: str, max_bytes: int) -> str:
    size = path.stat().st_size
    if size > max_bytes:
        raise BuildError(f"{rel}: {size:,} bytes is over the {max_bytes:,}-byte limit for a source file")
    raw = path.read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise BuildError(f"{rel}:{line}: binary file (NUL byte); sources must be UTF-8 Turtle text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BuildError(f"{rel}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); sources must be UTF-8 Turtle text")


def parse_turtle(text: str, rel: str, public_id: str) -> Graph:
    try:
        quads = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=public_id))
    except SyntaxError as exc:
        match = _OX_POSITION.match(str(exc))
        if match:
            line, column, why = match.groups()
            raise BuildError(f"{rel}:{line}:{column}: Turtle syntax error: {why}") from None
        raise BuildError(f"{rel}:{exc.lineno or '?'}: Turtle syntax error: {exc}") from None
    try:
        with _quiet_literal_conversion():
            graph = _as_rdflib(quads, text)
        _check_literals(graph, text, rel)
        return graph
    except BuildError:
        raise
    except Exception as exc:  # rdflib refusing a term oxigraph accepted: still name the file
        raise BuildError(f"{rel}:?: Turtle error: {str(exc).splitlines()[0]}") from None


def _as_rdflib(quads: list, text: str) -> Graph:
    """The rdflib graph of what oxigraph parsed: 3x faster than rdflib's own Turtle parser (which was most of
    the build's time at a million triples), with the same terms. Blank-node labels are scoped to the file,
    as Turtle scopes them, by minting a fresh rdflib BNode per label; prefixes are kept for serialising."""
    graph = Graph()
    for prefix, namespace in _PREFIX.findall(text):
        graph.bind(prefix, namespace, override=True)
    terms: dict = {}

    def term(node):
        found = terms.get(node)
        if found is None:
            if isinstance(node, ox.NamedNode):
                found = URIRef(node.value)
            elif isinstance(node, ox.BlankNode):
                found = BNode()
            elif node.language:
                found = Literal(node.value, lang=node.language)
            elif node.datatype == _XSD_STRING:  # rdflib's plain literal, as its own parser gives it
                found = Literal(node.value)
            else:
                found = Literal(node.value, datatype=URIRef(node.datatype.value))
            terms[node] = found
        return found

    graph.addN((term(q.subject), term(q.predicate), term(q.object), graph) for q in quads)
    return graph


class _quiet_literal_conversion:
    """rdflib logs a full traceback for every literal it cannot convert ("1996-13-45"^^xsd:date); the
    build reports those itself, as one line each, so the log record is dropped while parsing."""

    def __enter__(self):
        self._logger = logging.getLogger("rdflib.term")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)


def _check_literals(graph: Graph, text: str, rel: str) -> None:
    """A literal whose text is not a value of its datatype (a 13th month, words as an integer) is an error
    here, with its line, rather than a SHACL finding far from the typo, or none when no shape looks."""
    bad = sorted({o for o in graph.objects() if isinstance(o, Literal) and o.ill_typed}, key=str)
    if not bad:
        return
    lines = []
    for literal in bad:
        at = text.find(f'"{literal}"')
        line = text.count("\n", 0, at) + 1 if at >= 0 else "?"
        lines.append(f"{rel}:{line}: \"{literal}\" is not a valid {compact(literal.datatype, namespaces().prefixes())}")
    raise BuildError("\n  ".join(lines))  # one problem per line, indented like the others


def load_sources(root: Path, base: str = DEFAULT_BASE, max_bytes: int = MAX_SOURCE_BYTES) -> Sources:
    root = Path(root).resolve()
    problems: list[str] = []
    files: list[SourceFile] = []
    for part, paths in find_files(root).items():
        for path in paths:
            rel = path.relative_to(root).as_posix()
            try:
                text = read_text(path, rel, max_bytes)
                graph = parse_turtle(text, rel, path.as_uri())
            except BuildError as exc:
                problems.append(str(exc))
                continue
            files.append(SourceFile(part, rel, text, rebase_graph(graph, base)))
    _raise_if(problems)
    sources = Sources(root, base, files)
    check_sources(sources)
    return sources


def check_sources(sources: Sources) -> None:
    ns = namespaces(sources.base)
    prefixes = ns.prefixes()
    # the ontology and shapes may point at any published IRI (the landing page, the SPARQL endpoint);
    # data may only use ontology terms and entities
    data_allowed = (f"{ns.base}ontology", str(ns.hid))
    problems: list[str] = []
    for source in sources.files:
        for iri in sorted({t for triple in source.graph for t in triple if isinstance(t, URIRef)}):
            if iri.startswith("file:"):
                problems.append(f"{source.rel}: relative IRI <{iri[iri.rfind('/') + 1:]}> (write full IRIs or prefixed names)")
            elif _HAVEN_LIKE.search(iri) and not iri.startswith(ns.base):
                problems.append(f"{source.rel}: <{iri}> looks like a Haven IRI but is not under {ns.base}")
            elif source.part == "data" and iri.startswith(ns.base) and not _under(iri, data_allowed):
                problems.append(f"{source.rel}: <{iri}> is neither an ontology term nor under {ns.hid}")
    declared = set(sources.ontology.subjects())
    defined_in: dict[URIRef, set[str]] = defaultdict(set)
    for source in sources.part("data"):
        for subject in sorted(set(source.graph.subjects())):
            if isinstance(subject, URIRef) and not subject.startswith(ns.hid):
                problems.append(f"{source.rel}: subject {compact(subject, prefixes)} is not under {ns.hid}")
        for term in sorted({t for triple in source.graph for t in triple if isinstance(t, URIRef)}):
            if term.startswith(ns.haven) and term not in declared:
                problems.append(f"{source.rel}: {compact(term, prefixes)} is not declared in the ontology")
        for subject in set(source.graph.subjects(SKOS.prefLabel)) | set(source.graph.subjects(RDF.type)):
            if not isinstance(subject, BNode):
                defined_in[subject].add(source.rel)
    for subject, rels in sorted(defined_in.items()):
        if len(rels) > 1:
            problems.append(f"{compact(subject, prefixes)} is defined (typed or labelled) in {len(rels)} files: "
                            f"{', '.join(sorted(rels))}; one entity, one file")
    _raise_if(problems)
    sources.warnings.extend(_shared_labels(sources.data, prefixes))


def _shared_labels(data: Graph, prefixes: dict[str, str]) -> list[str]:
    """Two IRIs with one preferred label may be a duplicate under two slugs, or two battles of one name."""
    by_label: dict[str, set[URIRef]] = defaultdict(set)
    for subject, label in data.subject_objects(SKOS.prefLabel):
        by_label[str(label).casefold()].add(subject)
    return [f"preferred label {label!r} is shared by {', '.join(sorted(compact(s, prefixes) for s in subjects))}"
            for label, subjects in sorted(by_label.items()) if len(subjects) > 1]


def _under(iri: str, allowed: tuple[str, ...]) -> bool:
    iri = str(iri)  # a URIRef never equals a plain str
    for prefix in allowed:
        if iri == prefix or (iri.startswith(prefix) and (prefix.endswith("/") or iri[len(prefix)] in "#/")):
            return True
    return False


def _raise_if(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    lines = [f"  {p}" for p in shown] + ([f"  ... and {more} more"] if more else [])
    raise BuildError(f"{len(problems)} problem(s) in the sources:\n" + "\n".join(lines))
