"""The triple pattern a `/fragments` request names, read from its ``subject``, ``predicate`` and ``object``
parameters in Hydra's explicit representation (what the Triple Pattern Fragments specification and its
clients use): an IRI as it is, a literal in double quotes followed by ``@lang`` or ``^^datatype`` (the
datatype with or without angle brackets), and an empty value or a variable (``?x``) for "any".

The terms are pyoxigraph's, which check IRIs and language tags as they are made, and whose N-Triples form is
the SPARQL text of the term: nothing a client sends reaches a query any other way. The lexical form is taken
up to the last double quote, as Comunica sends literals unescaped (``"say "hi""``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox

from haven.iris import is_embeddable
from haven.terms import RDF_LANG_STRING, XSD_STRING

PARAMETERS = ("subject", "predicate", "object")
_VARIABLE = re.compile(r"\?[A-Za-z0-9_]*")
_LITERAL = re.compile(r'"(.*)"(?:\^\^<?([^<>"\s]+)>?|@([^@"]+))?', re.DOTALL)
#: pages further than this are refused rather than turned into an OFFSET no store should be asked for
MAX_PAGE = 10_000_000


class PatternError(ValueError):
    """A parameter is not a term in that position; `str()` says which and why (answered 400)."""


@dataclass(frozen=True)
class Pattern:
    subject: ox.NamedNode | ox.Literal | None = None  # a literal here matches nothing (see `matches_nothing`)
    predicate: ox.NamedNode | ox.Literal | None = None
    object: ox.NamedNode | ox.Literal | None = None

    def terms(self) -> tuple:
        return self.subject, self.predicate, self.object

    @property
    def matches_nothing(self) -> bool:
        """A literal as subject or predicate: no RDF triple can match, so no store need be asked."""
        return isinstance(self.subject, ox.Literal) or isinstance(self.predicate, ox.Literal)

    def query_string(self, page: int = 1) -> str:
        """The canonical query string of this pattern's page (its URL below /fragments), percent-encoded as
        an RFC 6570 form-style expansion of ``{?subject,predicate,object}`` encodes it."""
        pairs = [(name, explicit(term)) for name, term in zip(PARAMETERS, self.terms()) if term is not None]
        if page > 1:
            pairs.append(("page", str(page)))
        return "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs)


def explicit(term) -> str:
    """A term in Hydra's explicit representation (the inverse of `parse_term`)."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if term.language:
        return f'"{term.value}"@{term.language}'
    if term.datatype.value == XSD_STRING:
        return f'"{term.value}"'
    return f'"{term.value}"^^{term.datatype.value}'


def parse_pattern(args) -> Pattern:
    """The pattern of a request's arguments (a Werkzeug MultiDict); PatternError when a value is not a term
    that position can hold, or a parameter is given twice."""
    terms = [parse_term(_single(args, name), name) for name in PARAMETERS]
    return Pattern(*terms)


def parse_page(args) -> int:
    value = _single(args, "page")
    if value is None or value == "":
        return 1
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise PatternError(f"page must be a whole number from 1 to {MAX_PAGE:,}, not {value[:40]!r}")
    return int(value)


def parse_term(value: str | None, position: str):
    if value is None or value == "" or _VARIABLE.fullmatch(value):
        return None
    if value.startswith("_:"):
        raise PatternError(f"{position}: blank nodes cannot be named across requests; this server writes each "
                           "blank node as a skolem IRI (…/.well-known/genid/…), which can be used here instead")
    if value.startswith('"'):
        # a literal subject or predicate is a pattern that matches nothing (RDF has no such triple), not an
        # error: TPF clients ask for them while walking property paths (Comunica's `?x p* ?y` from a literal)
        return _literal(value, position)
    iri = value[1:-1] if value.startswith("<") and value.endswith(">") else value
    try:
        term = ox.NamedNode(iri)
    except ValueError as error:
        raise PatternError(f"{position}: not an absolute IRI ({error}): {value[:200]!r}") from None
    if not is_embeddable(term.value):
        raise PatternError(f"{position}: not an IRI this server can look up: {value[:200]!r}")
    return term


def _literal(value: str, position: str) -> ox.Literal:
    match = _LITERAL.fullmatch(value)
    if match is None:
        raise PatternError(f'{position}: a literal is "text", "text"@lang or "text"^^datatype-IRI, '
                           f"not {value[:200]!r}")
    lexical, datatype, language = match.groups()
    if datatype is not None and datatype.strip("<>") == RDF_LANG_STRING:
        raise PatternError(f'{position}: a language-tagged literal is written "text"@lang')
    try:
        if language is not None:
            return ox.Literal(lexical, language=language)
        if datatype is not None:
            return ox.Literal(lexical, datatype=parse_term(datatype, f"{position} datatype"))
        return ox.Literal(lexical)
    except ValueError as error:
        raise PatternError(f"{position}: not a literal ({error}): {value[:200]!r}") from None


def _single(args, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise PatternError(f"{name} is given {len(values)} times; a fragment has one {name}")
    return values[0] if values else None
