"""Answers as bytes and as terms, for every store: the serialisers of client answers (capped, with Haven's
prefixes and capping notes) and the term converters (pyoxigraph → SPARQL JSON, pyoxigraph → rdflib).

The query worker and the remote store serialise with the same functions, so an answer does not depend on the
backend. The worker imports this module, which must therefore not import rdflib at load time (item of
`haven.terms`): `to_rdflib` loads it on its first call, which only the server's own queries make.
"""
from __future__ import annotations

import json

import pyoxigraph as ox

from haven import formats
from haven.terms import PLAIN_STRING_TYPES


def oxigraph_format(fmt: formats.Format):
    """pyoxigraph's constant for `fmt` (``RdfFormat`` for RDF, ``QueryResultsFormat`` for SPARQL results)."""
    if fmt.oxigraph is None:
        raise ValueError(f"pyoxigraph has no {fmt.label} format")
    family = ox.QueryResultsFormat if fmt.kind == "results" else ox.RdfFormat
    return getattr(family, fmt.oxigraph)


def take(iterator, limit: int | None) -> tuple[list, bool]:
    """At most `limit` items, and whether more were available (one extra item is read to know)."""
    items = []
    for item in iterator:
        if limit is not None and len(items) >= limit:
            return items, True
        items.append(item)
    return items, False


def serialize_solutions(solutions, fmt: formats.Format, limit: int | None, cap_link: str | None):
    """SELECT solutions (pyoxigraph's, or any iterable of rows with `.variables`, each row indexed by the
    position of a variable in `.variables`) → (bytes, capped).

    Rows are read by position: pyoxigraph looks a `Variable` key up about ten times slower than an index, and
    this loop is most of the cost of a small answer (measured: 50 rows of 3 terms, 1.2 ms by variable, 0.3 ms
    by position)."""
    names = [v.value for v in solutions.variables]
    columns = tuple(enumerate(names))
    rows, capped = take(solutions, limit)
    head: dict = {"vars": names}
    if capped and cap_link:
        # SPARQL JSON/XML results allow links to metadata in the head; it points at the limit's description
        head["link"] = [cap_link]
    bindings = []
    for row in rows:
        binding = {}
        for index, name in columns:
            term = row[index]
            if term is not None:
                binding[name] = term_json(term)
        bindings.append(binding)
    body = json.dumps({"head": head, "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")
    if fmt is formats.SPARQL_JSON:
        return body, capped
    # pyoxigraph's own writers for the other formats, fed from the capped rows
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    out = parsed.serialize(format=oxigraph_format(fmt))
    if fmt is formats.SPARQL_XML and capped and cap_link:
        out = out.replace(b"</head>", b'<link href="' + xml_attr(cap_link) + b'"/></head>', 1)
    return out, capped


def serialize_boolean(answer, fmt: formats.Format) -> bytes:
    return answer.serialize(format=oxigraph_format(fmt))


def serialize_triples(triples, fmt: formats.Format, limit: int | None, prefixes: dict) -> tuple[bytes, bool]:
    kept, capped = take(triples, limit)
    options = {"prefixes": prefixes} if fmt.prefixed and prefixes else {}
    body = ox.serialize(kept, format=oxigraph_format(fmt), **options) or b""
    if capped:
        note = f"Haven: result capped at {limit} triples (see the Haven-Result-Capped header)"
        if fmt in (formats.TURTLE, formats.N_TRIPLES):
            body = f"# {note}\n".encode() + body
        elif fmt is formats.RDF_XML:
            head, sep, rest = body.partition(b"?>")
            body = head + sep + f"\n<!-- {note} -->".encode() + rest if sep else body
    return body, capped


def term_json(term) -> dict:
    """A pyoxigraph term as a SPARQL 1.1 JSON results binding (RDF-star triples included)."""
    kind = type(term)  # pyoxigraph's term classes are final: an exact type test, cheaper than isinstance chains
    if kind is ox.NamedNode:
        return {"type": "uri", "value": term.value}
    if kind is ox.Literal:
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in PLAIN_STRING_TYPES:
            out["datatype"] = term.datatype.value
        return out
    if kind is ox.BlankNode:
        return {"type": "bnode", "value": term.value}
    if kind is ox.Triple:
        return {
            "type": "triple",
            "value": {
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    raise TypeError(f"unexpected term {term!r}")


def xml_attr(value: str) -> bytes:
    escaped = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.encode("utf-8")


def to_rdflib(term):
    """A pyoxigraph term as the equal rdflib term (a plain string without datatype, as rdflib parses it);
    None (an unbound variable) stays None."""
    if term is None:
        return None
    rdflib = _rdflib()
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype in PLAIN_STRING_TYPES:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype))
    raise TypeError(f"no rdflib equivalent for {term!r}")


_RDFLIB = None


def _rdflib():
    # loaded on the first conversion, not at import: the query worker imports this module for its
    # serialisers and never converts to rdflib, and rdflib costs it most of its start-up
    global _RDFLIB
    if _RDFLIB is None:
        import rdflib

        _RDFLIB = rdflib
    return _RDFLIB
