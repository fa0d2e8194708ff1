#!/usr/bin/env python3
"""The article coverage map (data/coverage/) checked against the data, and the figures it yields.

    scripts/article_coverage.py report            statements, entities, entities in no statement, blocks
    scripts/article_coverage.py check             every problem, exit status 1 if there is one
    scripts/article_coverage.py write             rewrite the map's statements column from the data
    scripts/article_coverage.py check --article PATH
                                                   also check the map and every evidence span against the
                                                   edition you obtained (sha256 in data/sources.ttl)
    scripts/article_coverage.py report --root DIR  the figures for another tree, e.g. an older commit:
        git archive <commit> data | tar -x -C /tmp/old && scripts/article_coverage.py report --root /tmp/old

data/coverage/blocks.tsv lists every text block of the article by the locator scheme of docs/architecture.md,
with its offsets, whether anything in it is modelled, the statements whose evidence cites it, and a note (for
a block that is not modelled, the reason). data/coverage/entities.tsv gives, for each entity Haven mints that
takes part in no statement, the reason. Nothing here reads the article unless --article is given.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import RDF, SKOS

ROOT = Path(__file__).resolve().parent.parent
BLOCKS_FILE = ROOT / "data" / "coverage" / "blocks.tsv"
ENTITIES_FILE = ROOT / "data" / "coverage" / "entities.tsv"
HAVEN = rdflib.Namespace("https://w3id.org/haven/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
ID = "https://w3id.org/haven/id/"
STATEMENT = ID + "statement/"
MODELLED, NOT_MODELLED = "modelled", "not modelled"
#: blank lines and the "  • " that opens a bullet are all that may separate two blocks
MAX_GAP = 10

#: the ways an entity takes part in a statement: its two ends, where it held, what it concerns, for whom
#: the subject acted, who the source attributes it to, the document it is derived from; the parties of an
#: n-ary statement ("participant") are read from its haven:involves nodes
ROLES = {
    "subject": HAVEN.subject, "object": HAVEN.object, "place": HAVEN.place, "about": HAVEN.about,
    "on behalf of": HAVEN.onBehalfOf, "source": HAVEN.attributedTo,
    "document": rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
}


@dataclass
class Block:
    locator: str
    start: int
    end: int
    status: str
    statements: list[str] = field(default_factory=list)
    note: str = ""


def load_data(root: Path = ROOT) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((root / "data").rglob("*.ttl")):
        graph.parse(path)
    return graph


def read_blocks(path: Path = BLOCKS_FILE) -> list[Block]:
    rows = [r for r in csv.reader(_uncommented(path), delimiter="\t")]
    header, body = rows[0], rows[1:]
    assert header == ["locator", "start", "end", "status", "statements", "note"], header
    return [Block(loc, int(s), int(e), status, stmts.split(), note) for loc, s, e, status, stmts, note in body]


def write_blocks(blocks: list[Block], path: Path = BLOCKS_FILE) -> None:
    comments = [line for line in path.read_text().splitlines(keepends=True) if line.startswith("#")]
    with path.open("w", newline="") as out:
        out.writelines(comments)
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["locator", "start", "end", "status", "statements", "note"])
        for b in blocks:
            writer.writerow([b.locator, b.start, b.end, b.status, " ".join(b.statements), b.note])


def read_entity_reasons(path: Path = ENTITIES_FILE) -> dict[str, str]:
    rows = [r for r in csv.reader(_uncommented(path), delimiter="\t")]
    assert rows[0] == ["entity", "reason"], rows[0]
    return {slug: reason for slug, reason in rows[1:]}


def _uncommented(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def statements(graph: rdflib.Graph) -> set[rdflib.URIRef]:
    """Every statement node: binary ones have a haven:relation, multiparty and single-subject ones only a
    haven:subject, and every one has that."""
    return set(graph.subjects(HAVEN.subject, None)) | set(graph.subjects(HAVEN.relation, None))


def minted_entities(graph: rdflib.Graph) -> set[rdflib.URIRef]:
    """Everything named under hid: that is not a statement: what has a preferred label or an evidence."""
    named = set(graph.subjects(SKOS.prefLabel, None)) | set(graph.subjects(HAVEN.evidence, None))
    return {n for n in named if isinstance(n, rdflib.URIRef) and str(n).startswith(ID)
            and not str(n).startswith(STATEMENT)}


def slug(iri) -> str:
    return str(iri).rsplit("/", 1)[-1]


def citations(graph: rdflib.Graph) -> dict[str, set[str]]:
    """locator -> the slugs of the statements whose evidence cites that block."""
    cited: dict[str, set[str]] = defaultdict(set)
    for st in statements(graph):
        for evidence in graph.objects(st, HAVEN.evidence):
            cited[str(graph.value(evidence, HAVEN.locator))].add(slug(st))
    return cited


def roles(graph: rdflib.Graph) -> dict[rdflib.URIRef, set[str]]:
    """entity -> the roles in which it takes part in at least one statement."""
    taken: dict[rdflib.URIRef, set[str]] = defaultdict(set)
    for st in statements(graph):
        for role, prop in ROLES.items():
            for value in graph.objects(st, prop):
                taken[value].add(role)
        # an n-ary statement's parties sit on its involvement nodes (haven:involves [ haven:participant X ])
        for involvement in graph.objects(st, HAVEN.involves):
            for value in graph.objects(involvement, HAVEN.participant):
                taken[value].add("participant")
    return taken


def problems(graph: rdflib.Graph, blocks: list[Block], reasons: dict[str, str], length: int) -> list[str]:
    found: list[str] = []
    # the map tiles the whole article, in order, once
    position = 0
    for b in blocks:
        if not 0 <= b.start - position <= MAX_GAP or b.end <= b.start:
            found.append(f"{b.locator}: [{b.start}, {b.end}) leaves a gap or overlap after offset {position}")
        position = b.end
    if length - position > MAX_GAP:
        found.append(f"the map ends at {position}, the article at {length}")
    locators = [b.locator for b in blocks]
    found += [f"{loc}: listed twice" for loc in sorted({l for l in locators if locators.count(l) > 1})]
    # every block is modelled (and cited) or not modelled for a stated reason; the lists follow the data
    cited = citations(graph)
    for b in blocks:
        actual = sorted(cited.get(b.locator, ()))
        if b.status == MODELLED and not actual:
            found.append(f"{b.locator}: marked {MODELLED} but no statement cites it")
        elif b.status == NOT_MODELLED and actual:
            found.append(f"{b.locator}: marked {NOT_MODELLED} but cited by {', '.join(actual)}")
        elif b.status not in (MODELLED, NOT_MODELLED):
            found.append(f"{b.locator}: status {b.status!r} is neither {MODELLED!r} nor {NOT_MODELLED!r}")
        if b.status == NOT_MODELLED and not b.note.strip():
            found.append(f"{b.locator}: not modelled, and no reason given")
        if sorted(b.statements) != actual:
            found.append(f"{b.locator}: the map lists {len(b.statements)} statements, the data {len(actual)} "
                         f"(run scripts/article_coverage.py write)")
    found += [f"{loc}: cited by {', '.join(sorted(sts))} but not in the map"
              for loc, sts in sorted(cited.items()) if loc not in locators]
    # every minted entity takes part in a statement, or the map says why not
    taking_part = roles(graph)
    for entity in sorted(minted_entities(graph)):
        name = slug(entity)
        if entity in taking_part and name in reasons:
            found.append(f"{name}: takes part in a statement ({', '.join(sorted(taking_part[entity]))}) "
                         f"yet data/coverage/entities.tsv gives a reason why not")
        elif entity not in taking_part and not reasons.get(name, "").strip():
            found.append(f"{name}: takes part in no statement and data/coverage/entities.tsv gives no reason")
    minted = {slug(e) for e in minted_entities(graph)}
    found += [f"{name}: in data/coverage/entities.tsv but Haven mints no such entity"
              for name in sorted(set(reasons) - minted)]
    return found


def edition_length(graph: rdflib.Graph) -> int:
    (extent,) = graph.objects(None, DCTERMS.extent)
    return int(graph.value(extent, RDF.value))


def article_problems(graph: rdflib.Graph, blocks: list[Block], text: str) -> list[str]:
    """What only the edition itself can confirm: its hash, the block boundaries, every evidence span."""
    found = []
    (expected,) = map(str, graph.objects(None, HAVEN.sha256))
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != expected:
        return [f"the edition's sha256 is {actual}, the data's {expected}: offsets would not apply"]
    position = 0
    for b in blocks:
        between = text[position:b.start]
        if re.sub(r"[\s•]", "", between):
            found.append(f"{b.locator}: text outside every block before it: {between.strip()[:40]!r}")
        inner = text[b.start:b.end]
        if inner != inner.lstrip() or "\n\n" in inner:
            found.append(f"{b.locator}: [{b.start}, {b.end}) is not one block")
        position = b.end
    if text[position:].strip():
        found.append("text after the last block")
    for holder, evidence in graph.subject_objects(HAVEN.evidence):
        selector = graph.value(evidence, OA.hasSelector)
        start, end = int(graph.value(selector, OA.start)), int(graph.value(selector, OA.end))
        span = text[start:end]
        if not span or span != span.strip():
            found.append(f"{slug(holder)}: span [{start}, {end}) is empty or starts/ends with blank space")
    return found


def figures(graph: rdflib.Graph, blocks: list[Block] | None, reasons: dict[str, str]) -> str:
    """The report; without a map (a tree older than it) the blocks are counted by what cites them."""
    taking_part = roles(graph)
    entities = minted_entities(graph)
    idle = sorted(slug(e) for e in entities if e not in taking_part)
    lines = [
        f"statements: {len(statements(graph))}",
        f"entities minted: {len(entities)}",
        f"entities in no statement: {len(idle)}",
        *[f"  {name}: {reasons.get(name, '(no reason given)')}" for name in idle],
    ]
    if blocks is None:
        lines.append(f"blocks cited by a statement: {len(citations(graph))} (this tree has no coverage map)")
        return "\n".join(lines)
    modelled = [b for b in blocks if b.status == MODELLED]
    lines += [
        f"blocks: {len(blocks)} ({len(modelled)} modelled, {len(blocks) - len(modelled)} deliberately not modelled)",
        *[f"  {b.locator}: {b.note}" for b in blocks if b.status == NOT_MODELLED],
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["report", "check", "write"])
    parser.add_argument("--article", type=Path, help="the edition of the article, to check offsets against")
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose data/ to read (report only)")
    args = parser.parse_args(argv)
    if args.command == "report" and args.root != ROOT:
        mapped = (args.root / BLOCKS_FILE.relative_to(ROOT)).exists()
        graph = load_data(args.root)
        blocks = read_blocks(args.root / BLOCKS_FILE.relative_to(ROOT)) if mapped else None
        reasons = read_entity_reasons(args.root / ENTITIES_FILE.relative_to(ROOT)) if mapped else {}
        print(figures(graph, blocks, reasons))
        return 0
    graph, blocks, reasons = load_data(), read_blocks(), read_entity_reasons()
    length = edition_length(graph)
    if args.command == "write":
        cited = citations(graph)
        for b in blocks:
            b.statements = sorted(cited.get(b.locator, ()))
        write_blocks(blocks)
        return 0
    if args.command == "report":
        print(figures(graph, blocks, reasons))
        return 0
    found = problems(graph, blocks, reasons, length)
    if args.article:
        found += article_problems(graph, blocks, args.article.read_text(encoding="utf-8"))
    print("\n".join(found) if found else "coverage map and data agree")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
