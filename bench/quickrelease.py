"""The cheapest release folder the pipeline's own pieces allow, for bench/run.py's publish step when `haven
build` cannot build that size on this machine (the step says so in the report; it is never the default).

    python bench/quickrelease.py --root SRC --build-dir BUILD

What it keeps from the pipeline: the sources' files, the derive stage itself (`derive.derive`:
the direct layer and its hedged part), the release writer (manifest, sha256, `current`). What it leaves out,
because those pieces hold the whole release in rdflib graphs: validation, the reasoner, the dataset
description (no metadata graph) and canonical N-Quads (pyoxigraph's dump, so the release id is not the one
`haven build` would give the same sources). Progress lines have the build's format, so run.py times them.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

import pyoxigraph as ox
from rdflib import Graph

from haven import __version__
from haven.config import DEFAULT_BASE
from haven.iris import iris_for
from haven.pipeline import Progress
from haven.pipeline.derive import derive
from haven.pipeline.release import build_lock, canonical_nquads, content_id, switch_current, write_release
from haven.pipeline.sources import find_files


def small_graph(paths) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


def make_release(root, build_dir, base: str = DEFAULT_BASE, progress: Progress | None = None) -> str:
    from pathlib import Path

    root, build_dir = Path(root), Path(build_dir)
    progress = progress or Progress()
    ns = iris_for(base)
    graphs = {name: str(iri) for name, iri in ns.graphs.items()}
    store = ox.Store()
    files = find_files(root)
    with progress.stage("sources") as notes:
        for part in ("ontology", "data"):
            for path in files[part]:
                store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base,
                                to_graph=ox.NamedNode(graphs[part]))
        notes.append(f"{len(files['data'])} data files, {len(store)} triples (pyoxigraph bulk load)")
    with progress.stage("derive") as notes:
        derivation = derive(store, base)
        notes.append(f"{derivation.size} derived triples ({derivation.hedged_size} hedged), "
                     f"{derivation.rounds} closure rounds")
    with progress.stage("release") as notes:
        shapes = small_graph(files["shapes"])
        body = store.dump(format=ox.RdfFormat.N_QUADS)
        release_id = content_id(base, body, canonical_nquads({ns.shapes_iri: shapes}))
        counts = {iri: sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(iri)))
                  for name, iri in graphs.items() if name in ("ontology", "data", "derived", "hedged")}
        manifest = {"id": release_id, "base": base,
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "version": __version__, "triples": sum(counts.values()), "graphs": counts,
                    "made_by": "bench/quickrelease.py (no validation, no reasoner, no metadata graph)"}
        with build_lock(build_dir):
            write_release(build_dir, release_id, {
                "haven.nq": body,
                "ontology.ttl": small_graph(files["ontology"]).serialize(format="turtle", encoding="utf-8"),
                "shapes.ttl": shapes.serialize(format="turtle", encoding="utf-8")}, manifest)
            switch_current(build_dir, release_id)
        notes.append(f"release {release_id}, {manifest['triples']} triples")
    return release_id


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--base", default=DEFAULT_BASE)
    args = parser.parse_args(argv)
    print(make_release(args.root, args.build_dir, args.base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
