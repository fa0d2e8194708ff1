"""SPARQL as text: SPARQL's codepoint unescaping and a tokenizer (pure, no parser, no rdflib).

Strings, IRIs, comments, prefixed names, variables and numbers are single tokens, so a keyword inside them
is never mistaken for one. The safety checks of the web layer and the query rewriting of the remote store
both read client queries through this module. Its terminals follow SPARQL's (numbers included: in ``1e5x``
the parser reads the number ``1e5`` and then ``x``), with one ambiguity no tokenizer can settle alone:
``<…>`` is an IRI, or a less-than comparison where an expression continues (``?a<?b)…>``), and only the
parser's context decides. `scan` reports where that ambiguity could change what a parser reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# Order matters: the first alternative that matches at a position wins, as in the SPARQL terminals.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
    | (?P<bnode>_:[\w\-.]*)
    | (?P<number>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+
                 |[0-9]*\.[0-9]+|[0-9]+)
    | (?P<pname>(?:[^\W\d_][\w\-.]*)?:(?:[\w\-.:]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])*)
    | (?P<word>[^\W\d][\w]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

#: how each bracket changes the nesting depth
_NESTING = {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}
_LONG_QUOTES = ("'''", '"""')
_END_OF_LINE = re.compile(r"[\n\r]")


def unescape(text: str) -> str:
    """Apply SPARQL's codepoint escapes (\\uXXXX, \\UXXXXXXXX), which precede tokenizing (SPARQL 1.1 §19.2)."""

    def replace(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _UNICODE_ESCAPE.sub(replace, text)


def tokens(text: str):
    """(kind, text, start, end) for every token, whitespace and comments included (kinds as in `_TOKEN`)."""
    for match in _TOKEN.finditer(text):
        yield match.lastgroup, match.group(), match.start(), match.end()


def keywords(text: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased, in order (not the contents of strings, IRIs or names)."""
    words = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "word":
            words.append(match.group().upper())
    return words


@dataclass
class Scan:
    """What one pass of the tokenizer learns about a (codepoint-unescaped) query text."""

    #: the bare words, upper-cased, in order
    words: list[str] = field(default_factory=list)
    #: the prefixes of the prefixed names used (not those declared by PREFIX), upper-cased: a parser may read a
    #: keyword at the start of one (Oxigraph reads ``SERVICEx:a`` as SERVICE then ``x:a``)
    name_prefixes: list[str] = field(default_factory=list)
    #: the deepest nesting of ``{ ( [`` (the recursion a parser needs)
    depth: int = 0
    #: the offset of the first IRI-shaped token a parser may read as code that hides text from this tokenizer
    #: (see `_may_hide_text`), or None when the tokens are the parser's throughout
    uncertain_from: int | None = None


def query_words(query: str, scanned: Scan | None = None) -> list[str]:
    """The bare words of a client query: those of `scanned` (the caller's `scan` of ``unescape(query)``,
    so that one request tokenizes its query once), else from a pass of its own."""
    return scanned.words if scanned is not None else keywords(unescape(query))


def scan(text: str) -> Scan:
    """Words, prefixes in use, nesting depth and the first uncertain offset of `text`, in a single pass."""
    result = Scan()
    words, prefixes = result.words, result.name_prefixes
    depth = deepest = 0
    declaring = False  # the previous token was PREFIX: the name that follows is declared, not used
    lines = None
    nesting = _NESTING
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        if kind == "other":
            step = nesting.get(match.group())
            if step is not None:
                depth += step
                if depth > deepest:
                    deepest = depth
                elif depth < 0:
                    depth = 0
        elif kind == "word":
            word = match.group().upper()
            words.append(word)
            declaring = word == "PREFIX"
            continue
        elif kind == "pname":
            if not declaring:
                prefixes.append(match.group().partition(":")[0].upper())
        elif kind == "iri" and result.uncertain_from is None:
            iri = match.group()
            if "#" in iri or "'" in iri:
                lines = lines or _LineLookup(text)
                if _may_hide_text(iri, match.end(), lines):
                    result.uncertain_from = match.start()
        declaring = False
    result.depth = deepest
    return result


def _may_hide_text(iri: str, end: int, lines: "_LineLookup") -> bool:
    """Whether a parser reading this IRI-shaped token's ``<`` as less-than could see text this tokenizer misses.

    Read as code, the inside of ``<…>`` holds no whitespace, braces, ``<``, ``"`` or backslash, so the parser's
    tokens there end at the ``>`` and both readings go on together, unless the inside opens a string (``'``) or
    a comment (``#``). A comment ends at the line's end: the readings meet again there unless this tokenizer
    is inside a long string by then; and a keyword before it that the comment hides from this tokenizer can
    only follow a ``)`` that closes the comparison's expression (``FILTER(?a<?b)SERVICE#>``)."""
    inside = iri[1:-1]
    if "'" in inside:
        return True
    hash_at = inside.find("#")
    if hash_at < 0:
        return False
    return ")" in inside[:hash_at] or lines.long_quote_before_line_end(end)


class _LineLookup:
    """Where the next line end and the next long-string quote are, found once per position passed."""

    def __init__(self, text: str):
        self.text = text
        self._line_end = (-1, -1)  # (searched from, found at)
        self._quote = (-1, -1)

    def long_quote_before_line_end(self, position: int) -> bool:
        return self._next_quote(position) < self._next_line_end(position)

    def _next_line_end(self, position: int) -> int:
        start, found = self._line_end
        if not (start <= position <= found):
            match = _END_OF_LINE.search(self.text, position)
            found = match.start() if match else len(self.text)
            self._line_end = (position, found)
        return found

    def _next_quote(self, position: int) -> int:
        start, found = self._quote
        if not (start <= position <= found):
            found = min((i for i in (self.text.find(q, position) for q in _LONG_QUOTES) if i >= 0),
                        default=len(self.text) + 1)
            self._quote = (position, found)
        return found
