"""What the query page shows of an answer, rendered by the server (the page works without JavaScript).

The answer is the one `/sparql` would send, from the same store call with the same limits
(`routes.run_client_query`); this module only reads it back for people: SELECT as a table of rows, ASK as
true or false, CONSTRUCT and DESCRIBE as their Turtle and a table of the triples. Every term becomes a
`Cell` whose text the template escapes; only http(s) IRIs get a link (`UrlMap.link`), so an IRI such as
``javascript:…`` chosen by whoever wrote a link to the page is shown as text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyoxigraph as ox

from haven.formats import SPARQL_JSON, TURTLE
from haven.iris import UrlMap, compact
from haven.store.answers import oxigraph_format, term_json
from haven.store.base import SerializedResult

#: the formats the page asks the store for: JSON results to read rows from, Turtle to show a graph as
SOLUTIONS_FORMAT = SPARQL_JSON
GRAPH_FORMAT = TURTLE
#: the columns of a CONSTRUCT or DESCRIBE answer's table
TRIPLE_COLUMNS = ("subject", "predicate", "object")
#: the most rows the page's table shows: a browser takes about 10 s to lay out a table of 10,000 rows (the
#: cap) and the page weighs 4 MB; the whole answer is a download away (`downloads`)
SHOWN_ROWS = 1_000

#: The only inline styles the page allows, by hash (`hardening.content_security_policy`): the two `<style>`
#: elements YASGUI's table view inserts, its column resizer's fixed rules and the cursor while a column is
#: dragged (`createStyle` in static/vendor/yasgui/yasgui.min.js; tests/test_query_page.py checks that
#: the vendored file still holds these texts). Nothing else inline is allowed, style attributes included.
YASGUI_INLINE_STYLES = (
    " .grip-resizable{table-layout:fixed;} .grip-resizable > tbody > tr > td, .grip-resizable > tbody > tr > th"
    "{overflow:hidden} .grip-padding > tbody > tr > td, .grip-padding > tbody > tr > th{padding-left:0!important;"
    " padding-right:0!important;} .grip-container{ height:0px; position:relative;} .grip-handle{margin-left:-5px;"
    " position:absolute; z-index:5; } .grip-handle .grip-resizable{position:absolute;background-color:red;"
    "filter:alpha(opacity=1);opacity:0;width:10px;height:100%;cursor: col-resize;top:0px} .grip-lastgrip"
    "{position:absolute; width:1px; } .grip-drag{ border-left:1px dotted black;\t} .grip-flex{width:auto!important;}"
    " .grip-handle.grip-disabledgrip .grip-resizable{cursor:default; display:none;}",
    "*{cursor:col-resize!important}",
)


@dataclass(frozen=True)
class Cell:
    text: str = ""
    #: where the term is browsed (this host for Haven's IRIs); None for literals and non-web IRIs
    href: str | None = None
    #: a literal's language tag (`@en`) or datatype (`^^xsd:date`), shown beside it
    note: str = ""
    #: the full IRI when `text` is its compact form, for a tooltip
    title: str = ""


@dataclass
class AnswerView:
    form: str
    seconds: float
    capped: bool
    limit: int
    columns: tuple[str, ...] = ()
    #: the first `SHOWN_ROWS` rows (or triples) of the answer
    rows: list[list[Cell]] = field(default_factory=list)
    #: rows of a SELECT, triples of a CONSTRUCT or DESCRIBE, in the whole answer (an ASK has none)
    count: int = 0
    boolean: bool | None = None
    turtle: str | None = None
    #: (label, URL) of the same query at /sparql in each format of its form, when the URL is short enough
    downloads: list[tuple[str, str]] = field(default_factory=list)

    @property
    def unit(self) -> str:
        singular = "row" if self.form == "SELECT" else "triple"
        return singular if self.count == 1 else singular + "s"

    @property
    def cut_for_the_page(self) -> bool:
        return self.count > len(self.rows)


def is_graph_form(form: str | None) -> bool:
    return form in {"CONSTRUCT", "DESCRIBE"}


def media_type_for(form: str | None) -> str:
    """What the page asks the store for, by query form."""
    return (GRAPH_FORMAT if is_graph_form(form) else SOLUTIONS_FORMAT).media_type


def answer_view(result: SerializedResult, seconds: float, limit: int, urls: UrlMap) -> AnswerView:
    view = AnswerView(form=result.form, seconds=seconds, capped=result.capped, limit=limit)
    prefixes = urls.prefixes()
    if is_graph_form(result.form):
        view.turtle = result.body.decode("utf-8")
        view.columns = TRIPLE_COLUMNS
        triples = list(ox.parse(result.body, format=oxigraph_format(GRAPH_FORMAT)))
        view.count = len(triples)
        view.rows = [[cell(term_json(term), urls, prefixes) for term in (t.subject, t.predicate, t.object)]
                     for t in triples[:SHOWN_ROWS]]
        return view
    data = json.loads(result.body)
    if "boolean" in data:
        view.boolean = bool(data["boolean"])
        return view
    view.columns = tuple(data["head"]["vars"])
    bindings = data["results"]["bindings"]
    view.count = len(bindings)
    view.rows = [[cell(binding.get(name), urls, prefixes) for name in view.columns] for binding in bindings[:SHOWN_ROWS]]
    return view


def cell(term: dict | None, urls: UrlMap, prefixes: dict[str, str]) -> Cell:
    """A SPARQL JSON term as a table cell (an unbound variable is an empty cell)."""
    if term is None:
        return Cell()
    kind, value = term["type"], term["value"]
    if kind == "uri":
        text = compact(value, prefixes)
        return Cell(text, href=urls.link(value), title=value if text != f"<{value}>" else "")
    if kind == "bnode":
        return Cell(f"_:{value}")
    if kind == "triple":
        parts = (cell(value[position], urls, prefixes).text for position in TRIPLE_COLUMNS)
        return Cell("<< " + " ".join(parts) + " >>")
    if "xml:lang" in term:
        return Cell(value, note="@" + term["xml:lang"])
    if "datatype" in term:
        return Cell(value, note="^^" + compact(term["datatype"], prefixes))
    return Cell(value)
