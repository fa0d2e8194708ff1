"""A faster path for the build's SHACL stage: the shapes compiled to SPARQL and run on pyoxigraph.

pySHACL evaluates every constraint per focus node through rdflib's SPARQL engine, and re-parses each
SPARQL constraint for every focus node; at 100k triples that is minutes, at 1M hours. Here each
(shape, constraint) becomes one set-oriented SELECT that returns the violating focus nodes, evaluated by
Oxigraph over ontology + data + derived (the same union, with no inference, as the build validates).

Coverage is explicit: `compile_shapes` returns the checks it could translate and the constraints it could not
(listed by shape and component), so the benchmark says exactly what the fast path covers. It is a
benchmark instrument, not a replacement for the build's pySHACL stage: its results are compared with
pySHACL's on the same data (`python bench/fastshacl.py --compare DIR`).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, XSD

SH = "http://www.w3.org/ns/shacl#"
TYPE_OF = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
NODE_KINDS = {"IRI": "isIRI(?v)", "Literal": "isLiteral(?v)", "BlankNode": "isBlank(?v)",
              "BlankNodeOrIRI": "(isBlank(?v) || isIRI(?v))", "IRIOrLiteral": "(isIRI(?v) || isLiteral(?v))",
              "BlankNodeOrLiteral": "(isBlank(?v) || isLiteral(?v))"}
# Components that shape a node or property without constraining it on their own.
PASSIVE = {"path", "name", "description", "message", "severity", "property", "targetClass", "targetSubjectsOf",
           "targetObjectsOf", "target", "order", "group", "deactivated", "qualifiedMinCount", "qualifiedMaxCount"}


def sh(name: str) -> URIRef:
    return URIRef(SH + name)


@dataclass
class Check:
    shape: str
    component: str
    severity: str
    query: str
    #: SHACL-SPARQL constraints run once per focus node with ?this substituted (SHACL's pre-binding), because
    #: their property paths with both ends free make one set-oriented query enumerate every node
    focus_query: str | None = None


@dataclass
class Compiled:
    checks: list[Check] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)


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

    def prefixes(self) -> str:
        lines = []
        for decl in self.g.objects(None, sh("declare")):
            prefix, namespace = self.g.value(decl, sh("prefix")), self.g.value(decl, sh("namespace"))
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
        return "\n".join(sorted(set(lines))) + "\n"

    def name(self, shape) -> str:
        return str(shape).rsplit("#", 1)[-1] if isinstance(shape, URIRef) else "(anonymous)"

    def severity(self, shape) -> str:
        value = self.g.value(shape, sh("severity"))
        return str(value).rsplit("#", 1)[-1] if value is not None else "Violation"

    # -- targets ------------------------------------------------------------------------------------
    def focus(self, shape) -> str | None:
        parts = [f"{{ ?this {TYPE_OF} {c.n3()} }}" for c in self.g.objects(shape, sh("targetClass"))]
        parts += [f"{{ ?this {p.n3()} ?t_ }}" for p in self.g.objects(shape, sh("targetSubjectsOf"))]
        parts += [f"{{ ?t_ {p.n3()} ?this }}" for p in self.g.objects(shape, sh("targetObjectsOf"))]
        for target in self.g.objects(shape, sh("target")):
            select = self.g.value(target, sh("select"))
            if select is None:
                self.out.uncovered.append(f"{self.name(shape)}: custom target")
                continue
            parts.append(f"{{ {select} }}")
        if not parts:
            return None
        return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"

    # -- shapes -------------------------------------------------------------------------------------
    def compile(self) -> Compiled:
        targeted = {s for p in ("targetClass", "targetSubjectsOf", "targetObjectsOf", "target")
                    for s in self.g.subjects(sh(p))}
        for shape in sorted(targeted, key=str):
            focus = self.focus(shape)
            if focus is None:
                continue
            if self.g.value(shape, sh("path")) is not None:
                self.property_constraints(shape, focus, self.severity(shape))
                continue
            self.node_constraints(shape, focus, self.severity(shape))
            for prop in self.g.objects(shape, sh("property")):
                self.property_constraints(prop, focus, self.severity(prop))
        return self.out

    def add(self, shape, component: str, severity: str, focus: str, body: str) -> None:
        if " GROUP BY ?this HAVING (" in body:  # a count rule closes the WHERE itself and leaves HAVING open
            query = f"SELECT ?this WHERE {{ {focus} {body})"
        else:
            query = f"SELECT DISTINCT ?this WHERE {{ {focus} {body} }}"
        self.out.checks.append(Check(self.name(shape), component, severity, self.prefixes() + query))

    def add_sparql(self, shape, severity: str, focus: str, constraint, path: str | None) -> None:
        body = self.sparql_body(constraint, path)
        if body is None:
            self.out.uncovered.append(f"{self.name(shape)}: sh:sparql without a WHERE")
            return
        self.out.checks.append(Check(self.name(shape), "sparql", severity,
                                     self.prefixes() + f"SELECT DISTINCT ?this WHERE {{ {body} }}",
                                     self.prefixes() + f"SELECT ?this WHERE {focus}"))

    def sparql_body(self, constraint, path: str | None) -> str | None:
        select = str(self.g.value(constraint, sh("select")) or "")
        start, end = select.find("{"), select.rfind("}")
        if start < 0 or end < 0:
            return None
        body = select[start + 1:end].replace("$this", "?this")
        return body.replace("$PATH", path) if path else body

    def node_constraints(self, shape, focus: str, severity: str) -> None:
        for p, o in self.g.predicate_objects(shape):
            component = str(p)[len(SH):] if str(p).startswith(SH) else None
            if component is None or component in PASSIVE:
                continue
            if component == "class":
                self.add(shape, component, severity, focus, f"FILTER NOT EXISTS {{ ?this {TYPE_OF} {o.n3()} }}")
            elif component == "not" and self.g.value(o, sh("class")) is not None:
                self.add(shape, component, severity, focus, f"?this {TYPE_OF} {self.g.value(o, sh('class')).n3()}")
            elif component == "sparql":
                self.add_sparql(shape, severity, focus, o, None)
            elif component == "or":
                conditions = [self.member_fails(m) for m in Collection(self.g, o)]
                if all(conditions):
                    self.add(shape, component, severity, focus, "FILTER (" + " && ".join(conditions) + ")")
                else:
                    self.out.uncovered.append(f"{self.name(shape)}: sh:or with members other than counts")
            else:
                self.out.uncovered.append(f"{self.name(shape)}: node-level sh:{component}")

    def member_fails(self, member) -> str | None:
        """A SPARQL condition true when the focus does NOT conform to an sh:or member (counts only)."""
        path = self.g.value(member, sh("path"))
        if not isinstance(path, URIRef):
            return None
        if self.g.value(member, sh("maxCount")) == Literal(0):
            return f"EXISTS {{ ?this {path.n3()} ?x_ }}"
        if self.g.value(member, sh("minCount")) == Literal(1):
            return f"NOT EXISTS {{ ?this {path.n3()} ?x_ }}"
        return None

    def value_ok(self, node) -> str | None:
        """A condition on ?v true when ?v conforms to a small value shape (class, languageIn, hasValue)."""
        conditions = []
        for p, o in self.g.predicate_objects(node):
            component = str(p)[len(SH):]
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
            else:
                return None
        return " && ".join(conditions) if conditions else None

    def property_constraints(self, prop, focus: str, severity: str) -> None:
        path_node = self.g.value(prop, sh("path"))
        shape = prop
        if not isinstance(path_node, URIRef):
            self.out.uncovered.append(f"{self.name(shape)}: complex sh:path")
            return
        path = path_node.n3()
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
            "hasValue": lambda o: f"FILTER NOT EXISTS {{ ?this {path} {term(o)} }}",
        }
        for p, o in self.g.predicate_objects(prop):
            component = str(p)[len(SH):] if str(p).startswith(SH) else None
            if component is None or component in PASSIVE:
                continue
            if component in rules:
                body = rules[component](o)
                if body is None:
                    self.out.uncovered.append(f"{self.name(shape)}: sh:{component} {o}")
                    continue
                self.add(shape, component, severity, focus, body)
            elif component == "sparql":
                self.add_sparql(shape, severity, focus, o, path)
            elif component == "or":
                types = [self.g.value(m, sh("datatype")) for m in Collection(self.g, o)]
                if all(t is not None and len(list(self.g.predicate_objects(m))) == 1
                       for t, m in zip(types, Collection(self.g, o))):
                    self.add(shape, component, severity, focus,
                             f"{each} FILTER (!isLiteral(?v) || datatype(?v) NOT IN ({', '.join(t.n3() for t in types)}))")
                else:
                    self.out.uncovered.append(f"{self.name(shape)}: sh:or")
            elif component == "qualifiedValueShape":
                ok = self.value_ok(o)
                low = self.g.value(prop, sh("qualifiedMinCount"))
                high = self.g.value(prop, sh("qualifiedMaxCount"))
                if ok is None:
                    self.out.uncovered.append(f"{self.name(shape)}: sh:qualifiedValueShape")
                    continue
                counted = f"OPTIONAL {{ ?this {path} ?v FILTER ({ok}) }} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) "
                if low is not None:
                    self.add(shape, "qualifiedMinCount", severity, focus, counted + f"< {int(low)}")
                if high is not None:
                    self.add(shape, "qualifiedMaxCount", severity, focus, counted + f"> {int(high)}")
            else:
                self.out.uncovered.append(f"{self.name(shape)}: sh:{component}")


def compile_shapes(shapes: Graph) -> Compiled:
    return Compiler(shapes).compile()


@dataclass
class Result:
    violations: dict[tuple[str, str], int]
    warnings: dict[tuple[str, str], int]
    checks: int
    uncovered: list[str]
    seconds: float


def run(store: ox.Store, compiled: Compiled) -> Result:
    started = time.perf_counter()
    violations: dict[tuple[str, str], int] = {}
    warnings: dict[tuple[str, str], int] = {}
    for check in compiled.checks:
        try:
            if check.focus_query:
                this = ox.Variable("this")
                nodes = [row["this"] for row in store.query(check.focus_query, use_default_graph_as_union=True)]
                found = sum(1 for node in nodes if any(True for _ in store.query(
                    check.query, use_default_graph_as_union=True, substitutions={this: node})))
            else:
                found = sum(1 for _ in store.query(check.query, use_default_graph_as_union=True))
        except SyntaxError as error:
            raise SyntaxError(f"{check.shape} {check.component}: {error}\n{check.query}") from None
        if found:
            bucket = violations if check.severity == "Violation" else warnings
            bucket[(check.shape, check.component)] = bucket.get((check.shape, check.component), 0) + found
    return Result(violations, warnings, len(compiled.checks), compiled.uncovered, time.perf_counter() - started)


def store_of(*graphs: Graph) -> ox.Store:
    store = ox.Store()
    for graph in graphs:
        store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
                   to_graph=ox.NamedNode(f"urn:x-bench:{id(graph)}"))
    return store


def validate(ontology: Graph, data: Graph, derived: Graph, shapes: Graph, base: str, inference: str = "none"):
    """Drop-in for `haven.pipeline.validate.validate` (used by bench/fastbuild.py): raises BuildError on a
    violation, returns an (empty-findings) Report whose text counts the warnings."""
    from haven.pipeline import BuildError
    from haven.pipeline.validate import Report

    result = run(store_of(ontology, data, derived), compile_shapes(shapes))
    if result.violations:
        lines = [f"  {count:6d}  {shape} ({component})" for (shape, component), count in sorted(result.violations.items())]
        raise BuildError("SHACL (fast SPARQL path): violations by shape:\n" + "\n".join(lines))
    text = "" if not result.warnings else "SHACL (fast path) warnings: " + ", ".join(
        f"{shape} {count}" for (shape, _), count in sorted(result.warnings.items()))
    return Report([], text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the fast SHACL path on a source tree (and compare with pySHACL).")
    parser.add_argument("root", help="source tree with ontology/, data/, shapes/")
    parser.add_argument("--compare", action="store_true", help="also run pySHACL and compare the focus nodes")
    args = parser.parse_args(argv)
    from haven.config import DEFAULT_BASE
    from haven.pipeline.derive import derive
    from haven.pipeline.sources import load_sources

    sources = load_sources(args.root, DEFAULT_BASE, max_bytes=1 << 40)
    derived = derive(sources.ontology, sources.data, DEFAULT_BASE).graph
    compiled = compile_shapes(sources.shapes)
    result = run(store_of(sources.ontology, sources.data, derived), compiled)
    print(f"{result.checks} checks in {result.seconds:.2f} s; violations {result.violations or 0}; "
          f"warnings {result.warnings or 0}")
    print("not covered: " + ("; ".join(compiled.uncovered) or "nothing"))
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
