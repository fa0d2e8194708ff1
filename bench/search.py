"""Search latency: the search index of a release, how long it takes to make and to load, and p50/p99 of
lookups by misspelt names, in-process and through the /search route.

    .venv/bin/python bench/search.py --release build/current               # the real data (after `haven build`)
    .venv/bin/python bench/search.py --triples 1M --seed 1 --work /tmp/haven-search-bench

With `--triples`, bench/generate.py writes a tree of that size and bench/quickrelease.py makes its release
(no validation: the index does not depend on it). The index is then made by the build's own stage
(`haven.pipeline.search.search_index`) over the release's haven.nq loaded in pyoxigraph, which is what
`haven build` does over its store, and written into the release folder as the build writes it.

Queries: names of the index's entities (seeded sample) as written, and respelt the ways the lookup must
absorb (a vowel changed, hyphens and the article dropped, q for k, a doubled consonant, lower case), the
first letters of a name as typed into the search box (prefix=1), and names that are nowhere in the data.
Each query is timed alone; the route is timed through Flask's test client (no network), after one warm-up
request has loaded the index.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from haven import buildfolder  # noqa: E402
from haven.config import Settings  # noqa: E402
from haven.pipeline.search import search_index  # noqa: E402
from haven.search.index import SearchIndex, read_file, to_bytes  # noqa: E402

ABSENT = ["Hezbollah", "Hamas", "Haqqani Network", "Jamaat-ud-Dawa", "Gulbuddin Hekmatyar", "Boko Haram",
          "Al-Shabaab", "Tehrik-e-Nafaz-e-Shariat-e-Mohammadi", "Quetta Shura", "Sipah-e-Sahaba"]


def respellings(name: str, rng: random.Random) -> list[tuple[str, str]]:
    vowels = "aeiou"
    spots = [i for i, c in enumerate(name) if c.lower() in vowels]
    out = [("as written", name), ("lower case, no hyphens", name.lower().replace("-", " "))]
    if spots:
        i = rng.choice(spots)
        out.append(("a vowel changed", name[:i] + rng.choice([v for v in vowels if v != name[i].lower()]) + name[i + 1:]))
    consonants = [i for i, c in enumerate(name) if c.isalpha() and c.lower() not in vowels]
    if consonants:
        i = rng.choice(consonants)
        out.append(("a consonant doubled", name[:i + 1] + name[i] + name[i + 1:]))
    out.append(("q for k, no article", name.replace("k", "q").replace("K", "Q").replace("al-", "").replace("Al-", "")))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


HEADER = ("| queries | n | p50 | p90 | p99 | max | CPU p50 | CPU p99 |\n"
          "|---|---|---|---|---|---|---|---|")


def figures(label: str, timings: list[tuple[float, float]]) -> str:
    """Wall-clock milliseconds, and the CPU time of the thread that ran the query (what a shared, busy
    machine does not inflate: the wall-clock tail there is mostly waiting for a core)."""
    ms = [wall * 1000 for wall, _ in timings]
    cpu = [used * 1000 for _, used in timings]
    return (f"| {label} | {len(ms)} | {statistics.median(ms):.2f} | {percentile(ms, 0.9):.2f} | "
            f"{percentile(ms, 0.99):.2f} | {max(ms):.2f} | {statistics.median(cpu):.2f} | {percentile(cpu, 0.99):.2f} |")


def timed(work):
    wall, cpu = time.perf_counter(), time.thread_time()
    result = work()
    return result, (time.perf_counter() - wall, time.thread_time() - cpu)


def remote_extraction(url: str, manifest: dict, from_file: dict) -> None:
    """What a server over a remote store without the index file does once per release: the build's extraction
    queries through `RemoteStore.rows` (haven.web.search.index). Its content must equal the file's."""
    import tempfile

    from haven.iris import iris_for
    from haven.search.index import extract
    from haven.store.remote import RemoteStore
    from haven.web.search.index import EXTRACTION_TIMEOUT

    with tempfile.TemporaryDirectory() as empty:
        store = RemoteStore(url, Settings(build_dir=Path(empty), base=manifest["base"])).pinned()
        if store.release_id != manifest["id"]:
            raise SystemExit(f"{url} serves release {store.release_id}, not {manifest['id']}: haven publish it first")

        def select(query):
            for row in store.rows(query, timeout=EXTRACTION_TIMEOUT):
                yield {name: str(term) for name, term in row.items()}

        content, (wall, cpu) = timed(lambda: extract(select, iris_for(manifest["base"])))
    same = "the same content as the file" if content == from_file else "CONTENT DIFFERS FROM THE FILE"
    print(f"index extracted over the remote store {url}: {wall:.2f} s ({cpu:.2f} s CPU here); {same}")


def prepare(args) -> Path:
    if args.release:
        return Path(args.release).resolve()
    import generate
    import quickrelease

    work = Path(args.work)
    tree, build = work / f"tree-{args.triples}-{args.seed}", work / f"build-{args.triples}-{args.seed}"
    if not (build / "current").exists():
        started = time.perf_counter()
        generate.main(["--triples", args.triples, "--seed", str(args.seed), "--out", str(tree)])
        quickrelease.make_release(tree, build)
        print(f"generated and released {args.triples} triples in {time.perf_counter() - started:.1f} s")
    return (build / "current").resolve()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", help="a release folder (build/current)")
    parser.add_argument("--triples", help="generate a tree of this size instead (10k, 1M...)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/haven-search-bench")
    parser.add_argument("--names", type=int, default=300, help="entity names sampled for the queries")
    parser.add_argument("--no-route", action="store_true", help="skip timing the /search route")
    parser.add_argument("--store", help="also time the extraction a server without the file runs over this "
                                        "SPARQL store holding the release (`haven publish --to`), e.g. "
                                        "http://127.0.0.1:7878/query")
    args = parser.parse_args(argv)
    if bool(args.release) == bool(args.triples):
        parser.error("give --release or --triples")
    release = prepare(args)
    manifest = buildfolder.read_manifest(release)
    print(f"release {manifest['id']} at {release}: {manifest.get('triples', '?')} triples")

    index_file = release / buildfolder.SEARCH_INDEX
    if read_file(index_file) is None:
        store = ox.Store()
        _, (load_wall, _) = timed(lambda: store.bulk_load(path=str(release / buildfolder.NQUADS),
                                                          format=ox.RdfFormat.N_QUADS))
        content, (wall, cpu) = timed(lambda: search_index(store, manifest["base"]))
        index_file.write_bytes(to_bytes(content))
        print(f"index made by pipeline.search: {wall:.2f} s ({cpu:.2f} s CPU; after loading haven.nq in "
              f"{load_wall:.1f} s); {index_file.stat().st_size / 1e6:.1f} MB written")
        del store
    if args.store:
        remote_extraction(args.store, manifest, read_file(index_file))
    index, (wall, cpu) = timed(lambda: SearchIndex(read_file(index_file)))
    print(f"index read and posting lists made: {wall:.2f} s ({cpu:.2f} s CPU); {len(index)} entities, "
          f"{sum(len(e.names) for e in index.entities)} names, {index_file.stat().st_size / 1e6:.1f} MB")

    rng = random.Random(args.seed)
    sample = rng.sample(index.entities, min(args.names, len(index.entities)))
    queries: list[tuple[str, str, bool]] = []
    for entity in sample:
        queries += [(kind, text, False) for kind, text in respellings(entity.label, rng)]
        queries.append(("prefix as typed", entity.label[:rng.randint(3, 6)], True))
    queries += [("absent from the data", name, False) for name in ABSENT]

    by_kind: dict[str, list[tuple[float, float]]] = {}
    found = 0
    for kind, text, prefix in queries:
        hits, timing = timed(lambda: index.search(text, limit=10, prefix=prefix))
        by_kind.setdefault(kind, []).append(timing)
        found += bool(hits)
    every = [s for values in by_kind.values() for s in values]
    print("\nLookup in-process (SearchIndex.search, limit 10), ms:\n")
    print(HEADER)
    for kind, seconds in by_kind.items():
        print(figures(kind, seconds))
    print(figures("**all**", every))

    exact_first = sum(index.search(e.label, limit=1)[0].entity is e for e in sample if index.search(e.label, limit=1))
    print(f"\n{found}/{len(queries)} queries found something; a name as written ranks its entity first for "
          f"{exact_first}/{len(sample)} sampled entities (homonyms share the rest)")

    if not args.no_route:
        from haven.store.embedded import EmbeddedStore
        from haven.web.app import create_app

        store = EmbeddedStore(release, workers=1)
        try:
            app = create_app(Settings(build_dir=release.parent.parent), store=store)
            client = app.test_client()
            _, (wall, cpu) = timed(lambda: client.get("/search?q=warm-up"))
            print(f"\nfirst /search request (loads the index): {wall:.2f} s ({cpu:.2f} s CPU)")
            route = []
            for kind, text, prefix in queries:
                response, timing = timed(lambda: client.get(
                    "/search", query_string={"q": text, "prefix": "1" if prefix else ""},
                    headers={"Accept": "application/json"}))
                route.append(timing)
                assert response.status_code == 200, response.status_code
            print("\nGET /search through the Flask test client (JSON), ms:\n")
            print(HEADER)
            print(figures("all", route))
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
