"""An entity's RDF document as JSON-LD a plain-JSON reader can use: one object, the entity, with the rest
nested under it.

A flat ``@graph`` of a few hundred nodes buries the entity; here the top-level object *is* the entity
(``id`` first), and every other triple of the document hangs off it:

* its blank nodes (evidence → selector) are embedded where they are used;
* the statement nodes that qualify it are nested under the reverse terms of the published context
  (``subjectOf``, ``objectOf``, ``participantOf`` → ``involvedIn``), as are the document that describes it
  (``primaryTopicOf``) and any other resource pointing at it (``@reverse``);
* another entity is shown by reference together with its names (``{"id": "hid:taliban", "label": …}``),
  repeated wherever it appears, so that no reader has to look a name up elsewhere;
* what hangs off nothing in that tree (the names of the vocabulary terms the document uses) goes into
  ``@included``.

Keys and values are compacted term by term by rdflib's own JSON-LD serialiser against the published context,
so the document is the same RDF as the Turtle one (tests/test_entity_jsonld.py checks both with rdflib and
with PyLD).
"""
from __future__ import annotations

from collections import defaultdict

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.plugins.serializers.jsonld import Converter
from rdflib.plugins.shared.jsonld.context import Context
from rdflib.plugins.shared.jsonld.keys import SET

#: the properties that only name a resource: a resource with nothing else is shown inline where it is used
NAMING = (RDFS.label, SKOS.prefLabel)


class _TreeWriter:
    def __init__(self, graph: Graph, root: URIRef, context: dict, vocabulary_ns: str):
        self.graph, self.root, self.vocabulary_ns = graph, root, vocabulary_ns
        self.context = Context(context)
        self.converter = Converter(self.context, use_native_types=False, use_rdf_type=False)
        self.reverse_terms = {term.id: term for term in self.context.terms.values() if term.reverse}
        self.written: set[tuple] = set()
        self.placed: set = set()

    # -- compaction, one triple at a time (rdflib's term selection against the published context) ----------

    def _key_and_value(self, s, p, o):
        scratch: dict = {}
        self.converter.add_to_node(self.graph, s, p, o, scratch, {})
        ((key, value),) = scratch.items()
        return key, value

    def _id(self, node) -> str:
        return node.n3() if isinstance(node, BNode) else self.context.shrink_iri(str(node))

    @staticmethod
    def _add(obj: dict, key: str, value) -> None:
        if key not in obj:
            obj[key] = value
        elif isinstance(obj[key], list):
            obj[key].append(value)
        else:
            obj[key] = [obj[key], value]

    # -- what a resource is ---------------------------------------------------------------------------------

    def _own(self, node) -> list[tuple]:
        """`node`'s triples, except those pointing at the root: the root lists those as its reverse."""
        return sorted((node, p, o) for p, o in self.graph.predicate_objects(node)
                      if o != self.root or node == self.root)

    def _is_name_only(self, node) -> bool:
        """An entity (not a vocabulary term) described by nothing but its names here: shown inline."""
        own = self._own(node)
        return (isinstance(node, URIRef) and not str(node).startswith(self.vocabulary_ns) and node != self.root
                and bool(own) and all(p in NAMING for _, p, _ in own))

    def _reference(self, node):
        """An object embedded where it is used: a blank node not shown yet, whole; an entity known here only
        by its names, with them (each time). None: the compacted reference will do."""
        if isinstance(node, Literal):
            return None
        if node not in self.placed and isinstance(node, BNode):
            return self.node(node)
        if self._is_name_only(node):
            named = {self.context.id_key: self._id(node)}
            for triple in self._own(node):
                self.written.add(triple)
                key, value = self._key_and_value(*triple)
                self._add(named, key, value)
            return named
        return None

    # -- the tree -----------------------------------------------------------------------------------------

    def node(self, node) -> dict:
        self.placed.add(node)
        obj: dict = {}
        for triple in [(node, RDF.type, t) for t in sorted(self.graph.objects(node, RDF.type))] + self._own(node):
            if triple in self.written:
                continue
            self.written.add(triple)
            key, value = self._key_and_value(*triple)
            embedded = None if triple[1] == RDF.type else self._reference(triple[2])
            self._add(obj, key, value if embedded is None else embedded)
        # id and type first, then the properties by name; a blank node used once needs no id to be found
        ordered = {} if self._anonymous(node) else {self.context.id_key: self._id(node)}
        if self.context.type_key in obj:
            ordered[self.context.type_key] = obj.pop(self.context.type_key)
        ordered.update(sorted(obj.items(), key=lambda item: item[0].lower()))
        self._add_reverse(node, ordered)
        return ordered

    def _anonymous(self, node) -> bool:
        """A blank node that appears once (where it is embedded): the root's reverse list names any blank
        node pointing at the root, so that one keeps its id."""
        return (isinstance(node, BNode) and sum(1 for _ in self.graph.subject_predicates(node)) == 1
                and (node, None, self.root) not in self.graph)

    def _add_reverse(self, node, obj: dict) -> None:
        """The triples pointing at `node` that its subject does not show itself, nested under `node`: under
        the context's reverse term for the property when it has one, else under ``@reverse``. The root shows
        every triple pointing at it; another node only those from resources not shown yet."""
        incoming = defaultdict(list)
        # the links the context names (statements, participations) first, so that a statement is nested
        # where a reader looks for it rather than under whichever blank node happens to come first
        ranked = sorted(self.graph.subject_predicates(node),
                        key=lambda sp: (str(sp[1]) not in self.reverse_terms, isinstance(sp[0], BNode), sp))
        for s, p in ranked:
            if (s, p, node) in self.written or s == node or p == RDF.type:
                continue
            if node != self.root and s in self.placed:
                continue  # s is being or has been written, and shows this triple itself
            self.written.add((s, p, node))
            if self._is_name_only(s):
                value = self._reference(s)
            elif s not in self.placed:
                value = self.node(s)
            else:
                value = {self.context.id_key: self._id(s)}
            incoming[p].append(value)
        for p, values in incoming.items():
            term = self.reverse_terms.get(str(p))
            if term is not None:
                obj[term.name] = values if len(values) > 1 or SET in term.container else values[0]
            else:
                key, _ = self._key_and_value(node, p, node)
                obj.setdefault("@reverse", {})[key] = values if len(values) > 1 else values[0]

    def document(self) -> dict:
        tree = self.node(self.root)
        rest = sorted({t[0] for t in self.graph if t not in self.written})
        included = []
        for subject in rest:
            if any(t not in self.written for t in self.graph.triples((subject, None, None))):
                self.placed.discard(subject)  # a name shown inline elsewhere still gets its own entry
                included.append(self.node(subject))
        if included:
            tree["@included"] = included
        return tree


def entity_tree(graph: Graph, root: URIRef, context: dict, vocabulary_ns: str) -> dict:
    """The document `graph` about `root` as one compacted JSON-LD object (without its ``@context``)."""
    return _TreeWriter(graph, root, context, vocabulary_ns).document()
