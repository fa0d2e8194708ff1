"""What the ontology's documentation page shows, read from one version of the ontology as released.

The graph is only read here (issue 10: pyLODE, which rendered this page before, wrote its own triples into
the graph the server kept). Haven renders the page itself because what pyLODE rendered wrong or not at all
is most of what a reader of this ontology needs: it titled the page after a concept scheme, gave no anchor
to the members of the closed lists (`/ontology#Stated`), repeated ids, had no site navigation, and has no
place for the statement class ↔ direct property pairs, inverses, characteristics, closed lists and
Wikidata matches. Templates get plain dicts and lists; every anchor is a term's local name, so that the
term IRI `{base}ontology#Term` opens the page at its entry.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from haven.iris import SCHEMA, VANN, UrlMap, compact, iris_for

FOAF_NAME = URIRef("http://xmlns.com/foaf/0.1/name")

#: the sections of term entries, in page order: (id, heading); ids hold a hyphen, which no term's local name has
SECTIONS = (
    ("section-classes", "Classes"),
    ("section-statement-classes", "Statement classes"),
    ("section-object-properties", "Object properties"),
    ("section-datatype-properties", "Datatype properties"),
    ("section-annotation-properties", "Annotation properties"),
    ("section-closed-lists", "Closed lists"),
    ("section-individuals", "Individuals"),
)

#: OWL property characteristics, as an entry names them
CHARACTERISTICS = (
    (OWL.SymmetricProperty, "symmetric"), (OWL.AsymmetricProperty, "asymmetric"),
    (OWL.TransitiveProperty, "transitive"), (OWL.FunctionalProperty, "functional"),
    (OWL.InverseFunctionalProperty, "inverse functional"), (OWL.ReflexiveProperty, "reflexive"),
    (OWL.IrreflexiveProperty, "irreflexive"),
)

#: links to other vocabularies' terms, shown per term and in the alignments table
MATCHES = (
    (OWL.equivalentClass, "equivalent class"), (OWL.equivalentProperty, "equivalent property"),
    (OWL.sameAs, "same as"), (SKOS.exactMatch, "exact match"), (SKOS.closeMatch, "close match"),
    (SKOS.broadMatch, "broad match"), (SKOS.narrowMatch, "narrow match"), (SKOS.relatedMatch, "related match"),
)

#: restriction kinds → the Manchester syntax keyword
_RESTRICTIONS = (
    (OWL.allValuesFrom, "only"), (OWL.someValuesFrom, "some"), (OWL.hasValue, "value"),
    (OWL.cardinality, "exactly"), (OWL.minCardinality, "min"), (OWL.maxCardinality, "max"),
    (OWL.qualifiedCardinality, "exactly"), (OWL.minQualifiedCardinality, "min"),
    (OWL.maxQualifiedCardinality, "max"),
)

#: what an entry shows about a term by itself; anything else the term says is listed under "Also"
_TEXTS = (SKOS.definition, RDFS.comment, SKOS.scopeNote, SKOS.example, SKOS.editorialNote, SKOS.note)
_SHOWN = {RDF.type, RDFS.label, SKOS.prefLabel, RDFS.isDefinedBy, RDFS.subClassOf, RDFS.subPropertyOf,
          RDFS.domain, RDFS.range, OWL.inverseOf, OWL.deprecated, DCTERMS.isReplacedBy, OWL.disjointWith,
          SKOS.inScheme, SKOS.topConceptOf, SKOS.hasTopConcept, *_TEXTS, *(p for p, _ in MATCHES)}


@dataclass(frozen=True)
class Ref:
    """A term as a link: to its entry on this page when it is one of the ontology's own terms."""

    text: str
    href: str | None
    title: str | None = None


class OntologyReader:
    """Read-only questions about one ontology graph."""

    def __init__(self, graph: Graph, base: str, urls: UrlMap):
        self.graph = graph
        self.ns = iris_for(base)
        self.namespace = str(self.ns.haven)
        self.urls = urls
        self.prefixes = {**{p: str(n) for p, n in graph.namespaces() if p}, **self.ns.prefixes()}
        self.ontology = next((s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef)), None)

    # -- names ----------------------------------------------------------------------------------------------

    def local(self, term) -> str | None:
        """The anchor of one of the ontology's own terms (its local name), None for anyone else's."""
        text = str(term)
        if isinstance(term, URIRef) and text.startswith(self.namespace) and len(text) > len(self.namespace):
            return text[len(self.namespace):]
        return None

    def label(self, term) -> str | None:
        for prop in (RDFS.label, SKOS.prefLabel, SCHEMA.name, FOAF_NAME):
            values = list(self.graph.objects(term, prop))
            english = [v for v in values if isinstance(v, Literal) and (v.language or "").startswith("en")]
            if english or values:
                return str((english or values)[0])
        return None

    def ref(self, term) -> Ref | str:
        if isinstance(term, Literal):
            return str(term)
        if isinstance(term, BNode):
            return self.expression(term)
        local = self.local(term)
        if local is not None:  # the page's own terms by their local names, as its anchors are
            return Ref(local, f"#{local}", self.label(term))
        name = compact(str(term), self.prefixes)
        if name.startswith("<"):  # no prefix for it: the IRI as it is
            name = str(term)
        return Ref(name, self.urls.served(str(term)), self.label(term))

    def refs(self, terms) -> list:
        return sorted((self.ref(t) for t in terms), key=_sort_key)

    def texts(self, term, prop) -> list[str]:
        values = list(self.graph.objects(term, prop))
        english = [v for v in values if isinstance(v, Literal) and (v.language or "").startswith("en")]
        return sorted(str(v) for v in (english or values))

    def members(self, head) -> list:
        try:
            return list(Collection(self.graph, head))
        except Exception:  # a malformed list is shown as what it is rather than refused
            return [head]

    def expression(self, node: BNode) -> "Expression":
        """A class expression or restriction in words (Manchester syntax), its terms linked."""
        g = self.graph
        for prop, joiner in ((OWL.unionOf, "or"), (OWL.intersectionOf, "and")):
            head = g.value(node, prop)
            if head is not None:
                parts: list = []
                for i, member in enumerate(self.members(head)):
                    if i:
                        parts.append(f" {joiner} ")
                    parts.append(self.ref(member))
                return Expression(parts)
        complement = g.value(node, OWL.complementOf)
        if complement is not None:
            return Expression(["not ", self.ref(complement)])
        one_of = g.value(node, OWL.oneOf)
        if one_of is not None:
            parts = ["{"]
            for i, member in enumerate(self.members(one_of)):
                parts += ([", "] if i else []) + [self.ref(member)]
            return Expression(parts + ["}"])
        on = g.value(node, OWL.onProperty)
        if on is not None:
            for prop, word in _RESTRICTIONS:
                value = g.value(node, prop)
                if value is None:
                    continue
                parts = [self.ref(on), f" {word} "]
                if isinstance(value, Literal):
                    parts.append(str(value))
                    qualifier = g.value(node, OWL.onClass) or g.value(node, OWL.onDataRange)
                    if qualifier is not None:
                        parts += [" ", self.ref(qualifier)]
                else:
                    parts.append(self.ref(value))
                return Expression(parts)
        return Expression(["(an anonymous class)"])


@dataclass(frozen=True)
class Expression:
    """Words and Refs, in order."""

    parts: list

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)


def _sort_key(item) -> tuple:
    text = item if isinstance(item, str) else item.text
    return (isinstance(item, Expression), text.lower())


# -- the page ---------------------------------------------------------------------------------------------------

def ontology_view(graph: Graph, base: str, urls: UrlMap, documents: list[tuple[str, str, str]]) -> dict:
    """Everything the ontology page shows. `documents`: (label, media type, URL) of this version in each RDF
    format."""
    r = OntologyReader(graph, base, urls)
    kinds = _kinds(r)
    sections = []
    for section_id, heading in SECTIONS:
        terms = sorted((t for t, kind in kinds.items() if kind == section_id), key=lambda t: r.local(t).lower())
        if section_id == "section-closed-lists":
            entries = [_scheme_entry(r, scheme, kinds) for scheme in terms]
        else:
            entries = [_entry(r, term) for term in terms]
        if entries:
            sections.append({"id": section_id, "heading": heading, "entries": entries})
    return {
        "about": _about(r, documents),
        "counts": [(s["heading"], len(s["entries"])) for s in sections],
        "closed_list_members": sum(len(e.get("members", [])) for s in sections for e in s["entries"]),
        "pairs": _pairs(r),
        "roles": _roles(r),
        "disjoint": _disjoint(r),
        "alignments": _alignments(r),
        "sections": sections,
    }


def _kinds(r: OntologyReader) -> dict[URIRef, str]:
    """Each of the ontology's own terms → the one section its entry is in (one entry, one id, per term)."""
    g = r.graph
    statement = r.ns.haven.Statement
    statement_classes = set(g.transitive_subjects(RDFS.subClassOf, statement)) | {statement}
    # members of the ontology's own schemes are listed under their scheme, not on their own
    schemes = {s for s in g.subjects(RDF.type, SKOS.ConceptScheme) if r.local(s) is not None}
    in_scheme = {m for s in schemes for m in _scheme_members(g, s)}
    kinds: dict[URIRef, str] = {}
    for term in set(g.subjects()):
        if r.local(term) is None:
            continue
        types = set(g.objects(term, RDF.type))
        if types & {OWL.Class, RDFS.Class}:
            kind = "section-statement-classes" if term in statement_classes else "section-classes"
        elif OWL.ObjectProperty in types:
            kind = "section-object-properties"
        elif OWL.DatatypeProperty in types:
            kind = "section-datatype-properties"
        elif types & {OWL.AnnotationProperty, RDF.Property}:
            kind = "section-annotation-properties"
        elif SKOS.ConceptScheme in types:
            kind = "section-closed-lists"
        elif term in in_scheme:
            continue  # listed under its scheme
        else:
            kind = "section-individuals"
        kinds[term] = kind
    return kinds


def _about(r: OntologyReader, documents) -> dict:
    g, ontology = r.graph, r.ontology

    def one(prop):
        value = g.value(ontology, prop) if ontology is not None else None
        return str(value) if value is not None else None

    def link(prop):
        return [r.ref(v) for v in sorted(g.objects(ontology, prop))] if ontology is not None else []

    creators = []
    for creator in sorted(g.objects(ontology, DCTERMS.creator)) if ontology is not None else []:
        if isinstance(creator, Literal):
            creators.append(str(creator))
            continue
        url = g.value(creator, SCHEMA.url)
        creators.append(Ref(r.label(creator) or str(creator), r.urls.served(str(url or creator)), str(creator)))
    title = (r.texts(ontology, DCTERMS.title) or r.texts(ontology, RDFS.label) or ["Ontology"])[0] \
        if ontology is not None else "Ontology"
    return {
        "title": title,
        "description": (r.texts(ontology, DCTERMS.description) or [None])[0] if ontology is not None else None,
        "iri": str(ontology) if ontology is not None else None,
        "version": one(OWL.versionInfo),
        "version_iri": link(OWL.versionIRI),
        "prior_versions": link(OWL.priorVersion),
        "backward_compatible": link(OWL.backwardCompatibleWith),
        "incompatible": link(OWL.incompatibleWith),
        "created": one(DCTERMS.created),
        "modified": one(DCTERMS.modified),
        "license": link(DCTERMS.license),
        "creators": creators,
        "contributors": link(DCTERMS.contributor),
        "publisher": link(DCTERMS.publisher),
        "source": [Ref(r.label(s) or str(s), r.urls.link(str(s)), str(s)) if isinstance(s, URIRef) else str(s)
                   for s in (sorted(g.objects(ontology, DCTERMS.source)) if ontology is not None else [])],
        "see_also": link(RDFS.seeAlso),
        "imports": link(OWL.imports),
        "prefix": one(VANN.preferredNamespacePrefix),
        "namespace": one(VANN.preferredNamespaceUri),
        "documents": documents,
    }


def _entry(r: OntologyReader, term: URIRef) -> dict:
    g = r.graph
    types = set(g.objects(term, RDF.type))
    rows: list[tuple[str, list, bool]] = []

    def row(label, items):
        if items:  # class expressions one per line, names in a run
            rows.append((label, items, any(isinstance(x, Expression) for x in items)))

    badges = []
    if types & {OWL.Class, RDFS.Class}:
        badges.append("class")
        named = [s for s in g.objects(term, RDFS.subClassOf)]
        row("Subclass of", r.refs(named))
        row("Superclass of", r.refs(g.subjects(RDFS.subClassOf, term)))
        row("Equivalent to", r.refs(o for o in g.objects(term, OWL.equivalentClass) if isinstance(o, BNode)))
        row("Direct property", r.refs(g.objects(term, r.ns.haven.directProperty)))
        row("Disjoint with", r.refs({*g.objects(term, OWL.disjointWith), *g.subjects(OWL.disjointWith, term)}))
        row("Instances", r.refs(s for s in g.subjects(RDF.type, term) if r.local(s) is not None))
        row("In domain of", r.refs(s for s in g.subjects(RDFS.domain, term)))
        row("In range of", r.refs(s for s in g.subjects(RDFS.range, term)))
    for kind, name in ((OWL.ObjectProperty, "object property"), (OWL.DatatypeProperty, "datatype property"),
                       (OWL.AnnotationProperty, "annotation property")):
        if kind in types:
            badges.append(name)
    badges += [name for kind, name in CHARACTERISTICS if kind in types]
    if types & {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property}:
        row("Domain", r.refs(g.objects(term, RDFS.domain)))
        row("Range", r.refs(g.objects(term, RDFS.range)))
        row("Inverse of", r.refs({*g.objects(term, OWL.inverseOf), *g.subjects(OWL.inverseOf, term)}))
        row("Subproperty of", r.refs(g.objects(term, RDFS.subPropertyOf)))
        row("Superproperty of", r.refs(g.subjects(RDFS.subPropertyOf, term)))
        row("Qualified by", r.refs(g.subjects(r.ns.haven.directProperty, term)
                                   if not list(g.objects(term, r.ns.haven.qualifiedBy))
                                   else g.objects(term, r.ns.haven.qualifiedBy)))
        row("Derived for the role", r.refs(g.subjects(r.ns.haven.roleProperty, term)))
    if SKOS.Concept in types or OWL.NamedIndividual in types:
        badges.append("individual" if SKOS.Concept not in types else "concept")
        row("Type", r.refs(t for t in types if t not in (OWL.NamedIndividual,)))
        row("In scheme", r.refs({*g.objects(term, SKOS.inScheme), *g.objects(term, SKOS.topConceptOf)}))
    for prop, label in MATCHES:
        row(label[0].upper() + label[1:], r.refs(o for o in g.objects(term, prop) if not isinstance(o, BNode)))
    also = defaultdict(list)
    for p, o in g.predicate_objects(term):
        if p not in _SHOWN and p not in (r.ns.haven.directProperty, r.ns.haven.qualifiedBy):
            also[p].append(o)
    for p in sorted(also, key=str):
        row(compact(str(p), r.prefixes), r.refs(also[p]))
    deprecated = any(str(v).lower() in ("true", "1") for v in g.objects(term, OWL.deprecated))
    return {
        "id": r.local(term),
        "iri": str(term),
        "label": r.label(term) or r.local(term),
        "badges": badges + (["deprecated"] if deprecated else []),
        "definition": r.texts(term, SKOS.definition),
        "notes": [text for prop in _TEXTS[1:] for text in r.texts(term, prop)],
        "replaced_by": r.refs(g.objects(term, DCTERMS.isReplacedBy)),
        "rows": rows,
    }


def _ordered_members(r: OntologyReader, scheme: URIRef) -> list[URIRef]:
    """A scheme's members in the order the ontology lists them (its owl:AllDifferent axiom, which keeps the
    order of the file: Stated before Reported...), then any others by name."""
    g = r.graph
    members = _scheme_members(g, scheme)
    ordered: list[URIRef] = []
    for axiom in g.subjects(RDF.type, OWL.AllDifferent):
        for head in (*g.objects(axiom, OWL.members), *g.objects(axiom, OWL.distinctMembers)):
            listed = r.members(head)
            if members and set(listed) >= members:
                ordered = [m for m in listed if m in members]
    return ordered + sorted(members - set(ordered), key=str)


def _scheme_members(g: Graph, scheme) -> set:
    return {*g.objects(scheme, SKOS.hasTopConcept), *g.subjects(SKOS.inScheme, scheme),
            *g.subjects(SKOS.topConceptOf, scheme)}


def _scheme_entry(r: OntologyReader, scheme: URIRef, kinds) -> dict:
    entry = _entry(r, scheme)
    entry["badges"] = ["concept scheme"]
    entry["members"] = [_entry(r, m) for m in _ordered_members(r, scheme) if r.local(m) is not None
                        and kinds.get(m) is None]
    return entry


def _characteristics(r: OntologyReader, prop) -> list[str]:
    types = set(r.graph.objects(prop, RDF.type))
    return [name for kind, name in CHARACTERISTICS if kind in types]


def _pairs(r: OntologyReader) -> list[dict]:
    """Statement class ↔ direct property, as the ontology declares them (haven:directProperty on the class,
    haven:qualifiedBy on the property), with what a reader of the direct layer needs beside each."""
    g, haven = r.graph, r.ns.haven
    pairs = {(c, p) for c, p in g.subject_objects(haven.directProperty)}
    pairs |= {(c, p) for p, c in g.subject_objects(haven.qualifiedBy)}
    rows = []
    for cls, prop in pairs:
        inverses = {*g.objects(prop, OWL.inverseOf), *g.subjects(OWL.inverseOf, prop)}
        rows.append({
            "statement_class": r.ref(cls),
            "property": r.ref(prop),
            "label": r.label(prop),
            "inverse": r.refs(inverses),
            "characteristics": _characteristics(r, prop),
            "domain": r.refs(g.objects(prop, RDFS.domain)),
            "range": r.refs(g.objects(prop, RDFS.range)),
            "super": r.refs(g.objects(prop, RDFS.subPropertyOf)),
            "matches": r.refs(o for p, _ in MATCHES for o in g.objects(prop, p) if not isinstance(o, BNode)),
        })
    return sorted(rows, key=lambda row: row["statement_class"].text.lower())


def _roles(r: OntologyReader) -> list[dict]:
    g = r.graph
    return sorted(({"role": r.ref(role), "property": r.ref(prop)}
                   for role, prop in g.subject_objects(r.ns.haven.roleProperty)),
                  key=lambda row: row["role"].text.lower())


def _disjoint(r: OntologyReader) -> list[list]:
    g = r.graph
    groups = [r.refs(r.members(head)) for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses)
              for head in g.objects(axiom, OWL.members)]
    return sorted(groups, key=lambda refs: (-len(refs), [x.text for x in refs if isinstance(x, Ref)]))


def _alignments(r: OntologyReader) -> list[dict]:
    """Every link from one of the ontology's own terms to another vocabulary's term, in one table."""
    g = r.graph
    rows = []
    for prop in (RDFS.subClassOf, RDFS.subPropertyOf, *(p for p, _ in MATCHES)):
        for s, o in g.subject_objects(prop):
            if r.local(s) is not None and isinstance(o, URIRef) and r.local(o) is None:
                rows.append({"term": r.ref(s), "relation": r.ref(prop), "target": r.ref(o)})
    return sorted(rows, key=lambda row: (row["term"].text.lower(), row["relation"].text, row["target"].text))
