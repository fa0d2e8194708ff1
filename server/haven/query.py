"""Read side of a release for `haven query`: load `haven.nq` into pyoxigraph and render results.

SELECT results render as an aligned table with prefixed names, or as the standard SPARQL CSV and JSON
results formats; graph results (CONSTRUCT, DESCRIBE) as Turtle, N-Triples or JSON-LD.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from haven import buildfolder, formats
from haven.iris import compact, iris_for
from haven.pipeline import BuildError
from haven.store.answers import oxigraph_format

#: widest cell of the table view; longer values are cut with an ellipsis
MAX_CELL = 80

#: `haven query --format` → (the format of SELECT answers, of graph answers); the table view is drawn here
VIEWS = {
    "table": (None, formats.TURTLE),
    "csv": (formats.SPARQL_CSV, formats.N_TRIPLES),
    "json": (formats.SPARQL_JSON, formats.JSON_LD),
}


def load_release(current: Path) -> tuple[ox.Store, str]:
    """An in-memory store of the release and the base it was built with."""
    try:
        manifest = buildfolder.read_manifest(current)
    except buildfolder.ReleaseFolderError as error:
        raise BuildError(str(error)) from None
    store = ox.Store()
    store.bulk_load(path=str(current / buildfolder.NQUADS), format=ox.RdfFormat.N_QUADS)
    return store, manifest["base"]


def run_query(store: ox.Store, text: str, fmt: str, base: str) -> str:
    prefixes = iris_for(base).prefixes()
    # the default graph the server gives a client: every graph but the hedged one (haven.iris.DEFAULT_GRAPHS)
    default = [ox.NamedNode(str(iri)) for iri in iris_for(base).default_graphs.values()]
    result = store.query(text, prefixes=prefixes, default_graph=default)
    if isinstance(result, ox.QueryBoolean):
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result)})
        return "true" if result else "false"
    if isinstance(result, ox.QuerySolutions):
        if fmt == "table":
            return table(result, prefixes)
        return result.serialize(format=oxigraph_format(VIEWS[fmt][0])).decode("utf-8")
    graph_format = VIEWS[fmt][1]
    # a person reads this: JSON-LD is compacted with the prefixes too
    kwargs = {"prefixes": prefixes} if graph_format.prefixed or graph_format is formats.JSON_LD else {}
    return ox.serialize(result, format=oxigraph_format(graph_format), **kwargs).decode("utf-8")


def table(solutions: ox.QuerySolutions, prefixes: dict[str, str]) -> str:
    names = [v.value for v in solutions.variables]
    rows = [[cell(solution[name], prefixes) for name in names] for solution in solutions]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    def line(values):
        return " | ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
    out = [line(names), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def cell(term, prefixes: dict[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        text = compact(term.value, prefixes)
    elif isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    else:
        text = term.value
        if term.language:
            text += f"@{term.language}"
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
