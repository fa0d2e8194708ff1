"""The SHACL stage at scale: every shape of shapes/ compiled to set-oriented SPARQL and run on pyoxigraph.

pySHACL is the reference implementation and gives the nicest report, but it evaluates each constraint per
focus node through rdflib: 52 s at 100k triples, far beyond the build budget at 1M. Here each (shape,
constraint) becomes one SELECT returning the violating focus nodes, over the same union (ontology + data +
derived, no inference) as :mod:`haven.pipeline.validate`, whose Finding/report format it reuses.

The checks are *derived from the shapes graph*, never written by hand: SHACL-SPARQL constraints and targets
are taken verbatim from their ``sh:select``, core constraints go through a small generic translator, and a
constraint the translator does not know is listed in :attr:`Compiled.uncovered` (the build refuses to use
the fast path for a Violation-level shape it cannot translate; tests/test_fastcheck.py fails first).

One rewrite is applied to every query: a zero-or-more path ``E*`` (``rdfs:subClassOf*``,
``(rdfs:subPropertyOf|owl:inverseOf)*``...) is replaced by a helper predicate whose triples are the closure
of ``E``, computed once in Python. Oxigraph evaluates ``E*`` with a free end by enumerating every node of the
graph, once per row (hsh:DirectTripleShape took 19 s at 10k that way). The closure is reflexive over every IRI
of the union, which is what SPARQL's zero-length path matches for the IRIs of the graph; a zero-length match on
a blank node or literal is not reproduced (no shape relies on one: the paths run over classes and properties).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import XSD

from haven.pipeline import BuildError
from haven.store.answers import to_rdflib
from haven.pipeline.release import OxTerms
from haven.iris import iris_for
from haven.pipeline.validate import Finding, Report, format_findings, format_warnings

SH = "http://www.w3.org/ns/shacl#"
TYPE_OF = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
NODE_KINDS = {"IRI": "isIRI(?v)", "Literal": "isLiteral(?v)", "BlankNode": "isBlank(?v)",
              "BlankNodeOrIRI": "(isBlank(?v) || isIRI(?v))", "IRIOrLiteral": "(isIRI(?v) || isLiteral(?v))",
              "BlankNodeOrLiteral": "(isBlank(?v) || isLiteral(?v))"}
# Parameters that shape a node or property without constraining it on their own.
PASSIVE = {"path", "name", "description", "message", "severity", "property", "targetClass", "targetSubjectsOf",
           "targetObjectsOf", "target", "order", "group", "deactivated", "qualifiedMinCount", "qualifiedMaxCount",
           "prefixes", "declare"}
#: the graphs of the union, and the one holding the path closures (kept apart so no shape sees it by accident)
UNION = [ox.NamedNode(f"urn:x-haven:fastcheck:{name}") for name in ("ontology", "data", "derived")]
CLOSURES = ox.NamedNode("urn:x-haven:fastcheck:closures")
# `E*` where E is one IRI, one prefixed name or a parenthesised alternative without nested groups
_STAR = re.compile(r"(\([^()]*\)|<[^<>\s]+>|[A-Za-z][\w-]*:[\w-]*)\*")


def sh(name: str) -> URIRef:
    return URIRef(SH + name)


@dataclass
class Check:
    shape: object  # the sh:sourceShape (IRI, or a BNode for an anonymous shape)
    component: str
    severity: str
    path: object
    message: str
    query: str
    focus: str = ""  # the focus-node subquery inside `query`, shared by every check of one shape


@dataclass
class Compiled:
    checks: list[Check] = field(default_factory=list)
    #: "<shape> (<severity>): <what>" for each constraint the translator could not express
    uncovered: list[str] = field(default_factory=list)

    def uncovered_violations(self) -> list[str]:
        return [u for u in self.uncovered if "(Violation)" in u]


def term(node) -> str:
    if isinstance(node, Literal) and node.datatype is None and not node.language:
        return Literal(str(node), datatype=XSD.string).n3()
    return node.n3()


def string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Compiler:
    def __init__(self, shapes: Graph):
        self.g = shapes
        self.out = Compiled()
        lines = set()
        for decl in self.g.objects(None, sh("declare")):
            prefix, namespace = self.g.value(decl, sh("prefix")), self.g.value(decl, sh("namespace"))
            if prefix is not None and namespace is not None:
                lines.add(f"PREFIX {prefix}: <{namespace}>")
        self.prefixes = "\n".join(sorted(lines)) + "\n"

    def severity(self, shape) -> str:
        value = self.g.value(shape, sh("severity"))
        return str(value).rsplit("#", 1)[-1] if value is not None else "Violation"

    def message(self, *nodes) -> str:
        for node in nodes:
            found = sorted(str(m) for m in self.g.objects(node, sh("message")))
            if found:
                return " / ".join(found)
        return ""

    def skip(self, shape, severity: str, what: str) -> None:
        self.out.uncovered.append(f"{shape.n3() if isinstance(shape, URIRef) else '(anonymous)'} ({severity}): {what}")

    # -- targets ------------------------------------------------------------------------------------
    def focus(self, shape) -> str | None:
        parts = [f"{{ ?this {TYPE_OF} {c.n3()} }}" for c in self.g.objects(shape, sh("targetClass"))]
        parts += [f"{{ ?this {p.n3()} ?t_ }}" for p in self.g.objects(shape, sh("targetSubjectsOf"))]
        parts += [f"{{ ?t_ {p.n3()} ?this }}" for p in self.g.objects(shape, sh("targetObjectsOf"))]
        parts += [f"{{ VALUES ?this {{ {term(n)} }} }}" for n in self.g.objects(shape, sh("targetNode"))]
        for target in self.g.objects(shape, sh("target")):
            select = self.g.value(target, sh("select"))
            if select is None:
                self.skip(shape, self.severity(shape), "custom target without sh:select")
                continue
            parts.append(f"{{ {select} }}")
        if not parts:
            return None
        return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"

    # -- shapes -------------------------------------------------------------------------------------
    def compile(self) -> Compiled:
        targeted = {s for p in ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "target")
                    for s in self.g.subjects(sh(p))}
        for shape in sorted(targeted, key=str):
            if self.g.value(shape, sh("deactivated")) == Literal(True):
                continue
            focus = self.focus(shape)
            if focus is None:
                continue
            if self.g.value(shape, sh("path")) is not None:
                self.property_constraints(shape, focus)
                continue
            self.node_constraints(shape, focus)
            for prop in self.g.objects(shape, sh("property")):
                if self.g.value(prop, sh("deactivated")) != Literal(True):
                    self.property_constraints(prop, focus)
        return self.out

    def add(self, shape, component: str, focus: str, body: str, path=None, message: str | None = None,
            value: str = "?v") -> None:
        if " GROUP BY ?this HAVING (" in body:  # a count rule closes the WHERE itself and leaves HAVING open
            query = f"SELECT ?this WHERE {{ {focus} {body})"
        else:
            query = f"SELECT DISTINCT ?this {value if value in body else ''} WHERE {{ {focus} {body} }}"
        self.out.checks.append(Check(shape, component, self.severity(shape), path,
                                     self.message(shape) if message is None else message, self.prefixes + query,
                                     focus))

    def add_sparql(self, shape, focus: str, constraint, path) -> None:
        select = str(self.g.value(constraint, sh("select")) or "")
        start, end = select.find("{"), select.rfind("}")
        if start < 0 or end < 0:
            self.skip(shape, self.severity(shape), "sh:sparql without a WHERE")
            return
        body = select[start + 1:end].replace("$this", "?this")
        if path is not None:
            body = body.replace("$PATH", self.path_text(path))
        # the projection must be the constraint's own (?this, ?value), never the focus subquery's
        self.add(shape, "sparql", focus, "{ " + body + " }", path,
                 self.message(constraint, shape), "?value")

    def node_constraints(self, shape, focus: str) -> None:
        for p, o in self.g.predicate_objects(shape):
            component = str(p)[len(SH):] if str(p).startswith(SH) else None
            if component is None or component in PASSIVE:
                continue
            if component == "class":
                self.add(shape, component, focus, f"FILTER NOT EXISTS {{ ?this {TYPE_OF} {o.n3()} }}")
            elif component == "not" and self.g.value(o, sh("class")) is not None \
                    and len(list(self.g.predicate_objects(o))) == 1:
                self.add(shape, component, focus, f"?this {TYPE_OF} {self.g.value(o, sh('class')).n3()}")
            elif component == "sparql":
                self.add_sparql(shape, focus, o, None)
            elif component == "or":
                conditions = [self.member_fails(m) for m in Collection(self.g, o)]
                if all(conditions):
                    self.add(shape, component, focus, "FILTER (" + " && ".join(conditions) + ")")
                else:
                    self.skip(shape, self.severity(shape), "sh:or with members other than counts")
            else:
                self.skip(shape, self.severity(shape), f"node-level sh:{component}")

    def member_fails(self, member) -> str | None:
        """A condition true when the focus does NOT conform to an sh:or member (a single count on a path)."""
        path = self.path_text(self.g.value(member, sh("path")))
        if path is None or len(list(self.g.predicate_objects(member))) != 2:
            return None
        if self.g.value(member, sh("maxCount")) == Literal(0):
            return f"EXISTS {{ ?this {path} ?x_ }}"
        if self.g.value(member, sh("minCount")) == Literal(1):
            return f"NOT EXISTS {{ ?this {path} ?x_ }}"
        negated = self.g.value(member, sh("not"))
        value = self.g.value(negated, sh("hasValue")) if negated is not None else None
        if value is not None and len(list(self.g.predicate_objects(negated))) == 1:
            return f"EXISTS {{ ?this {path} {term(value)} }}"
        return None

    def path_text(self, node) -> str | None:
        """A SHACL property path as a SPARQL one: an IRI, sh:inversePath, sh:alternativePath of IRIs."""
        if isinstance(node, URIRef):
            return node.n3()
        if node is None:
            return None
        inverse = self.g.value(node, sh("inversePath"))
        if isinstance(inverse, URIRef):
            return "^" + inverse.n3()
        alternatives = self.g.value(node, sh("alternativePath"))
        if alternatives is not None:
            members = list(Collection(self.g, alternatives))
            if members and all(isinstance(m, URIRef) for m in members):
                return "(" + "|".join(m.n3() for m in members) + ")"
        return None

    def value_ok(self, node) -> str | None:
        """A condition on ?v true when ?v conforms to a small value shape (class, languageIn, datatype, hasValue)."""
        conditions = []
        for p, o in self.g.predicate_objects(node):
            component = str(p)[len(SH):] if str(p).startswith(SH) else None
            if component == "class":
                conditions.append(f"EXISTS {{ ?v {TYPE_OF} {o.n3()} }}")
            elif component == "languageIn":
                conditions.append("(" + " || ".join(f"langMatches(lang(?v), {string(str(x))})"
                                                     for x in Collection(self.g, o)) + ")")
            elif component == "datatype":
                conditions.append(f"(isLiteral(?v) && datatype(?v) = {o.n3()})")
            elif component == "property":
                path, value = self.g.value(o, sh("path")), self.g.value(o, sh("hasValue"))
                if not isinstance(path, URIRef) or value is None:
                    return None
                conditions.append(f"EXISTS {{ ?v {path.n3()} {term(value)} }}")
            elif component is None and str(p).endswith("#type"):
                continue
            else:
                return None
        return " && ".join(conditions) if conditions else None

    def property_constraints(self, prop, focus: str) -> None:
        path_node = self.g.value(prop, sh("path"))
        path = self.path_text(path_node)
        if path is None:
            self.skip(prop, self.severity(prop), "a complex sh:path")
            return
        each = f"?this {path} ?v ."
        rules = {
            "minCount": lambda o: f"OPTIONAL {{ ?this {path} ?v }} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {int(o)}",
            "maxCount": lambda o: f"?this {path} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(o)}",
            "class": lambda o: f"{each} FILTER NOT EXISTS {{ ?v {TYPE_OF} {o.n3()} }}",
            "datatype": lambda o: f"{each} FILTER (!isLiteral(?v) || datatype(?v) != {o.n3()})",
            "nodeKind": lambda o: f"{each} FILTER (!{NODE_KINDS[str(o)[len(SH):]]})",
            "pattern": lambda o: f"{each} FILTER (isBlank(?v) || !REGEX(STR(?v), {string(str(o))}))",
            "in": lambda o: f"{each} FILTER (?v NOT IN ({', '.join(term(x) for x in Collection(self.g, o))}))",
            "languageIn": lambda o: f"{each} FILTER (!isLiteral(?v) || !(" + " || ".join(
                f"langMatches(lang(?v), {string(str(x))})" for x in Collection(self.g, o)) + "))",
            "uniqueLang": lambda o: (f"{each} ?this {path} ?w . FILTER (?v != ?w && lang(?v) != \"\" "
                                     "&& lang(?v) = lang(?w))") if o == Literal(True) else None,
            "equals": lambda o: (f"{{ {each} FILTER NOT EXISTS {{ ?this {o.n3()} ?v }} }} UNION "
                                 f"{{ ?this {o.n3()} ?v FILTER NOT EXISTS {{ ?this {path} ?v }} }}"),
            "disjoint": lambda o: f"{each} ?this {o.n3()} ?v .",
            "lessThan": lambda o: f"{each} ?this {o.n3()} ?w . FILTER (!(?v < ?w))",
            "lessThanOrEquals": lambda o: f"{each} ?this {o.n3()} ?w . FILTER (!(?v <= ?w))",
            "minInclusive": lambda o: f"{each} FILTER (!(?v >= {term(o)}))",
            "maxInclusive": lambda o: f"{each} FILTER (!(?v <= {term(o)}))",
            "minExclusive": lambda o: f"{each} FILTER (!(?v > {term(o)}))",
            "maxExclusive": lambda o: f"{each} FILTER (!(?v < {term(o)}))",
            "hasValue": lambda o: f"FILTER NOT EXISTS {{ ?this {path} {term(o)} }}",
        }
        for p, o in self.g.predicate_objects(prop):
            component = str(p)[len(SH):] if str(p).startswith(SH) else None
            if component is None or component in PASSIVE:
                continue
            if component in rules:
                body = rules[component](o)
                if body is None:
                    self.skip(prop, self.severity(prop), f"sh:{component} {o}")
                    continue
                self.add(prop, component, focus, body, path_node)
            elif component == "sparql":
                self.add_sparql(prop, focus, o, path_node)
            elif component == "or":
                members = list(Collection(self.g, o))
                types = [self.g.value(m, sh("datatype")) for m in members]
                if all(t is not None and len(list(self.g.predicate_objects(m))) == 1 for t, m in zip(types, members)):
                    self.add(prop, component, focus,
                             f"{each} FILTER (!isLiteral(?v) || datatype(?v) NOT IN ({', '.join(t.n3() for t in types)}))",
                             path_node)
                else:
                    self.skip(prop, self.severity(prop), "sh:or")
            elif component == "qualifiedValueShape":
                ok = self.value_ok(o)
                if ok is None:
                    self.skip(prop, self.severity(prop), "sh:qualifiedValueShape")
                    continue
                counted = f"OPTIONAL {{ ?this {path} ?v FILTER ({ok}) }} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) "
                low, high = self.g.value(prop, sh("qualifiedMinCount")), self.g.value(prop, sh("qualifiedMaxCount"))
                if low is not None:
                    self.add(prop, "qualifiedMinCount", focus, counted + f"< {int(low)}", path_node)
                if high is not None:
                    self.add(prop, "qualifiedMaxCount", focus, counted + f"> {int(high)}", path_node)
            else:
                self.skip(prop, self.severity(prop), f"sh:{component}")


def compile_shapes(shapes: Graph) -> Compiled:
    return Compiler(shapes).compile()


# -- the store and the path closures ------------------------------------------------------------------

def store_of(ontology: Graph, data: Graph, derived: Graph) -> ox.Store:
    """A store of three rdflib graphs under the :data:`UNION` names (tests and callers holding rdflib graphs;
    the build passes its own store to :func:`validate_store`). Blank nodes keep rdflib's ids."""
    store = ox.Store()
    convert = OxTerms({})
    for graph, name in zip((ontology, data, derived), UNION):
        store.extend(ox.Quad(convert(s), convert(p), convert(o), name) for s, p, o in graph)
    return store


def _query(store: ox.Store, text: str, union: list[ox.NamedNode]):
    return store.query(text, default_graph=union + [CLOSURES])


def materialise_closures(store: ox.Store, queries: list[str], prefixes: str,
                         union: list[ox.NamedNode] = UNION) -> dict[str, str]:
    """Each distinct `E*` of the queries → the helper predicate holding its reflexive-transitive closure."""
    expressions = sorted({m.group(1) for q in queries for m in _STAR.finditer(_strip_prefixes(q))})
    if not expressions:
        return {}
    nodes = {row["x"] for row in _query(store, "SELECT DISTINCT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } "
                                                "UNION { ?s ?x ?o } FILTER isIRI(?x) }", union)}
    helpers = {}
    for index, expression in enumerate(expressions):
        helper = ox.NamedNode(f"urn:x-haven:fastcheck:closure{index}")
        step: dict = {}
        for row in _query(store, prefixes + f"SELECT ?a ?b WHERE {{ ?a {expression} ?b }}", union):
            step.setdefault(row["a"], set()).add(row["b"])
        quads = [ox.Quad(n, helper, n, CLOSURES) for n in nodes]
        for start in step:
            seen, todo = set(), [start]
            while todo:
                for nxt in step.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            quads += [ox.Quad(start, helper, end, CLOSURES) for end in seen if end != start or start not in nodes]
        store.extend(quads)
        helpers[expression] = f"<{helper.value}>"
    return helpers


def _strip_prefixes(query: str) -> str:
    return "\n".join(line for line in query.splitlines() if not line.startswith("PREFIX "))


def rewrite(query: str, helpers: dict[str, str]) -> str:
    head = [line for line in query.splitlines() if line.startswith("PREFIX ")]
    body = _STAR.sub(lambda m: helpers.get(m.group(1), m.group(0)), _strip_prefixes(query))
    return "\n".join(head + [not_exists_as_minus(body)])


_NOT_EXISTS = re.compile(r"FILTER\s+NOT\s+EXISTS\s*\{")
_VARIABLE = re.compile(r"[?$](\w+)")


def not_exists_as_minus(query: str) -> str:
    """`FILTER NOT EXISTS { B }` → `MINUS { B }` where the two are equivalent, because Oxigraph evaluates NOT
    EXISTS once per row (5 ms a row for hsh:DirectTripleShape) and MINUS once, as an anti-join.

    Equivalent when B is a triple block or a UNION of triple blocks (every variable a branch mentions is
    bound in its solutions), each branch mentions every variable B shares with the rest of the query, and
    there is at least one shared variable: then "some solution of B agrees with the row" is the same test
    for both. Anything else (a FILTER, OPTIONAL or nested group in B) is left as written.
    """
    out, position = [], 0
    for match in _NOT_EXISTS.finditer(query):
        if match.start() < position:
            continue
        end = _closing_brace(query, match.end() - 1)
        if end is None:
            continue
        block = query[match.end():end]
        rest = query[:match.start()] + query[end + 1:]
        if _minus_is_safe(block, set(_VARIABLE.findall(rest))):
            out.append(query[position:match.start()] + "MINUS {" + block + "}")
            position = end + 1
    return "".join(out) + query[position:]


def _closing_brace(text: str, opening: int) -> int | None:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return None


def _minus_is_safe(block: str, outer: set[str]) -> bool:
    text = block.strip()
    if "{" not in text:
        branches = [text]
    else:
        branches = [b.strip() for b in re.split(r"\}\s*UNION\s*\{", text)]
        if not (branches[0].startswith("{") and branches[-1].endswith("}")):
            return False
        branches[0], branches[-1] = branches[0][1:], branches[-1][:-1]
    if any(re.search(r"[{}]|\b(FILTER|OPTIONAL|MINUS|BIND|VALUES|SERVICE|GRAPH)\b", b, re.I) for b in branches):
        return False
    shared = set(_VARIABLE.findall(block)) & outer
    return bool(shared) and all(shared <= set(_VARIABLE.findall(b)) for b in branches)


# -- running ------------------------------------------------------------------------------------------

@dataclass
class Run:
    findings: list[Finding]
    seconds: dict[str, float]  # per check, "<shape> <component>"


def run(store: ox.Store, compiled: Compiled, union: list[ox.NamedNode] = UNION) -> Run:
    """The findings of every check over the graphs `union` of `store` (which keeps no trace of the run)."""
    try:
        return _run(store, compiled, union)
    finally:
        store.remove_graph(CLOSURES)


def _run(store: ox.Store, compiled: Compiled, union: list[ox.NamedNode]) -> Run:
    prefixes = compiled.checks[0].query.split("SELECT", 1)[0] if compiled.checks else ""
    store.remove_graph(CLOSURES)
    helpers = materialise_closures(store, [c.query for c in compiled.checks], prefixes, union)
    focus_sets = materialise_focus(store, compiled.checks, prefixes, helpers, union)
    findings: set[Finding] = set()
    seconds: dict[str, float] = {}
    for check in compiled.checks:
        started = time.perf_counter()
        text = rewrite(check.query.replace(check.focus, focus_sets[check.focus], 1), helpers)
        try:
            rows = list(_query(store, text, union))
        except SyntaxError as error:
            raise BuildError(f"SHACL fast path: {check.shape} {check.component} does not compile: {error}") from None
        for row in rows:
            value = row["value"] if "?value" in text.split("WHERE", 1)[0] else (
                row["v"] if "?v" in text.split("WHERE", 1)[0] else None)
            findings.add(Finding(check.severity, to_rdflib(row["this"]), check.shape, check.path, check.message,
                                 to_rdflib(value)))
        seconds[f"{check.shape} {check.component}"] = time.perf_counter() - started
    ordered = sorted(findings, key=lambda f: (str(f.focus), str(f.shape), str(f.path), str(f.value)))
    return Run(ordered, seconds)


def materialise_focus(store: ox.Store, checks: list[Check], prefixes: str, helpers: dict[str, str],
                      union: list[ox.NamedNode]) -> dict[str, str]:
    """Each distinct focus subquery → a triple pattern over its nodes, computed once: a shape's target (the
    entity target scans every triple) is shared by all its constraints, twenty for hsh:EntityShape."""
    patterns = {}
    for index, focus in enumerate(dict.fromkeys(c.focus for c in checks)):
        marker = ox.NamedNode(f"urn:x-haven:fastcheck:focus{index}")
        query = rewrite(prefixes + "SELECT ?this WHERE " + focus, helpers)
        nodes = [row["this"] for row in _query(store, query, union)]
        if any(isinstance(node, ox.Literal) for node in nodes):  # cannot be a subject: keep the subquery
            patterns[focus] = focus
            continue
        store.extend(ox.Quad(node, marker, marker, CLOSURES) for node in nodes)
        patterns[focus] = f"{{ ?this <{marker.value}> <{marker.value}> }}"
    return patterns


class _StoreView:
    """What validate.format_findings reads of the data graph (who points at a blank node), from the store."""

    def __init__(self, store: ox.Store, union: list[ox.NamedNode]):
        self.store, self.union = store, union

    def subject_predicates(self, node):
        target = ox.BlankNode(str(node)) if isinstance(node, BNode) else ox.NamedNode(str(node))
        for quad in self.store.quads_for_pattern(None, None, target):
            if quad.graph_name in self.union:
                yield to_rdflib(quad.subject), to_rdflib(quad.predicate)


def validate(ontology: Graph, data: Graph, derived: Graph, shapes: Graph, base: str) -> Report:
    """Same contract as :func:`haven.pipeline.validate.validate`: the report, or BuildError on a violation."""
    return validate_store(store_of(ontology, data, derived), UNION, shapes, base)


def validate_store(store: ox.Store, union: list[ox.NamedNode], shapes: Graph, base: str) -> Report:
    """:func:`validate` over the graphs `union` of a store (the build's own: nothing is copied)."""
    compiled = compile_shapes(shapes)
    missing = compiled.uncovered_violations()
    if missing:
        raise BuildError("SHACL fast path cannot check every shape (use --validator pyshacl):\n  "
                         + "\n  ".join(missing))
    result = run(store, compiled, union)
    prefixes = iris_for(base).prefixes()
    view = _StoreView(store, union)
    report = Report(result.findings)
    skipped = [u for u in compiled.uncovered]
    tail = ("\nSHACL fast path: not checked (warnings only): " + "; ".join(skipped)) if skipped else ""
    if report.violations:
        warnings = format_warnings(report.warnings, view, prefixes)
        raise BuildError(format_findings(report.violations, view, prefixes, "violation")
                         + ("\n" + warnings if warnings else ""))
    report.text = (format_warnings(report.warnings, view, prefixes) + tail).strip("\n")
    return report
