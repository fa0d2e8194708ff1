"""Checks on untrusted SPARQL text before anything evaluates it.

Why this exists: pyoxigraph *does* evaluate ``SERVICE <http://...>`` by opening an HTTP connection (checked
with a listening socket), and it would happily run an update if one ever reached ``Store.update``. So a
client query is inspected first:

* a SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is refused: the endpoint is read-only;
* ``SERVICE`` anywhere is refused before evaluation: the server never becomes a proxy;
* nesting deeper than `MAX_NESTING` is refused (400): a parser recurses once per level, and past a few
  thousand levels Oxigraph's overflows its stack and takes its process down;
* the query form (SELECT/ASK/CONSTRUCT/DESCRIBE) is read so that the answer format can be negotiated
  before the query runs, and whether the query names its own dataset (FROM / FROM NAMED).

All of it comes from one pass of the tokenizer (`haven.sparqltext.scan`, run after SPARQL's ``\\uXXXX``
unescaping, which the grammar applies to the whole query text): linear in the text, no recursion, no
parser in this process. Client text is parsed only by the store's parser, in a process that can be killed
(the embedded store's query workers, the remote store's syntax checkers).

The SERVICE check errs on the side of refusing, because Oxigraph's parser reads keywords without a word
boundary: ``SERVICESILENT <x> {}``, ``SERVICEx:a {}`` and ``?s ?p trueSERVICE <x> {}`` are all SERVICE
patterns to it. So any bare word or prefix in use that *contains* "service" is refused (no SPARQL keyword
or function contains it; a declared ``PREFIX service:`` is fine, using it is not). And where an IRI-shaped
token could be a less-than comparison that hides text from the tokenizer (`Scan.uncertain_from`), the
query is refused if "service" occurs anywhere after it. A word in a string, an IRI or a comment is fine.
FROM <remote> needs no check: pyoxigraph reads FROM graphs from the store only (an unknown graph is empty).
"""
from __future__ import annotations

from dataclasses import dataclass

from haven.sparqltext import Scan, keywords, scan, tokens, unescape  # noqa: F401  (re-exported for callers)
from haven.store.base import QueryRefused, QueryTooComplex

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
#: the deepest nesting of { ( [ accepted. Oxigraph's parser needs up to ~8 KiB of stack a level (nested
#: function calls cost most); at this depth that is 1 MiB, well inside the 8 MiB a process's main thread has
#: (Oxigraph's server dies at ~1,000 nested CONCAT( or 2,500 nested groups). Real queries nest a dozen levels.
MAX_NESTING = 128

UPDATE_MESSAGE = (
    "This SPARQL endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) is not accepted."
)
SERVICE_MESSAGE = (
    "Federated queries are not accepted here: SERVICE would make this server fetch data from elsewhere."
)
AMBIGUOUS_SERVICE_MESSAGE = SERVICE_MESSAGE + (
    " (The word 'service' follows a '<' that could be a comparison hiding it: add a space after a less-than sign,"
    " or leave out the word.)"
)
NAME_SERVICE_MESSAGE = SERVICE_MESSAGE + (
    " (A name or word containing 'service' can be read as the SERVICE keyword: rename the prefix.)"
)
NESTING_MESSAGE = (
    "The query nests groups, brackets or parentheses {depth} levels deep; this endpoint accepts at most "
    f"{MAX_NESTING} levels."
)


@dataclass(frozen=True)
class QueryInfo:
    #: "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", or None when the text is no recognisable query
    form: str | None
    #: the query names its own dataset with FROM or FROM NAMED
    has_dataset_clause: bool
    #: the one tokenizer pass over the (unescaped) text, handed on to the store (`Store.execute`'s `scanned`)
    #: so that it need not tokenize the query again
    scanned: Scan | None = None


def inspect(query: str) -> QueryInfo:
    """Classify an untrusted query; raises QueryRefused for updates and SERVICE, QueryTooComplex past
    `MAX_NESTING`."""
    text = unescape(query)
    seen = scan(text)
    form = _first_operation(seen.words)
    if form in UPDATE_KEYWORDS:
        raise QueryRefused(UPDATE_MESSAGE)
    if "SERVICE" in seen.words:
        raise QueryRefused(SERVICE_MESSAGE)
    if any("SERVICE" in name for name in seen.words + seen.name_prefixes):
        raise QueryRefused(NAME_SERVICE_MESSAGE)
    if seen.uncertain_from is not None and "service" in text[seen.uncertain_from:].lower():
        raise QueryRefused(AMBIGUOUS_SERVICE_MESSAGE)
    if seen.depth > MAX_NESTING:
        raise QueryTooComplex(NESTING_MESSAGE.format(depth=seen.depth))
    return QueryInfo(form=form if form in QUERY_FORMS else None, has_dataset_clause="FROM" in seen.words,
                     scanned=seen)


def _first_operation(words: list[str]) -> str | None:
    # The prologue (BASE <iri>, PREFIX p: <iri>) contributes only these two bare words.
    for word in words:
        if word not in {"BASE", "PREFIX"}:
            return word
    return None
