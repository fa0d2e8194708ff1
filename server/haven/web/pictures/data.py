"""The data behind the pictures: an entity's neighbourhood as a network, its dated statements on a timeline,
and the dataset's allegiance and sanctuary network, as plain JSON values that static/pictures.js draws.

An entity's pictures are read from the very graph its page lists (`entity_document`), and the dataset network
from the store the page is served from, so the picture and the plain list always agree, on the embedded and a
remote store alike. One edge per statement node (two statements about the same pair are two edges), from its
subject to its object in the direction of its direct property; a multiparty statement gives one edge per
party, to its subject, labelled with the party's role.

The kind of a relation is the ontology's statement class that qualifies its direct property
(`?property haven:qualifiedBy ?class`), with the family it belongs to (the class's ancestor directly under
haven:Statement): both are read from the served release, so a statement class added to the ontology is drawn
and explained in the legend without a change here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from haven.iris import UrlMap, iris_for
from haven.store.base import Store
from haven.web.entities.document import labels
from haven.web.current import current_store, settings
from haven.web.release_cache import per_release
from haven.web.entities.page import (Namer, Vocabulary, _english, format_date, is_hedged, local_name,
                                     reading)

#: the statement classes of the dataset-level network (`/network` without `kind`): allegiance given, accepted,
#: renounced or expressed as recognising a leader, and sanctuary (tests/test_pictures.py checks that the real
#: ontology still defines each of them)
NETWORK_KINDS = ("AllegiancePledge", "AllegianceAcceptance", "AllegianceRenunciation", "LeaderRecognition",
                 "SanctuaryProvision")
#: most statements the dataset network draws (the real data has a few dozen of those kinds)
MAX_NETWORK_STATEMENTS = 2000

#: haven's date precisions as the timeline names them
PRECISIONS = {"DayPrecision": "day", "MonthPrecision": "month", "YearPrecision": "year", "DecadePrecision": "decade"}


@dataclass(frozen=True)
class Kind:
    """A kind of relation: a statement class and its family, by local name and English label."""

    id: str
    label: str
    family: str
    family_label: str
    #: the class's depth below its family (0 for the family itself): sorts a family's kinds after it
    depth: int = 0


@dataclass
class StatementKinds:
    """The served ontology's statement classes: which class qualifies which direct property, and the kind of
    every class under haven:Statement."""

    by_property: dict[str, Kind] = field(default_factory=dict)
    by_class: dict[str, Kind] = field(default_factory=dict)

    def of_statement(self, graph: Graph, st, haven) -> Kind:
        """The kind of a statement node: its relation's qualifying class, else (a multiparty or one-subject
        statement) its most specific statement class, else its first type."""
        relation = graph.value(st, haven.relation)
        if relation is not None and str(relation) in self.by_property:
            return self.by_property[str(relation)]
        known = [self.by_class[str(t)] for t in graph.objects(st, RDF.type) if str(t) in self.by_class]
        if known:
            return max(known, key=lambda k: (k.depth, k.id))
        types = sorted(str(t) for t in graph.objects(st, RDF.type))
        name = local_name(types[0]) if types else "Statement"
        return Kind(id=name, label=name, family=name, family_label=name)


def load_kinds(store: Store, base: str) -> StatementKinds:
    haven = iris_for(base).haven
    statement = str(haven.Statement)
    parents: dict[str, set[str]] = {}
    for row in store.rows(f"""
SELECT DISTINCT ?class ?super WHERE {{
  ?class <{RDFS.subClassOf}> ?super . FILTER(isIRI(?class) && isIRI(?super) && ?class != ?super)
  ?class <{RDFS.subClassOf}>* <{statement}> .
}}"""):
        parents.setdefault(str(row["class"]), set()).add(str(row["super"]))
    names: dict[str, str] = {}
    for row in store.rows(f"""
SELECT ?class ?label WHERE {{
  ?class <{RDFS.subClassOf}>* <{statement}> ; <{RDFS.label}> ?label . FILTER(LANGMATCHES(LANG(?label), "en"))
}}"""):
        names.setdefault(str(row["class"]), str(row["label"]))

    def ancestors(cls: str) -> set[str]:
        seen, todo = set(), [cls]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def family_path(cls: str) -> list[str]:
        """From `cls` up to the class directly under Statement (a subclass closure in the ontology, or a class
        with two parents, still gives one path: the parents that are themselves statement classes, by IRI)."""
        path = [cls]
        while True:
            up = sorted(p for p in parents.get(path[-1], ()) if p != statement and statement in ancestors(p)
                        and p not in path)
            if not up:
                return path
            path.append(up[0])

    kinds = StatementKinds()
    for cls in parents:
        if cls == statement or statement not in ancestors(cls):
            continue
        path = family_path(cls)
        family = path[-1]
        kinds.by_class[cls] = Kind(id=local_name(cls), label=names.get(cls, local_name(cls)), family=local_name(family),
                                   family_label=names.get(family, local_name(family)), depth=len(path) - 1)
    for row in store.rows(f"SELECT ?property ?class WHERE {{ ?property <{haven}qualifiedBy> ?class }}"):
        kind = kinds.by_class.get(str(row["class"]))
        if kind is not None:
            kinds.by_property[str(row["property"])] = kind
    return kinds


def statement_kinds() -> StatementKinds:
    """The served release's statement classes and families, read once per release."""
    return per_release("statement-kinds", lambda: load_kinds(current_store(), settings().base))


def in_legend_order(kinds) -> list[Kind]:
    """Kinds families together, each family's own class first (the legend's order, which colours follow)."""
    return sorted(set(kinds), key=lambda k: (k.family_label.lower(), k.depth, k.label.lower()))


def _ordered(kinds) -> list[dict]:
    return [asdict(k) for k in in_legend_order(kinds)]


def dates(graph: Graph, node, haven, lasting: bool = True) -> dict | None:
    """A node's dates with their precision (`"year"`…, or None when the data gives none) and as the page
    writes them; None for an undated node. End only: its start is unknown. Start only: `openEnded` when the
    node is `lasting` (a statement's period, whose end the source does not give), else (an event's own date)
    it lasted the day, month or year its precision says."""
    out = {}
    for which in ("start", "end"):
        value = graph.value(node, haven[f"{which}Date"])
        precision = graph.value(node, haven[f"{which}Precision"])
        out[which] = str(value) if value is not None else None
        out[f"{which}Precision"] = PRECISIONS.get(local_name(str(precision))) if precision is not None else None
        out[f"{which}Text"] = format_date(value, precision) if value is not None else None
    if not (out["start"] or out["end"]):
        return None
    out["openEnded"] = lasting and out["end"] is None
    return out


class _Picture:
    """Nodes and edges collected for one network, named from one graph."""

    def __init__(self, namer: Namer, urls: UrlMap, haven):
        self.namer, self.urls, self.haven = namer, urls, haven
        self.nodes: dict[str, dict] = {}
        self.edges: list[dict] = []
        self.kinds: set[Kind] = set()

    def node(self, term, focus: bool = False) -> str:
        key = str(term)
        if key not in self.nodes:
            self.nodes[key] = {"id": key, "label": self.namer.name(term), "href": self.urls.link(key), "focus": focus}
        return key

    def statement(self, st, kind: Kind, certainties) -> dict:
        """What an edge and a timeline item say about their statement node."""
        self.kinds.add(kind)
        certainty = sorted(local_name(str(c)) for c in certainties)
        return {"statement": str(st), "href": self.urls.link(str(st)), "kind": kind.id,
                "certainty": certainty[0] if certainty else None, "hedged": is_hedged(certainties, self.haven)}

    def edge(self, st, source, target, label: str, about: dict, suffix: str = "") -> None:
        self.edges.append({"id": str(st) + suffix, "source": self.node(source), "target": self.node(target),
                           "label": label, **about})

    def value(self) -> dict:
        return {"kinds": _ordered(self.kinds), "nodes": sorted(self.nodes.values(), key=lambda n: n["id"]),
                "edges": sorted(self.edges, key=lambda e: e["id"])}


def entity_pictures(graph: Graph, iri: URIRef, statements: list[URIRef], vocab: Vocabulary,
                    kinds: StatementKinds, urls: UrlMap) -> dict:
    """`{"entity", "kinds", "nodes", "edges", "timeline"}` for the entity page of `iri`, from its document."""
    haven = iris_for(urls.base).haven
    namer = Namer(graph, vocab, urls)
    picture = _Picture(namer, urls, haven)
    picture.node(iri, focus=True)
    items = []
    # the page of a statement node shows its own period, which runs on like any statement's; an event's date does not
    own = dates(graph, iri, haven, lasting=graph.value(iri, haven.certainty) is not None)
    if own:
        items.append({"id": str(iri), "text": namer.name(iri), "statement": None, "href": None, "kind": None,
                      "certainty": None, "hedged": False, **own})
    for st in statements:
        kind = kinds.of_statement(graph, st, haven)
        about = picture.statement(st, kind, list(graph.objects(st, haven.certainty)))
        relation = graph.value(st, haven.relation)
        subj, obj = graph.value(st, haven.subject), graph.value(st, haven.object)
        parties = [(graph.value(inv, haven.participant), graph.value(inv, haven.role))
                   for inv in graph.objects(st, haven.involves)]
        if isinstance(subj, URIRef) and isinstance(obj, URIRef) and relation is not None:
            picture.edge(st, subj, obj, namer.prop_label(relation), about)
        elif isinstance(subj, URIRef):
            for party, role in sorted(parties, key=lambda p: str(p[0])):
                if isinstance(party, URIRef):
                    picture.edge(st, party, subj, namer.name(role) if role is not None else kind.label, about,
                                 suffix=" " + str(party))
        dated = dates(graph, st, haven)
        if dated:
            items.append({"id": str(st), "text": _item_text(graph, st, iri, kind, namer, vocab, haven), **about,
                          **dated})
    value = picture.value()
    value["entity"] = str(iri)
    value["timeline"] = sorted(items, key=lambda i: (i["start"] or i["end"], i["id"]))
    return value


def _item_text(graph: Graph, st, iri, kind: Kind, namer: Namer, vocab: Vocabulary, haven) -> str:
    """A timeline item's words, as read from the entity: "received sanctuary from Taliban", "Name: Maosud"."""
    read = reading(graph, st, iri, namer, vocab, haven)
    if read is not None:
        return f"{read[0]} {namer.name(read[1])}"
    subj = graph.value(st, haven.subject)
    names = _english(graph.objects(st, haven.name))
    parts = [kind.label]
    if subj is not None and subj != iri:
        parts.append(namer.name(subj))
    return ": ".join(parts + names[:1])


def dataset_network(store: Store, urls: UrlMap, vocab: Vocabulary, kinds: StatementKinds,
                    kind_ids: tuple[str, ...] = NETWORK_KINDS) -> dict:
    """`{"kinds", "nodes", "edges", "capped"}`: every statement of those kinds in the served release."""
    haven = iris_for(urls.base).haven
    classes = sorted(cls for cls, kind in kinds.by_class.items() if kind.id in kind_ids)
    graph = Graph()
    if classes:
        values = " ".join(f"<{c}>" for c in classes)
        graph = store.graph(f"""
CONSTRUCT {{ ?st <{haven}relation> ?relation ; <{haven}subject> ?s ; <{haven}object> ?o ; <{haven}certainty> ?c ;
    <{haven}startDate> ?start ; <{haven}startPrecision> ?sp ; <{haven}endDate> ?end ; <{haven}endPrecision> ?ep . }}
WHERE {{
  {{ SELECT DISTINCT ?st ?relation WHERE {{
       VALUES ?class {{ {values} }} ?relation <{haven}qualifiedBy> ?class . ?st <{haven}relation> ?relation .
     }} ORDER BY ?st LIMIT {MAX_NETWORK_STATEMENTS + 1} }}
  ?st <{haven}subject> ?s ; <{haven}object> ?o .
  OPTIONAL {{ ?st <{haven}certainty> ?c }}
  OPTIONAL {{ ?st <{haven}startDate> ?start }} OPTIONAL {{ ?st <{haven}startPrecision> ?sp }}
  OPTIONAL {{ ?st <{haven}endDate> ?end }} OPTIONAL {{ ?st <{haven}endPrecision> ?ep }}
}}""")
    statements = sorted(set(graph.subjects(haven.relation, None)))
    capped = len(statements) > MAX_NETWORK_STATEMENTS
    statements = statements[:MAX_NETWORK_STATEMENTS]
    graph += labels(store, {t for st in statements for t in graph.objects(st, None) if isinstance(t, URIRef)})
    namer = Namer(graph, vocab, urls)
    picture = _Picture(namer, urls, haven)
    for st in statements:
        relation, subj, obj = (graph.value(st, haven[p]) for p in ("relation", "subject", "object"))
        about = picture.statement(st, kinds.of_statement(graph, st, haven), list(graph.objects(st, haven.certainty)))
        about["dates"] = dates(graph, st, haven)
        picture.edge(st, subj, obj, namer.prop_label(relation), about)
    value = picture.value()
    value["capped"] = capped
    return value
