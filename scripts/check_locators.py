"""Check your copy of the source article against the edition the evidence offsets point into, and print every
evidence span so each claim can be read against its passage (ontology/README.md).

    PYTHONPATH=server .venv/bin/python scripts/check_locators.py path/to/article.txt [--root .]

Exit status 1 when the copy's sha256 is not the one `haven:sha256` pins in the data (offsets would point
elsewhere) or when a span falls outside the text.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from rdflib import Graph, Namespace
from rdflib.namespace import RDF

from haven.config import PROJECT_ROOT
from haven.pipeline.sources import find_files

HAVEN = Namespace("https://w3id.org/haven/ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("article", type=Path)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    args = parser.parse_args()
    raw = args.article.read_bytes()
    text = raw.decode("utf-8")
    data = Graph()
    for path in find_files(args.root)["data"]:
        data.parse(path, format="turtle")
    digest = hashlib.sha256(raw).hexdigest()
    pinned = {str(v) for v in data.objects(None, HAVEN.sha256)}
    print(f"sha256 of {args.article}: {digest}")
    print(f"pinned by the data:      {', '.join(sorted(pinned)) or '(none)'}")
    ok = digest in pinned
    if not ok:
        print("MISMATCH: this is not the edition the offsets count in; the spans below are unreliable")
    for node, evidence in sorted(data.subject_objects(HAVEN.evidence), key=lambda pair: str(pair[0])):
        selector = data.value(evidence, OA.hasSelector)
        start, end = data.value(selector, OA.start), data.value(selector, OA.end)
        if start is None or end is None:
            continue
        start, end = int(start), int(end)
        locator = data.value(evidence, HAVEN.locator)
        inside = 0 <= start < end <= len(text)
        ok &= inside
        span = " ".join(text[start:end].split()) if inside else "(outside the text)"
        print(f"\n{node}\n  {locator} [{start}:{end}] {span}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
