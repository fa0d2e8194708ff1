"""SPARQL as text: SPARQL's codepoint unescaping and a tokenizer (pure, no parser, no rdflib).

Strings, IRIs, comments, prefixed names and variables are single tokens, so a keyword inside them is never
mistaken for one. The safety checks of the web layer and the query rewriting of the remote store both read
client queries through this module.
"""
from __future__ import annotations

import re

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
    | (?P<pname>(?:[^\W\d_][\w\-.]*)?:(?:[\w\-.:%]|\\.)*)
    | (?P<word>[^\W\d][\w]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


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
