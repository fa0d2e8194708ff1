"""Stage 1: find, read and parse every Turtle source, rebase it, check what a parser cannot, and load it
into the build's store (:mod:`haven.pipeline.graphs`).

pyoxigraph parses each file: its strict Turtle parser reports every syntax error with a line and column, and
it parses a million triples in seconds. Each file's triples are checked as they come (IRIs outside the base,
undeclared terms, ill-typed literals) and then added to the part's graph; no rdflib graph of the data is made
here. Problems are collected over all files so that one run lists every broken file, then raised together.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from haven import buildfolder
from haven.config import DEFAULT_BASE
from haven.iris import compact, iris_for, is_web_url, rebase_ox
from haven.pipeline import BuildError, graphs
from haven.pipeline.graphs import PARTS
from haven.terms import PLAIN_STRING_TYPES, RDF_TYPE


#: a hand-written Turtle file beyond this is a mistake (a generated dump dropped in the wrong folder)
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: most triples one source file may hold, per byte of its size limit: hand-written Turtle takes about 50 bytes a
#: triple, but RDF lists and nested [ ] take 2 (`(1 1 1 …)`), and every later stage costs per triple, not per byte
TRIPLES_PER_BYTE_LIMIT = 1 / 8
#: longest list of problems printed; the rest are counted
MAX_PROBLEMS_SHOWN = 60

# Any IRI that looks like ours: catches http:// instead of https://, a wrong case, or a stale base.
_HAVEN_LIKE = re.compile(r"w3id\.org/haven", re.IGNORECASE)
_OX_POSITION = re.compile(r"^Parser error at line (\d+) between columns (\d+) and \d+: (.*?)(?: \(line \d+\))?$", re.S)
# literals whose lexical form is not checked against a datatype: any text is a valid string
_RDF_TYPE = ox.NamedNode(RDF_TYPE)
_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")


@dataclass
class SourceFile:
    part: str
    rel: str
    #: the file as read, kept for the ontology and shapes (the release copies a lone hand-written file with
    #: its comments); None for data, whose text would be most of a large build's memory once parsed
    text: str | None


@dataclass
class Sources:
    root: Path
    base: str
    files: list[SourceFile]
    #: the build's store: one named graph per part (:func:`haven.pipeline.graphs.graph_name`)
    store: ox.Store
    #: each part as N-Triples, as parsed: the store rewrites integer subtypes ("7"^^xsd:nonNegativeInteger
    #: comes back "7"^^xsd:integer, oxigraph#1413), so what is published and handed to HermiT is this text
    texts: dict[str, list[bytes]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def part(self, name: str) -> list[SourceFile]:
        return [f for f in self.files if f.part == name]

    def graph_name(self, part: str) -> ox.NamedNode:
        return graphs.graph_name(self.base, part)

    def size(self, part: str) -> int:
        return graphs.size(self.store, self.graph_name(part))

    def ntriples(self, part: str) -> bytes:
        return b"".join(self.texts.get(part, ()))

    def merged(self, name: str) -> Graph:
        """An rdflib copy of one part as the sources write it (Haven's prefixes bound, for serialising it)."""
        return graphs.view_of_text(self.ntriples(name), self.base)

    # rdflib views, made only when a stage asks (pySHACL and HermiT on small builds; tests)
    @cached_property
    def ontology(self) -> Graph:
        return self.merged("ontology")

    @cached_property
    def data(self) -> Graph:
        return self.merged("data")

    @cached_property
    def shapes(self) -> Graph:
        return self.merged("shapes")


#: where released versions of the ontology are kept, each as <version>/haven.ttl: not part of the sources
#: (the build publishes them beside the release so that their version IRIs resolve)
PRIOR_VERSIONS = ("ontology", "versions")


def prior_ontologies(root: Path) -> dict[str, bytes]:
    """version → the text of that released version of the ontology, as kept under ontology/versions/."""
    folder = root.joinpath(*PRIOR_VERSIONS)
    return {path.parent.name: path.read_bytes() for path in sorted(folder.glob("*/haven.ttl"))
            if re.fullmatch(buildfolder.VERSION_PATTERN, path.parent.name)}


def find_files(root: Path) -> dict[str, list[Path]]:
    """Every `*.ttl` of each part (prior ontology versions aside), sorted so that builds do not depend on
    directory order."""
    found: dict[str, list[Path]] = {}
    for part in PARTS:
        folder = root / part
        if not folder.is_dir():
            raise BuildError(f"{folder}: source folder missing (expected ontology/, data/ and shapes/ under {root})")
        files = sorted(p for p in folder.rglob("*.ttl")
                       if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)
                       and p.relative_to(root).parts[:2] != PRIOR_VERSIONS)
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


def parse_turtle(text: str, rel: str, public_id: str, base: str = DEFAULT_BASE,
                 max_triples: int = int(MAX_SOURCE_BYTES * TRIPLES_PER_BYTE_LIMIT)) -> list[ox.Triple]:
    """The file's triples, rebased to `base`; blank nodes renamed apart, since Turtle scopes labels to a file.
    More than `max_triples` is refused as soon as the parser passes it."""
    try:
        parsed = ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=public_id,
                          rename_blank_nodes=True)
        rebase = _Rebaser(DEFAULT_BASE, base) if base != DEFAULT_BASE else None
        triples = []
        for quad in parsed:
            if len(triples) == max_triples:
                raise BuildError(f"{rel}: more than {max_triples:,} triples, the limit for one file (RDF lists and "
                                 "nested [ ] make a triple of a few bytes); split it into smaller files")
            triples.append(quad.triple if rebase is None else
                           ox.Triple(rebase(quad.subject), rebase(quad.predicate), rebase(quad.object)))
    except SyntaxError as exc:
        match = _OX_POSITION.match(str(exc))
        if match:
            line, column, why = match.groups()
            raise BuildError(f"{rel}:{line}:{column}: Turtle syntax error: {why}") from None
        raise BuildError(f"{rel}:{exc.lineno or '?'}: Turtle syntax error: {exc}") from None
    try:
        _check_literals(triples, text, rel)
    except BuildError:
        raise
    except Exception as exc:  # rdflib refusing a literal pyoxigraph accepted: still name the file
        raise BuildError(f"{rel}:?: Turtle error: {str(exc).splitlines()[0]}") from None
    return triples


class _Rebaser:
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self.memo: dict = {}

    def __call__(self, term):
        found = self.memo.get(term)
        if found is None:
            found = self.memo[term] = rebase_ox(term, self.old, self.new)
        return found


class _quiet_literal_conversion:
    """rdflib logs a full traceback for every literal it cannot convert ("1996-13-45"^^xsd:date); the
    build reports those itself, as one line each, so the log record is dropped while checking."""

    def __enter__(self):
        self._logger = logging.getLogger("rdflib.term")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)


def _check_literals(triples: list[ox.Triple], text: str, rel: str) -> None:
    """A literal whose text is not a value of its datatype (a 13th month, words as an integer) is an error
    here, with its line, rather than a SHACL finding far from the typo, or none when no shape looks.
    pyoxigraph keeps such literals as written, so rdflib's datatype map judges each distinct one once."""
    typed = {o for _, _, o in triples if isinstance(o, ox.Literal) and o.datatype.value not in PLAIN_STRING_TYPES}
    if not typed:
        return
    with _quiet_literal_conversion():
        bad = sorted({Literal(o.value, datatype=URIRef(o.datatype.value)) for o in typed
                      if Literal(o.value, datatype=URIRef(o.datatype.value)).ill_typed}, key=str)
    if not bad:
        return
    lines = []
    for literal in bad:
        at = text.find(f'"{literal}"')
        line = text.count("\n", 0, at) + 1 if at >= 0 else "?"
        lines.append(f"{rel}:{line}: \"{literal}\" is not a valid {compact(literal.datatype, iris_for().prefixes())}")
    raise BuildError("\n  ".join(lines))  # one problem per line, indented like the others


def load_sources(root: Path, base: str = DEFAULT_BASE, max_bytes: int = MAX_SOURCE_BYTES) -> Sources:
    root = Path(root).resolve()
    store = ox.Store()
    checks = _SourceChecks(base)
    texts: dict[str, list[bytes]] = defaultdict(list)
    problems: list[str] = []
    files: list[SourceFile] = []
    for part, paths in find_files(root).items():  # ontology first: the data checks need its terms
        name = graphs.graph_name(base, part)
        for path in paths:
            rel = path.relative_to(root).as_posix()
            try:
                text = read_text(path, rel, max_bytes)
                triples = parse_turtle(text, rel, path.as_uri(), base, int(max_bytes * TRIPLES_PER_BYTE_LIMIT))
            except BuildError as exc:
                problems.append(str(exc))
                continue
            checks.file(part, rel, triples)
            store.extend(ox.Quad(s, p, o, name) for s, p, o in triples)
            texts[part].append(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
            files.append(SourceFile(part, rel, None if part == "data" else text))
    _raise_if(problems)
    _raise_if(checks.finish())
    return Sources(root, base, files, store, dict(texts), checks.shared_labels())


class _SourceChecks:
    """What a parser cannot see, checked file by file as the triples arrive: the ontology and shapes may point
    at any published IRI (the landing page, the SPARQL endpoint); data may only use ontology terms and
    entities, describe subjects under ``id/``, and define (type or label) each entity in one file."""

    def __init__(self, base: str):
        self.ns = ns = iris_for(base)
        self.prefixes = ns.prefixes()
        self.data_allowed = (str(ns.ontology_iri), str(ns.hid))
        self.problems: list[str] = []
        self.declared: set[str] = set()
        self.defined_in: dict[str, set[str]] = defaultdict(set)
        self.labels: dict[str, set[str]] = defaultdict(set)

    def file(self, part: str, rel: str, triples: list[ox.Triple]) -> None:
        ns, prefixes = self.ns, self.prefixes
        iris = {t.value for triple in triples for t in triple if isinstance(t, ox.NamedNode)}
        for iri in sorted(iris):
            if iri.startswith("file:"):
                self.problems.append(f"{rel}: relative IRI <{iri[iri.rfind('/') + 1:]}> (write full IRIs or prefixed names)")
            elif not is_web_url(iri):
                self.problems.append(f"{rel}: <{iri}> (on {self._users(iri, triples)}) is not an http(s) IRI; pages "
                                     "link every IRI, and a browser runs a javascript: or data: link")
            elif _HAVEN_LIKE.search(iri) and not iri.startswith(ns.base):
                self.problems.append(f"{rel}: <{iri}> looks like a Haven IRI but is not under {ns.base}")
            elif part == "data" and iri.startswith(ns.base) and not _under(iri, self.data_allowed):
                self.problems.append(f"{rel}: <{iri}> is neither an ontology term nor under {ns.hid}")
        if part == "ontology":
            self.declared |= {s.value for s, _, _ in triples if isinstance(s, ox.NamedNode)}
        if part != "data":
            return
        subjects = {s.value for s, _, _ in triples if isinstance(s, ox.NamedNode)}
        for subject in sorted(subjects):
            if not subject.startswith(ns.hid):
                self.problems.append(f"{rel}: subject {compact(subject, prefixes)} is not under {ns.hid}")
        for term in sorted(iris):
            if term.startswith(ns.haven) and term not in self.declared:
                self.problems.append(f"{rel}: {compact(term, prefixes)} is not declared in the ontology")
        for s, p, o in triples:
            if isinstance(s, ox.NamedNode) and (p == _PREF_LABEL or p == _RDF_TYPE):
                self.defined_in[s.value].add(rel)
            if p == _PREF_LABEL and isinstance(s, ox.NamedNode) and isinstance(o, ox.Literal):
                self.labels[o.value.casefold()].add(s.value)

    def _users(self, iri: str, triples: list[ox.Triple]) -> str:
        """The subjects of the triples that mention `iri`, for a message that says where to look."""
        subjects = sorted({s.value for s, p, o in triples if iri in (getattr(s, "value", None), p.value,
                                                                    getattr(o, "value", None))
                           and isinstance(s, ox.NamedNode)})
        return ", ".join(compact(s, self.prefixes) for s in subjects[:3]) or "a blank node"

    def finish(self) -> list[str]:
        for subject, rels in sorted(self.defined_in.items()):
            if len(rels) > 1:
                self.problems.append(f"{compact(subject, self.prefixes)} is defined (typed or labelled) in {len(rels)} "
                                     f"files: {', '.join(sorted(rels))}; one entity, one file")
        return self.problems

    def shared_labels(self) -> list[str]:
        """Two IRIs with one preferred label may be a duplicate under two slugs, or two battles of one name."""
        return [f"preferred label {label!r} is shared by {', '.join(sorted(compact(s, self.prefixes) for s in subjects))}"
                for label, subjects in sorted(self.labels.items()) if len(subjects) > 1]


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
