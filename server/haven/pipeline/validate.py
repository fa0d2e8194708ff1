"""Stage 3: SHACL validation of ontology + data + derived with the shapes of shapes/.

The data graph is the union of the three graphs the server publishes, without RDFS inference: SHACL's
own ``rdf:type/rdfs:subClassOf*`` rule already finds instances of subclasses because the ontology's
subclass axioms are in the union, and inferring domain and range types would make ``sh:class`` checks
pass on values that were never typed. Violations stop the build; warnings and infos are reported.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from pyshacl import validate as shacl_validate
from rdflib.plugins.sparql import processor as sparql_processor
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from haven.iris import SH, compact, iris_for
from haven.pipeline import BuildError

#: past this many warnings, only the per-shape counts are printed
MAX_WARNINGS_LISTED = 25


@dataclass(frozen=True)
class Finding:
    severity: str  # "Violation" | "Warning" | "Info"
    focus: object
    shape: object
    path: object
    message: str
    value: object


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    text: str = ""

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]


def validate(ontology: Graph, data: Graph, derived: Graph, shapes: Graph, base: str,
             inference: str = "none") -> Report:
    """Validate and return the report; raise BuildError (with the grouped report) on any violation."""
    union = Graph()
    for graph in (ontology, data, derived):
        union += graph
    with _prepared_query_cache():
        _conforms, results, _text = shacl_validate(
            union, shacl_graph=shapes, inference=inference, advanced=True, allow_warnings=True,
            abort_on_first=False, meta_shacl=False)
    findings = parse_results(results)
    prefixes = iris_for(base).prefixes()
    report = Report(findings)
    if report.violations:
        raise BuildError(format_findings(report.violations, union, prefixes, "violation")
                         + _warnings_tail(report.warnings, union, prefixes))
    report.text = format_warnings(report.warnings, union, prefixes)
    return report


@contextmanager
def _prepared_query_cache():
    """Parse each SHACL-SPARQL query once instead of once per focus node.

    pySHACL hands rdflib the same query text for every node it checks, and rdflib parses and translates
    it again each time: that was two thirds of the validation time. A translated query is meant to be
    reused (rdflib's own prepareQuery), so the translation is cached for the duration of one validation.
    """
    original = sparql_processor.SPARQLProcessor.query

    @lru_cache(maxsize=512)
    def prepared(text: str, namespaces: tuple, base):
        return sparql_processor.prepareQuery(text, initNs=dict(namespaces), base=base)

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            strOrQuery = prepared(strOrQuery, tuple(sorted((initNs or {}).items())), base)
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    sparql_processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        sparql_processor.SPARQLProcessor.query = original


def parse_results(results: Graph) -> list[Finding]:
    findings = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        findings.append(Finding(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            focus=results.value(result, SH.focusNode),
            shape=results.value(result, SH.sourceShape),
            path=results.value(result, SH.resultPath),
            message=" / ".join(sorted(str(m) for m in results.objects(result, SH.resultMessage))),
            value=results.value(result, SH.value),
        ))
    return sorted(findings, key=lambda f: (str(f.focus), str(f.shape), str(f.path), str(f.value)))


def format_findings(findings: list[Finding], graph: Graph, prefixes: dict[str, str], noun: str) -> str:
    by_focus: dict[object, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_focus[finding.focus].append(finding)
    lines = [f"SHACL: {len(findings)} {noun}(s) on {len(by_focus)} node(s)"]
    for focus, group in by_focus.items():
        lines.append(f"  {node_label(focus, graph, prefixes)}")
        for f in group:
            path = show(f.path, prefixes) if f.path is not None else "(node)"
            shape = show(f.shape, prefixes) if isinstance(f.shape, URIRef) else "(anonymous shape)"
            value = f"  [value: {show(f.value, prefixes)}]" if f.value is not None else ""
            lines.append(f"    {f.severity} {shape} at {path}: {f.message or '(no message)'}{value}")
    return "\n".join(lines)


def format_warnings(warnings: list[Finding], graph: Graph, prefixes: dict[str, str]) -> str:
    if not warnings:
        return ""
    if len(warnings) <= MAX_WARNINGS_LISTED:
        return format_findings(warnings, graph, prefixes, "warning")
    per_shape = Counter(show(f.shape, prefixes) if isinstance(f.shape, URIRef) else "(anonymous shape)"
                        for f in warnings)
    lines = [f"SHACL: {len(warnings)} warning(s) on {len({f.focus for f in warnings})} node(s), by shape:"]
    lines += [f"  {count:5d}  {shape}" for shape, count in per_shape.most_common()]
    return "\n".join(lines)


def _warnings_tail(warnings: list[Finding], graph: Graph, prefixes: dict[str, str]) -> str:
    return ("\n" + format_warnings(warnings, graph, prefixes)) if warnings else ""


def show(term, prefixes: dict[str, str]) -> str:
    if isinstance(term, URIRef):
        return compact(term, prefixes)
    if isinstance(term, Literal):
        text = str(term) if len(term) <= 60 else str(term)[:57] + "..."
        return repr(text) + (f"@{term.language}" if term.language else "")
    if isinstance(term, BNode):
        return "[]"
    return str(term)


def node_label(node, graph: Graph, prefixes: dict[str, str], depth: int = 3) -> str:
    """A blank node (an evidence or selector node) is named by the IRI that points to it."""
    if not isinstance(node, BNode):
        return show(node, prefixes)
    for subject, predicate in graph.subject_predicates(node):
        owner = node_label(subject, graph, prefixes, depth - 1) if depth > 1 else "[]"
        return f"[] (the {compact(predicate, prefixes)} of {owner})"
    return "[] (unreferenced blank node)"
