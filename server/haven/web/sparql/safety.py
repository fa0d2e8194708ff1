"""Checks on untrusted SPARQL text before anything evaluates it.

Why this exists: pyoxigraph *does* evaluate ``SERVICE <http://...>`` by opening an HTTP connection (checked
with a listening socket), and it would happily run an update if one ever reached ``Store.update``. So a
client query is inspected first:

* a SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is refused: the endpoint is read-only;
* ``SERVICE`` anywhere is refused before evaluation: the server never becomes a proxy;
* the query form (SELECT/ASK/CONSTRUCT/DESCRIBE) is read so that the answer format can be negotiated
  before the query runs, and whether the query names its own dataset (FROM / FROM NAMED).

The fast path is a real tokenizer (strings, IRIs, comments, prefixed names and variables are tokens, so
the word "service" inside them is not a keyword) run after SPARQL's ``\\uXXXX`` unescaping, which the
grammar applies to the whole query text. A tokenizer can disagree with a parser where ``<`` is ambiguous
(less-than vs. the start of an IRI), so whenever the text mentions "service" anywhere without the
tokenizer seeing the keyword, rdflib's parser decides; if it cannot parse the query, the query is refused.
FROM <remote> needs no check: pyoxigraph reads FROM graphs from the store only (an unknown graph is empty).
"""
from __future__ import annotations

from dataclasses import dataclass

from haven.sparqltext import keywords, tokens, unescape  # noqa: F401  (re-exported for callers)
from haven.store.base import QueryRefused

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})

UPDATE_MESSAGE = (
    "This SPARQL endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) is not accepted."
)
SERVICE_MESSAGE = (
    "Federated queries are not accepted here: SERVICE would make this server fetch data from elsewhere."
)

@dataclass(frozen=True)
class QueryInfo:
    #: "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", or None when the text is no recognisable query
    form: str | None
    #: the query names its own dataset with FROM or FROM NAMED
    has_dataset_clause: bool


def inspect(query: str) -> QueryInfo:
    """Classify an untrusted query; raises QueryRefused for updates and SERVICE."""
    text = unescape(query)
    words = keywords(text)
    form = _first_operation(words)
    if form in UPDATE_KEYWORDS:
        raise QueryRefused(UPDATE_MESSAGE)
    if "SERVICE" in words or ("service" in text.lower() and _parser_sees_service(text)):
        raise QueryRefused(SERVICE_MESSAGE)
    return QueryInfo(form=form if form in QUERY_FORMS else None, has_dataset_clause="FROM" in words)


def _first_operation(words: list[str]) -> str | None:
    # The prologue (BASE <iri>, PREFIX p: <iri>) contributes only these two bare words.
    for word in words:
        if word not in {"BASE", "PREFIX"}:
            return word
    return None


def _parser_sees_service(text: str) -> bool:
    """True when rdflib's parser finds a SERVICE pattern, or cannot parse the text at all (refuse when unsure).

    Imported here, not at module level: this slow path (~20 ms a query) runs only for texts mentioning "service".
    """
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(text)
    except (ParseException, ValueError, TypeError, KeyError):
        return True
    return _contains_service(tree)


def _contains_service(node) -> bool:
    if getattr(node, "name", None) == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_contains_service(v) for v in node.values())
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return any(_contains_service(v) for v in node)
    return False
