"""What an entity page shows, computed from its RDF document and the ontology's vocabulary.

Templates get plain dicts and lists (names, links, grouped relations), so that all RDF reasoning stays in
Python and the Jinja files only lay things out. Links go through `UrlMap.link`, so they point at the
serving host while the RDF keeps canonical IRIs.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VOID

from haven.iris import FIRM_CERTAINTIES, OA, ORG, SCHEMA, UrlMap, iris_for, is_web_url
from haven.store.base import Store
from haven.web.current import current_store, settings
from haven.web.release_cache import per_release


@dataclass
class Vocabulary:
    """The parts of the ontology a page needs: names of terms, inverses, symmetric and derived properties."""

    labels: dict[str, str] = field(default_factory=dict)
    inverse: dict[str, str] = field(default_factory=dict)
    symmetric: set[str] = field(default_factory=set)
    #: direct-layer properties (qualified by a statement class, their inverses and super-properties): shown
    #: through the statement nodes, so the page does not list their derived triples a second time
    relational: set[str] = field(default_factory=set)
    #: class → the schema.org classes it is a subclass of (the ontology's alignments), for search engines
    schema_types: dict[str, list[str]] = field(default_factory=dict)


def load_vocabulary(store: Store, base: str) -> Vocabulary:
    haven = iris_for(base).haven
    vocab = Vocabulary()
    for row in store.rows(f"""
SELECT ?term ?label WHERE {{
  ?term <{RDFS.label}> ?label . FILTER(STRSTARTS(STR(?term), "{haven}") && LANGMATCHES(LANG(?label), "en"))
}}"""):
        vocab.labels[str(row["term"])] = str(row["label"])
    for row in store.rows(f"SELECT ?p ?q WHERE {{ ?p <{OWL.inverseOf}> ?q }}"):
        p, q = str(row["p"]), str(row["q"])
        vocab.inverse.setdefault(p, q)
        vocab.inverse.setdefault(q, p)
    for row in store.rows(f"SELECT ?p WHERE {{ ?p a <{OWL.SymmetricProperty}> }}"):
        vocab.symmetric.add(str(row["p"]))
    for row in store.rows(f"""
SELECT DISTINCT ?p WHERE {{
  ?q <{haven}qualifiedBy> ?c . ?q <{RDFS.subPropertyOf}>* ?p
}}"""):
        vocab.relational.add(str(row["p"]))
    vocab.relational |= {vocab.inverse[p] for p in list(vocab.relational) if p in vocab.inverse}
    for row in store.rows(f"""
SELECT DISTINCT ?class ?schema WHERE {{
  ?class a <{OWL.Class}> .
  ?class <{RDFS.subClassOf}>* ?schema . FILTER(STRSTARTS(STR(?schema), "{SCHEMA}"))
}}"""):  # the path starts from a bound class: Virtuoso refuses a transitive path with neither end given
        vocab.schema_types.setdefault(str(row["class"]), []).append(str(row["schema"])[len(str(SCHEMA)):])
    return vocab


def vocabulary() -> Vocabulary:
    """The served release's vocabulary, loaded once per release."""
    return per_release("vocabulary", lambda: load_vocabulary(current_store(), settings().base))


#: readable names of the other vocabularies' properties a page shows (Haven's come from the ontology)
EXTERNAL_LABELS = {
    str(PROV.wasDerivedFrom): "derived from", str(PROV.wasAttributedTo): "attributed to",
    str(DCTERMS.creator): "creator", str(DCTERMS.publisher): "publisher", str(DCTERMS.title): "title",
    str(DCTERMS.language): "language", str(DCTERMS.source): "source", str(DCTERMS.extent): "extent",
    str(SKOS.inScheme): "in scheme", str(SKOS.broader): "broader", str(OWL.sameAs): "same as",
    str(FOAF.primaryTopic): "primary topic", str(VOID.exampleResource): "example resource of",
    str(ORG.headOf): "head of", str(ORG.memberOf): "member of",
}


# -- small helpers ---------------------------------------------------------------------------------------

def _english(values) -> list[str]:
    """Literal values, English (or untagged) first, as strings, without duplicates."""
    lits = [v for v in values if isinstance(v, Literal)]
    lits.sort(key=lambda v: (v.language not in (None, "en"), str(v)))
    seen, out = set(), []
    for v in lits:
        if str(v) not in seen:
            seen.add(str(v))
            out.append(str(v))
    return out


def local_name(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1] or iri
    return iri


class Namer:
    """Names and links for the nodes of one document."""

    def __init__(self, graph: Graph, vocab: Vocabulary, urls: UrlMap):
        self.graph, self.vocab, self.urls = graph, vocab, urls

    def name(self, node) -> str:
        if isinstance(node, Literal):
            return str(node)
        for prop in (SKOS.prefLabel, RDFS.label):
            found = _english(self.graph.objects(node, prop))
            if found:
                return found[0]
        if str(node) in EXTERNAL_LABELS:
            return EXTERNAL_LABELS[str(node)]
        statement = self._statement_title(node)
        if statement:
            return statement
        if str(node) in self.vocab.labels:
            return self.vocab.labels[str(node)]
        return local_name(str(node))

    def _statement_title(self, st) -> str | None:
        """A statement node has no name of its own: read it as "subject relation object"."""
        haven = iris_for(self.urls.base).haven
        parts = [self.graph.value(st, haven.subject), self.graph.value(st, haven.relation),
                 self.graph.value(st, haven.object)]
        if any(p is None for p in parts) or st in parts:
            return None
        return f"{self.name(parts[0])} {self.prop_label(parts[1])} {self.name(parts[2])}"

    def ref(self, node) -> dict:
        """{text, href, iri} for a resource, {text} for a literal."""
        if isinstance(node, Literal):
            return {"text": str(node), "datatype": local_name(str(node.datatype)) if node.datatype else None}
        if isinstance(node, BNode):
            return {"text": "(anonymous)"}
        return {"text": self.name(node), "href": self.urls.link(str(node)), "iri": str(node)}

    def prop_label(self, prop) -> str:
        return self.vocab.labels.get(str(prop)) or EXTERNAL_LABELS.get(str(prop)) or self.name(prop)


_PRECISION_FORMAT = {"DayPrecision": 10, "MonthPrecision": 7, "YearPrecision": 4}


def format_date(value, precision) -> str:
    """A date shown only as far as the source is precise: 1996, 1996-09, 1990s."""
    text = str(value)
    name = local_name(str(precision)) if precision is not None else None
    if name == "DecadePrecision" and len(text) >= 4:
        return text[:3] + "0s"
    if name in _PRECISION_FORMAT:
        return text[:_PRECISION_FORMAT[name]]
    return text


def evidence(graph: Graph, node, namer: Namer, haven) -> list[dict]:
    out = []
    for ev in graph.objects(node, haven.evidence):
        source = graph.value(ev, OA.hasSource)
        selector = graph.value(ev, OA.hasSelector)
        out.append({
            "source": namer.ref(source) if source is not None else None,
            "locator": ", ".join(_english(graph.objects(ev, haven.locator))),
            "start": graph.value(selector, OA.start) if selector is not None else None,
            "end": graph.value(selector, OA.end) if selector is not None else None,
        })
    out.sort(key=lambda e: (e["locator"], str(e["start"])))
    return out


# -- the page ----------------------------------------------------------------------------------------------

# shown in their own sections of the page rather than in the table of other facts
_PRESENTED = {RDF.type, SKOS.prefLabel, SKOS.altLabel, RDFS.label, SKOS.definition, RDFS.comment,
              SKOS.exactMatch}


def entity_view(graph: Graph, iri: URIRef, vocab: Vocabulary, urls: UrlMap, statements: list[URIRef]) -> dict:
    ns = iris_for(urls.base)
    haven = ns.haven
    namer = Namer(graph, vocab, urls)
    presented = _PRESENTED | {haven.wikidata, haven.dbpedia, haven.evidence}

    external = []
    for prop, site in ((haven.wikidata, "Wikidata"), (haven.dbpedia, "DBpedia")):
        for target in sorted(graph.objects(iri, prop)):
            external.append({"site": site, "iri": str(target), "href": urls.served(str(target))})
    for target in sorted(graph.objects(iri, SKOS.exactMatch)):
        if not any(e["iri"] == str(target) for e in external):
            external.append({"site": local_name(str(target)), "iri": str(target), "href": urls.served(str(target))})

    types = [namer.ref(t) for t in sorted(graph.objects(iri, RDF.type))]
    title = namer.name(iri)

    facts = defaultdict(list)
    for prop, value in sorted(graph.predicate_objects(iri)):
        if prop in presented or str(prop) in vocab.relational or isinstance(value, BNode):
            continue
        facts[namer.prop_label(prop)].append(namer.ref(value))

    incoming = defaultdict(list)
    for subj, prop in sorted(graph.subject_predicates(iri)):
        if prop in (haven.subject, haven.object, FOAF.primaryTopic) or str(prop) in vocab.relational:
            continue
        incoming[namer.prop_label(prop)].append(namer.ref(subj))

    return {
        "iri": str(iri),
        "title": title,
        "alt_labels": sorted(set(_english(graph.objects(iri, SKOS.altLabel))) - {title}),
        "types": types,
        "definitions": _english(graph.objects(iri, SKOS.definition)) + _english(graph.objects(iri, RDFS.comment)),
        "external": external,
        "facts": sorted(facts.items()),
        "evidence": evidence(graph, iri, namer, haven),
        "relations": _relations(graph, iri, statements, namer, vocab, haven),
        "incoming": sorted(incoming.items()),
    }


def search_summary(view: dict, graph: Graph, iri: URIRef, vocab: Vocabulary, urls: UrlMap) -> dict:
    """The few schema.org facts a search engine reads from a page (its name, what it is, a description and
    the same thing elsewhere); the full description is the linked JSON-LD document, not a copy in the page."""
    types = sorted({t for c in graph.objects(iri, RDF.type) for t in vocab.schema_types.get(str(c), ())})
    summary = {"@context": "https://schema.org", "@type": types[0] if len(types) == 1 else types or "Thing",
               "@id": view["iri"], "name": view["title"], "url": urls.link(view["iri"])}
    if view["definitions"]:
        summary["description"] = view["definitions"][0]
    if view["alt_labels"]:
        summary["alternateName"] = view["alt_labels"]
    same_as = [e["iri"] for e in view["external"] if is_web_url(e["iri"])]
    if same_as:
        summary["sameAs"] = same_as
    return summary


def _relations(graph: Graph, iri, statements, namer: Namer, vocab: Vocabulary, haven) -> list[dict]:
    """Statement nodes grouped by the relation as read from this entity: outgoing by the property's label,
    incoming by its inverse's label (or its own when symmetric)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for st in statements:
        relation = graph.value(st, haven.relation)
        subj, obj = graph.value(st, haven.subject), graph.value(st, haven.object)
        if relation is None and subj is not None and graph.value(st, haven.involves) is not None:
            # a multiparty statement: grouped by this entity's role (or "involved parties" for its subject),
            # with every party and its role, so that no party is lost
            roles = [graph.value(inv, haven.role) for inv in graph.objects(st, haven.involves)
                     if graph.value(inv, haven.participant) == iri]
            kind = "involved parties" if subj == iri else "as " + ", ".join(sorted(namer.name(r) for r in roles if r))
            entry = _statement_entry(graph, st, subj, namer, haven)
            entry["parties"] = sorted(
                ({"party": namer.ref(graph.value(inv, haven.participant)), "role": namer.name(graph.value(inv, haven.role))}
                 for inv in graph.objects(st, haven.involves) if graph.value(inv, haven.participant) is not None),
                key=lambda p: (p["role"], p["party"]["text"]))
            groups[kind].append(entry)
            continue
        read = reading(graph, st, iri, namer, vocab, haven)
        if read is None:
            continue
        kind, other = read
        groups[kind].append(_statement_entry(graph, st, other, namer, haven))
    return [{"kind": kind, "entries": sorted(entries, key=lambda e: (e["other"]["text"], e["start"] or ""))}
            for kind, entries in sorted(groups.items())]


def reading(graph: Graph, st, iri, namer: Namer, vocab: Vocabulary, haven) -> tuple[str, object] | None:
    """A binary statement as read from `iri`, one of its two parties: (the relation's label in that direction,
    the other party); None for a statement that is not binary."""
    relation = graph.value(st, haven.relation)
    subj, obj = graph.value(st, haven.subject), graph.value(st, haven.object)
    if relation is None or subj is None or obj is None:
        return None
    if subj == iri:
        return namer.prop_label(relation), obj
    rel = str(relation)
    if rel in vocab.symmetric:
        return namer.prop_label(relation), subj
    if rel in vocab.inverse:
        return namer.prop_label(URIRef(vocab.inverse[rel])), subj
    return f"is the object of “{namer.prop_label(relation)}”", subj


def is_hedged(certainties, haven) -> bool:
    """A statement whose direct triples are in hg:hedged, outside the default graph, unless a firm (stated or
    reported) statement backs them too: one that no firm certainty qualifies."""
    return not any(str(c) == str(haven[level]) for c in certainties for level in FIRM_CERTAINTIES)


def _statement_entry(graph: Graph, st, other, namer: Namer, haven) -> dict:
    def date(which):
        value = graph.value(st, haven[f"{which}Date"])
        if value is None:
            return None
        precision = graph.value(st, haven[f"{which}Precision"])
        return format_date(value, precision)

    def refs(prop):
        return [namer.ref(v) for v in sorted(graph.objects(st, prop))]

    return {
        "statement": namer.ref(st),
        "type": [namer.ref(t) for t in sorted(graph.objects(st, RDF.type))],
        "other": namer.ref(other),
        "start": date("start"),
        "end": date("end"),
        "places": refs(haven.place),
        "certainty": refs(haven.certainty),
        "hedged": is_hedged(graph.objects(st, haven.certainty), haven),
        "attributed_to": refs(haven.attributedTo),
        "on_behalf_of": refs(haven.onBehalfOf),
        "role": _english(graph.objects(st, haven.roleTitle)),
        "term": _english(graph.objects(st, haven.term)),
        "footnotes": sorted(str(v) for v in graph.objects(st, haven.footnote)),
        "summary": _english(graph.objects(st, haven.summary)),
        "discrepancy": _english(graph.objects(st, haven.discrepancy)),
        "evidence": evidence(graph, st, namer, haven),
    }

