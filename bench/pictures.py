"""The pictures' data on a real release: every entity page's network and timeline JSON and /network, their sizes,
what computing them costs beside rendering the page, and (with --remote) whether an Oxigraph server holding the
same release gives the same JSON for every page.

    PYTHONPATH=server:tests .venv/bin/python bench/pictures.py [--build-dir build] [--remote]

In-process (Flask's test client, no HTTP): the figures are the server's own work. Prints one summary line per
figure; docs/pictures.md quotes them.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from haven.config import Settings
from haven.iris import iris_for
from haven.web.app import create_app
from haven.web.current import current_store, url_map
from haven.web.entities.document import entity_document
from haven.web.entities.page import vocabulary
from haven.web.pictures.data import entity_pictures, statement_kinds

ROOT = Path(__file__).resolve().parent.parent
_PICTURES = re.compile(rb'<script type="application/json" id="pictures-data">(.*?)</script>', re.DOTALL)
#: each entity's pictures are computed this many times; the median is reported
REPEATS = 5


def entity_slugs(store, base: str) -> list[str]:
    ids = iris_for(base).hid
    rows = store.rows(f"""SELECT DISTINCT ?e WHERE {{ ?e a ?class .
      FILTER(STRSTARTS(STR(?e), "{ids}") && !STRSTARTS(STR(?e), "{iris_for(base).hst}")) }}""")
    return sorted(str(r["e"])[len(str(ids)):] for r in rows)


def measure(app) -> dict:
    client = app.test_client()
    out = {"pages": {}, "network": None}
    with app.test_request_context():
        store, urls = current_store(), url_map()
        slugs = entity_slugs(store, app.config["HAVEN_SETTINGS"].base)
        vocab, kinds = vocabulary(), statement_kinds()
        for slug in slugs:
            started = time.perf_counter()
            body = client.get(f"/page/{slug}").data
            page_s = time.perf_counter() - started
            found = _PICTURES.search(body)
            iri = urls.entity_iri(slug)
            doc = entity_document(store, urls, iri, slug)
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                entity_pictures(doc.graph, iri, doc.statements, vocab, kinds, urls)
                times.append(time.perf_counter() - started)
            out["pages"][slug] = {"json": json.loads(found.group(1)) if found else None,
                                  "json_bytes": len(found.group(1)) if found else 0, "page_bytes": len(body),
                                  "page_s": page_s, "pictures_s": statistics.median(times)}
    started = time.perf_counter()
    body = client.get("/network").data
    out["network"] = {"json": json.loads(_PICTURES.search(body).group(1)), "s": time.perf_counter() - started,
                      "page_bytes": len(body)}
    return out


def report(label: str, figures: dict) -> None:
    pages = figures["pages"]
    drawn = {s: p for s, p in pages.items() if p["json"]}
    ms = lambda xs, q: 1000 * (statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0])
    print(f"[{label}] entity pages: {len(pages)}, with pictures: {len(drawn)}")
    big = max(drawn, key=lambda s: len(drawn[s]["json"]["edges"]))
    print(f"[{label}] largest network: {big} ({len(drawn[big]['json']['nodes'])} nodes, "
          f"{len(drawn[big]['json']['edges'])} edges, {len(drawn[big]['json']['kinds'])} kinds, "
          f"{len(drawn[big]['json']['timeline'])} timeline items)")
    print(f"[{label}] edges in all: {sum(len(p['json']['edges']) for p in drawn.values())}, hedged: "
          f"{sum(e['hedged'] for p in drawn.values() for e in p['json']['edges'])}; timeline items: "
          f"{sum(len(p['json']['timeline']) for p in drawn.values())}")
    sizes = [p["json_bytes"] for p in drawn.values()]
    share = [p["json_bytes"] / p["page_bytes"] for p in drawn.values()]
    print(f"[{label}] pictures JSON per page: median {statistics.median(sizes) / 1024:.1f} KiB, max "
          f"{max(sizes) / 1024:.1f} KiB ({big}: {drawn[big]['json_bytes'] / drawn[big]['page_bytes']:.0%} of its page); "
          f"median share of the page {statistics.median(share):.0%}")
    pic = [p["pictures_s"] for p in drawn.values()]
    page = [p["page_s"] for p in drawn.values()]
    print(f"[{label}] computing the pictures (from the page's document): p50 {ms(pic, 50):.1f} ms, p99 {ms(pic, 99):.1f} ms; "
          f"rendering the page uncached (document, list, pictures): p50 {ms(page, 50):.1f} ms, p99 {ms(page, 99):.1f} ms")
    net = figures["network"]
    print(f"[{label}] /network: {len(net['json']['nodes'])} nodes, {len(net['json']['edges'])} edges, "
          f"{net['page_bytes'] / 1024:.1f} KiB page, first render {1000 * net['s']:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--remote", action="store_true",
                        help="also from an Oxigraph server holding the same release, and compare the JSON")
    args = parser.parse_args()
    embedded = measure(create_app(Settings(build_dir=args.build_dir)))
    report("embedded", embedded)
    if not args.remote:
        return 0
    from haven.store.remote import RemoteStore
    from plugins.stores import load_release, start_oxigraph_server  # the tests' own Oxigraph harness

    server = start_oxigraph_server(Path(tempfile.mkdtemp(prefix="haven-pictures-")))
    try:
        load_release(args.build_dir / "current", server)
        empty = Path(tempfile.mkdtemp(prefix="haven-no-release-"))
        store = RemoteStore(server.query_url, Settings(build_dir=empty))
        remote = measure(create_app(Settings(build_dir=empty, store=server.query_url), store=store))
        report("remote Oxigraph", remote)
        differ = [s for s in embedded["pages"] if embedded["pages"][s]["json"] != remote["pages"].get(s, {}).get("json")]
        same_network = embedded["network"]["json"] == remote["network"]["json"]
        print(f"[parity] pages whose pictures JSON differs between the stores: {len(differ)} of {len(embedded['pages'])}"
              f"{' ' + ', '.join(differ[:10]) if differ else ''}; /network the same: {same_network}")
        store.close()
        return 1 if differ or not same_network else 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
