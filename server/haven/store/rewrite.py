"""Token-level rewriting of client SPARQL for a remote store (the text has already passed the web layer's safety checks).

Two jobs, both on the tokens of `haven.sparqltext` (strings, IRIs and comments are single tokens, so nothing
inside them is touched):

* graph names: a remote store holds each release under its own graph names (`haven.store.releases`), while
  clients name the canonical ones (`{base}graph/data`). Every graph *name position* — after FROM, FROM
  NAMED and GRAPH — is mapped; any name there that is not one of the release's graphs maps to a graph that
  does not exist, so FROM <http://remote/...> or the store's control graph read as empty: nothing is
  fetched and nothing internal shows through. The caller may also map every other IRI constant
  (`map_constant`): the publisher renames graph IRIs in the data the same way (VoID's `sd:name` objects),
  so a graph name in VALUES, BIND or FILTER, or one joined from the metadata to GRAPH ?g, meets the same
  name on both sides, and answers map back to the canonical names. FROM / FROM NAMED clauses are taken *out* of the text and returned
  as lists, for the caller to send as protocol parameters: Virtuoso adds a FROM in the text to the
  protocol's `default-graph-uri` graphs instead of letting the protocol's dataset win, so the dataset must
  reach the store one way only.
* DESCRIBE: engines disagree on what it returns (Oxigraph: a concise bounded description; Virtuoso:
  more), so Haven never forwards it. `describe_targets` splits it into a SELECT of the resources to describe
  plus the constant IRIs; the store then fetches their descriptions with a CONSTRUCT.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urljoin

from haven.sparqltext import tokens, unescape

_SKIPPED = {"ws", "comment"}


@dataclass
class Rewritten:
    text: str
    #: graph IRIs (already mapped) named by FROM, and by FROM NAMED, in the query itself
    from_graphs: list[str] = field(default_factory=list)
    from_named_graphs: list[str] = field(default_factory=list)

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)


class _Prologue:
    """Tracks BASE and PREFIX declarations so that prefixed and relative names resolve as the parser would."""

    def __init__(self, base_iri: str | None):
        self.base = base_iri or ""
        self.prefixes: dict[str, str] = {}

    def resolve(self, kind: str, text: str) -> str | None:
        if kind == "iri":
            return urljoin(self.base, text[1:-1]) if self.base else text[1:-1]
        if kind == "pname":
            prefix, _, local = text.partition(":")
            if prefix not in self.prefixes:
                return None
            # PN_LOCAL_ESC: a backslash before a punctuation character stands for that character
            chars, i = [], 0
            while i < len(local):
                if local[i] == "\\" and i + 1 < len(local):
                    chars.append(local[i + 1])
                    i += 2
                else:
                    chars.append(local[i])
                    i += 1
            return self.prefixes[prefix] + "".join(chars)
        return None


def _significant(text: str) -> list[tuple[str, str, int, int]]:
    out = []
    for kind, value, start, end in tokens(text):
        if kind in _SKIPPED:
            continue
        if kind == "pname" and value.endswith(".") and value != ".":
            # a local name cannot end with '.', which is the triple terminator the tokenizer swallowed
            stripped = value.rstrip(".")
            out.append((kind, stripped, start, start + len(stripped)))
            continue
        out.append((kind, value, start, end))
    return out


def rewrite_graph_names(query: str, map_graph: Callable[[str], str], base_iri: str | None = None,
                        map_graph_pattern: Callable[[str], str] | None = None,
                        map_constant: Callable[[str], str] | None = None) -> Rewritten:
    """The query without its FROM / FROM NAMED clauses (their `map_graph(iri)` are listed in the result), with
    every `GRAPH <iri>` replaced by `GRAPH <map_graph_pattern(iri)>` (default: `map_graph`) and, given
    `map_constant`, every other IRI constant (triple patterns, VALUES, BIND, FILTER, projections, templates)
    by `<map_constant(iri)>` where that differs. Datatype IRIs (after ``^^``) stay: they name no resource."""
    map_pattern = map_graph_pattern or map_graph
    text = unescape(query)
    prologue = _Prologue(base_iri)
    toks = _significant(text)
    edits: list[tuple[int, int, str]] = []
    result = Rewritten(text="")
    i = 0
    while i < len(toks):
        kind, value, _, _ = toks[i]
        word = value.upper() if kind == "word" else None
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            prologue.base = prologue.resolve("iri", toks[i + 1][1]) or prologue.base
            i += 2
            continue
        if word == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname" and toks[i + 2][0] == "iri":
            prologue.prefixes[toks[i + 1][1].rstrip(":")] = prologue.resolve("iri", toks[i + 2][1])
            i += 3
            continue
        if word in {"FROM", "GRAPH"}:
            j = i + 1
            named = False
            if word == "FROM" and j < len(toks) and toks[j][0] == "word" and toks[j][1].upper() == "NAMED":
                named = True
                j += 1
            if j < len(toks) and toks[j][0] in {"iri", "pname"}:
                iri = prologue.resolve(toks[j][0], toks[j][1])
                if iri is not None and word == "FROM":
                    # the whole clause goes: the dataset travels as protocol parameters
                    edits.append((toks[i][2], toks[j][3], " "))
                    (result.from_named_graphs if named else result.from_graphs).append(map_graph(iri))
                elif iri is not None:
                    edits.append((toks[j][2], toks[j][3], f"<{map_pattern(iri)}>"))
            i = j + 1
            continue
        if map_constant is not None and kind in {"iri", "pname"} and not _after_datatype_marker(toks, i):
            iri = prologue.resolve(kind, value)
            if iri is not None:
                mapped = map_constant(iri)
                if mapped != iri:
                    edits.append((toks[i][2], toks[i][3], f"<{mapped}>"))
        i += 1
    result.text = _apply(text, edits)
    return result


def _after_datatype_marker(toks, i: int) -> bool:
    return i >= 2 and toks[i - 1][:2] == ("other", "^") and toks[i - 2][:2] == ("other", "^")


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, replacement in edits:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class DescribeTargets:
    #: IRIs named in the DESCRIBE clause itself
    constants: list[str]
    #: a SELECT DISTINCT of the DESCRIBE's variables over its WHERE clause, or None when there is none
    select: str | None


_END_OF_TARGETS = {"WHERE", "FROM", "LIMIT", "OFFSET", "ORDER", "GROUP", "HAVING", "VALUES"}


def describe_targets(query: str, base_iri: str | None = None) -> DescribeTargets:
    """Split `DESCRIBE <a> ?x ... WHERE {...}` into its constant IRIs and a SELECT of the variables."""
    text = unescape(query)
    prologue = _Prologue(base_iri)
    toks = _significant(text)
    i = 0
    while i < len(toks):
        kind, value, _, _ = toks[i]
        word = value.upper() if kind == "word" else None
        if word == "BASE" and i + 1 < len(toks):
            prologue.base = prologue.resolve("iri", toks[i + 1][1]) or prologue.base
            i += 2
        elif word == "PREFIX" and i + 2 < len(toks):
            prologue.prefixes[toks[i + 1][1].rstrip(":")] = prologue.resolve("iri", toks[i + 2][1])
            i += 3
        elif word == "DESCRIBE":
            break
        else:
            raise ValueError("not a DESCRIBE query")
    start = toks[i][2]
    constants, variables, star = [], [], False
    j = i + 1
    while j < len(toks):
        kind, value, _, _ = toks[j]
        if kind == "var":
            variables.append(value)
        elif kind in {"iri", "pname"}:
            iri = prologue.resolve(kind, value)
            if iri is not None:
                constants.append(iri)
        elif kind == "other" and value == "*":
            star = True
        else:
            break
        j += 1
    rest = text[toks[j][2]:] if j < len(toks) else ""
    has_where = bool(rest.strip()) and (rest.lstrip().startswith("{") or rest.lstrip().upper().startswith(
        tuple(_END_OF_TARGETS)))
    select = None
    if has_where and (variables or star):
        projection = "*" if star else " ".join(dict.fromkeys(variables))
        select = f"{text[:start]}SELECT DISTINCT {projection} {rest}"
    return DescribeTargets(constants=list(dict.fromkeys(constants)), select=select)


def description_query(resources: list[str], depth: int = 3) -> str:
    """CONSTRUCT the description Haven gives for DESCRIBE: each resource's statements, and those of the blank
    nodes they reach (to `depth` levels: evidence → selector is two), as Oxigraph's own DESCRIBE does."""
    values = " ".join(f"<{iri}>" for iri in resources)
    template = ["?r ?p ?o0 ."]
    nested = ""
    for level in range(depth, 0, -1):
        template.append(f"?o{level - 1} ?p{level} ?o{level} .")
        nested = f"OPTIONAL {{ ?o{level - 1} ?p{level} ?o{level} FILTER(isBlank(?o{level - 1})) {nested}}} "
    return (f"CONSTRUCT {{ {' '.join(template)} }} WHERE {{ VALUES ?r {{ {values} }} ?r ?p ?o0 {nested}}}")
