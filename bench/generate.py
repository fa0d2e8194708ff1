"""Synthetic Haven source trees of a chosen size, shaped by the ontology and valid under the shapes.

    bench/generate.py --triples 100000 --seed 42 --out /tmp/haven-100k

writes ``DIR/ontology/`` and ``DIR/shapes/`` (copies of this checkout's) and ``DIR/data/``: entities of every
kind (organisations, states, people, places, events, ideologies, a trade, the source document) and statement
nodes of every concrete statement class, each with certainty, evidence (locator + text position selector),
dates with precisions, places, attributions and footnotes in the proportions of the hand-written data.
``haven build --root DIR`` accepts it. ``DIR/bench.json`` records the counts and a sample of entity slugs
for the benchmark to dereference.

Why these choices:
* Plain string formatting, not rdflib: 1M triples are written in a few seconds, and the output is a pure
  function of (seed, size, ontology), so the same arguments give the same bytes.
* The subject and object of each statement are drawn from the entities whose class satisfies the direct
  property's rdfs:domain / rdfs:range, read from the ontology itself, so a new statement class or a changed
  domain is picked up without editing this file.
* A few real slugs (al-qaeda, taliban, mullah-mohammed-omar, gretchen-peters, narcotics-trade...) exist as hubs
  so that the competency questions, which name them, return rows and exercise their joins at every size.
  Half of all statement ends go to 5 % "hub" entities, which skews degrees as real graphs are skewed.
* Files are cut below the build's per-file limit (4 MiB), and every entity is typed in exactly one file.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HAVEN = "https://w3id.org/haven/ontology#"
SOURCE = "the-al-qaeda-afghan-taliban-connections"
#: a source file is cut once it passes this many bytes (the build refuses files over 4 MiB)
FILE_BYTES = 3_000_000
#: how many entity slugs bench.json lists for dereferencing
SAMPLE_SLUGS = 200

PREFIXES = """@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix haven:   <https://w3id.org/haven/ontology#> .
@prefix hid:     <https://w3id.org/haven/id/> .
@prefix hst:     <https://w3id.org/haven/id/statement/> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

"""

# The source edition's blocks (docs/architecture.md): locator, start, end.
BLOCKS = [
    ("paragraph 3", 163, 638), ("paragraph 4", 640, 787), ("paragraph 5", 789, 1255),
    ("paragraph 6", 1257, 1559), ("paragraph 7", 1561, 1945), ("paragraph 8", 1947, 2582),
    ("paragraph 9", 2584, 3065), ("paragraph 10", 3067, 3456), ("paragraph 11", 3458, 3691),
    ("paragraph 12", 3693, 4073), ("paragraph 13", 4075, 4640), ("paragraph 14", 4643, 4734),
    ("bullet 1", 4738, 5294), ("bullet 2", 5297, 5419), ("bullet 3", 5422, 5908), ("bullet 4", 5911, 6657),
    ("bullet 5", 6660, 7777), ("bullet 6", 7780, 8516), ("bullet 7", 8519, 9146), ("bullet 8", 9149, 9654),
    ("quotation after bullet 8", 9656, 10310), ("bullet 9", 10314, 10942), ("bullet 10", 10945, 11674),
    ("bullet 11", 11677, 12478), ("bullet 12", 12788, 13924), ("paragraph 20", 13931, 14486),
    ("paragraph 21", 14488, 15185), ("paragraph 22", 15187, 15872), ("paragraph 23", 15874, 16495),
]

# Entity kinds: share of all entities, file name, and the classes drawn from (class, weight).
KINDS = {
    "organisation": (0.28, "organisations", [("MilitantOrganization", 70), ("Organization", 10),
                                              ("StateAgency", 15), ("Coalition", 5)]),
    "person": (0.36, "people", [("Person", 1)]),
    "state": (0.04, "states", [("State", 1)]),
    "place": (0.14, "places", [("Country", 10), ("Province", 25), ("City", 45), ("Region", 20)]),
    "event": (0.14, "events", [("Event", 10), ("Attack", 20), ("Assassination", 8), ("MilitaryOffensive", 15),
                               ("Massacre", 7), ("War", 15), ("Negotiation", 10), ("HeritageDestruction", 5),
                               ("Takeover", 10), ("Merger", 3), ("Split", 3)]),
    "ideology": (0.02, "ideologies", [("Ideology", 1)]),
    "trade": (0.02, "trades", [("Trade", 1)]),
}

# Real slugs the competency questions name: slug, kind, classes, label.
ANCHORS = [
    ("al-qaeda", "organisation", ["MilitantOrganization"], "Al-Qaeda"),
    ("taliban", "organisation", ["MilitantOrganization"], "Taliban"),
    ("islamic-emirate-of-afghanistan", "state", ["State"], "Islamic Emirate of Afghanistan"),
    ("afghanistan", "state", ["State", "Country"], "Afghanistan"),
    ("pakistan", "state", ["State", "Country"], "Pakistan"),
    ("mullah-mohammed-omar", "person", ["Person"], "Mullah Mohammed Omar"),
    ("osama-bin-laden", "person", ["Person"], "Osama bin Laden"),
    ("gretchen-peters", "person", ["Person"], "Gretchen Peters"),
    ("farhan-zahid", "person", ["Person"], "Farhan Zahid"),
    ("narcotics-trade", "trade", ["Trade"], "Narcotics trade"),
    ("deobandism", "ideology", ["Ideology"], "Deobandism"),
]

# Statement classes are read from the ontology (every class with a haven:directProperty), so a new relation
# is generated as soon as it is declared; each one's share of statements and its family file follow the
# project's own data/statements/ (a class the data does not use yet gets weight 1 and a file of its own name).
# Multiparty statements and statements about one thing (names, types, lifespans) have no direct property and
# are not generated.

CERTAINTIES = [("Stated", 60), ("Reported", 15), ("Believed", 10), ("Alleged", 10), ("Disputed", 5)]
PRECISIONS = ["DayPrecision", "MonthPrecision", "YearPrecision", "DecadePrecision"]
TERMS = ["armed insurgents", "terrorist group", "freedom fighters", "criminal network", "proxy force"]
TITLES = ["Amir", "Commander", "Spokesman", "Deputy Amir", "Shura member"]
SYLLABLES = ["al", "ba", "dar", "fa", "gul", "har", "ja", "kha", "lash", "ma", "na", "qa", "ra", "sha", "ta",
             "wa", "ya", "zar", "din", "mir", "bad", "kot", "pur", "stan", "ul", "ud", "ker", "jam", "sal", "hid"]
# Spellings the "find by any spelling" question looks for, given to a few generated entities as altLabels.
SPELLINGS = ["Maosud", "Yalshidiv", "Xinxiang", "Mazar-e-Shariff"]


@dataclass
class Entity:
    slug: str
    kind: str
    classes: list[str]
    label: str


@dataclass
class Writer:
    """Blocks of Turtle collected per family and cut into files below FILE_BYTES."""
    out: Path
    triples: int = 0
    files: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)

    def add(self, folder: str, family: str, block: str, triples: int) -> None:
        key = f"{folder}/{family}"
        self.files.setdefault(key, []).append(block)
        self.sizes[key] = self.sizes.get(key, 0) + len(block)
        self.triples += triples
        if self.sizes[key] >= FILE_BYTES:
            self.flush(key)

    def flush(self, key: str) -> None:
        blocks = self.files.pop(key, [])
        self.sizes.pop(key, None)
        if not blocks:
            return
        number = self.counters[key] = self.counters.get(key, 0) + 1
        path = self.out / "data" / f"{key}-{number:04d}.ttl"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Synthetic Haven data for benchmarks (bench/generate.py): {key}, part {number}.\n\n"
        path.write_text(header + PREFIXES + "\n".join(blocks), encoding="utf-8")
        self.written.append(path)

    def close(self) -> None:
        for key in sorted(self.files):
            self.flush(key)


class Generator:
    def __init__(self, seed: int, ontology: dict):
        self.rng = random.Random(seed)
        #: class → (property, domain classes, range classes): a union domain or range lists its members
        self.domains: dict[str, tuple[str, list[str], list[str]]] = ontology["statements"]
        #: class → (family file, weight)
        self.mix: dict[str, tuple[str, int]] = ontology["mix"]
        self.superclasses: dict[str, set[str]] = ontology["superclasses"]
        self.entities: list[Entity] = []
        self.pools: dict[str, list[Entity]] = {}
        self.slugs: set[str] = set()

    # -- helpers --------------------------------------------------------------------------------------
    def weighted(self, pairs):
        names, weights = zip(*pairs)
        return self.rng.choices(names, weights)[0]

    def name(self) -> str:
        words = [("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3)))).capitalize()
                 for _ in range(self.rng.randint(1, 3))]
        return " ".join(words)

    def evidence(self, count: int) -> tuple[str, int]:
        nodes = []
        for _ in range(count):
            locator, start, end = self.rng.choice(BLOCKS)
            a = self.rng.randint(start, end - 2)
            b = self.rng.randint(a + 1, min(end, a + 400))
            nodes.append(f"""[
        a oa:SpecificResource ;
        oa:hasSource hid:{SOURCE} ;
        haven:locator "{locator}"@en ;
        oa:hasSelector [
            a oa:TextPositionSelector ;
            oa:start "{a}"^^xsd:nonNegativeInteger ;
            oa:end "{b}"^^xsd:nonNegativeInteger
        ]
    ]""")
        return "    haven:evidence " + ", ".join(nodes) + " .\n", 8 * count

    def dates(self, lines: list[str]) -> int:
        start = self.rng.randint(1975, 2020)
        lines.append(f'    haven:startDate "{start}-{self.rng.randint(1, 12):02d}-01"^^xsd:date ;')
        lines.append(f"    haven:startPrecision haven:{self.rng.choice(PRECISIONS)} ;")
        # every date says where it comes from (data/README.md, Dates); generated ones claim the text
        lines.append("    haven:dateBasis haven:FromSourceText ;")
        if self.rng.random() < 0.7:
            end = min(2030, start + self.rng.randint(0, 12))
            lines.append(f'    haven:endDate "{end}-12-31"^^xsd:date ;')
            lines.append(f"    haven:endPrecision haven:{self.rng.choice(PRECISIONS)} ;")
            return 5
        return 3

    # -- entities -------------------------------------------------------------------------------------
    def make_entities(self, count: int) -> None:
        for slug, kind, classes, label in ANCHORS:
            self.register(Entity(slug, kind, classes, label))
        kinds = [(k, v[0]) for k, v in KINDS.items()]
        numbers: dict[str, int] = {}
        for _ in range(max(0, count - len(ANCHORS))):
            kind = self.weighted(kinds)
            cls = self.weighted(KINDS[kind][2])
            classes = [cls, "Country"] if kind == "state" else [cls]
            numbers[kind] = n = numbers.get(kind, 0) + 1
            # the number keeps labels unique (the build warns about two entities sharing a preferred label)
            label = f"{self.name()} {n}"
            slug = f"{kind}-{label.lower().replace(' ', '-')}"
            self.register(Entity(slug, kind, classes, label))

    def register(self, entity: Entity) -> None:
        self.entities.append(entity)
        self.slugs.add(entity.slug)
        for cls in entity.classes:
            for sup in sorted(self.superclasses.get(cls, {cls})):
                pool = self.pools.setdefault(sup, [])
                if not pool or pool[-1] is not entity:
                    pool.append(entity)

    def write_entities(self, writer: Writer) -> None:
        places = self.pools.get("Place", [])
        creator = "farhan-zahid"
        writer.add("entities", "sources", f"""hid:{SOURCE}
    a haven:SourceDocument ;
    rdfs:label "The Al-Qaeda-Afghan Taliban Connections"@en ;
    skos:prefLabel "The Al-Qaeda-Afghan Taliban Connections"@en ;
    skos:definition "The analysis article every synthetic claim is attributed to."@en ;
    dcterms:creator hid:{creator} ;
    haven:sha256 "a6ebdf216a047df2e73664bc3e7cf93d7f114767472cf0296bf7e5331e6e105a" ;
{self.evidence(1)[0]}""", 6 + 8)
        writer.add("entities", "ideologies", """hid:ideologies
    a skos:ConceptScheme ;
    rdfs:label "Ideologies"@en ;
    skos:prefLabel "Ideologies"@en ;
    skos:definition "Doctrines ascribed to the actors."@en .
""", 4)
        spelling = iter(SPELLINGS)
        for entity in self.entities:
            types = ", ".join(f"haven:{c}" for c in entity.classes)
            lines = [f"hid:{entity.slug}"]
            triples = len(entity.classes) + 2
            if entity.kind == "ideology":
                types += ", skos:Concept"
                triples += 1
            lines += [f"    a {types} ;", f'    rdfs:label "{entity.label}"@en ;',
                      f'    skos:prefLabel "{entity.label}"@en ;']
            alts = [f'"{entity.label.upper()}"@en'] if self.rng.random() < 0.5 else []
            if self.rng.random() < 0.3:
                alts.append(f'"{self.name()}"@en')
            if self.rng.random() < 0.001:
                alts.append(f'"{next(spelling, SPELLINGS[0])}"@en')
            if alts:
                lines.append(f"    skos:altLabel {', '.join(alts)} ;")
                triples += len(alts)
            lines.append(f'    skos:definition "A synthetic {entity.kind} made for benchmarks: {entity.label}."@en ;')
            triples += 1
            if entity.kind == "ideology":
                lines.append("    skos:inScheme hid:ideologies ;")
                triples += 1
            if entity.kind == "place" and places and self.rng.random() < 0.6:
                broader = self.rng.choice(places)
                if broader is not entity:
                    lines.append(f"    haven:locatedIn hid:{broader.slug} ;")
                    triples += 1
            if entity.kind == "event":
                triples += self.dates(lines)
                if places:
                    lines.append(f"    haven:place hid:{self.rng.choice(places).slug} ;")
                    triples += 1
            lines.append(f"    dcterms:source hid:{SOURCE} ;")
            triples += 1
            evidence, count = self.evidence(1 if self.rng.random() < 0.8 else 2)
            writer.add("entities", KINDS[entity.kind][1], "\n".join(lines) + "\n" + evidence, triples + count)

    # -- statements -----------------------------------------------------------------------------------
    def pick(self, cls: str, other: Entity | None = None) -> Entity | None:
        pool = self.pools.get(cls)
        if not pool:
            return None
        for _ in range(8):
            # half of the picks go to the first 5 % of the pool (anchors come first): skewed degrees
            hubs = max(1, len(pool) // 20)
            entity = pool[self.rng.randrange(hubs)] if self.rng.random() < 0.5 else self.rng.choice(pool)
            if entity is not other:
                return entity
        return None

    def write_statements(self, writer: Writer, target: int) -> int:
        mix = self.mix
        classes = sorted(mix)
        weights = [mix[c][1] for c in classes]
        actors = self.pools.get("Actor", [])
        persons = self.pools.get("Person", [])
        used: dict[str, int] = {}
        count = 0
        while writer.triples < target:
            cls = self.rng.choices(classes, weights)[0]
            prop, domains, ranges = self.domains[cls]
            subject = self.pick(self.rng.choice(domains))
            obj = self.pick(self.rng.choice(ranges), subject) if subject else None
            if subject is None or obj is None:
                continue
            family = mix[cls][0]
            slug = f"{family}-{subject.slug}-{obj.slug}"
            used[slug] = n = used.get(slug, 0) + 1
            if n > 1:
                slug = f"{slug}-{n}"
            certainty = self.weighted(CERTAINTIES)
            lines = [f"hst:{slug}", f"    a haven:{cls} ;", f"    haven:relation haven:{prop} ;",
                     f"    haven:subject hid:{subject.slug} ;", f"    haven:object hid:{obj.slug} ;"]
            triples = 4
            if self.rng.random() < 0.3 and self.pools.get("Place"):
                lines.append(f"    haven:place hid:{self.rng.choice(self.pools['Place']).slug} ;")
                triples += 1
            if self.rng.random() < 0.6:
                triples += self.dates(lines)
            if cls == "AllegiancePledge" and self.rng.random() < 0.3 and actors:
                lines.append(f"    haven:onBehalfOf hid:{self.rng.choice(actors).slug} ;")
                triples += 1
            if cls in ("Leadership", "DeputyLeadership", "Membership") and self.rng.random() < 0.5:
                lines.append(f'    haven:roleTitle "{self.rng.choice(TITLES)}"@en ;')
                triples += 1
            if cls == "Characterization":
                lines.append(f'    haven:term "{self.rng.choice(TERMS)}"@en ;')
                triples += 1
            lines.append(f"    haven:certainty haven:{certainty} ;")
            triples += 1
            if certainty == "Reported" and persons:
                # Gretchen Peters is the anchor hub of attributions (the "attributed to Peters" question)
                who = "gretchen-peters" if self.rng.random() < 0.2 else self.rng.choice(persons).slug
                lines.append(f"    haven:attributedTo hid:{who} ;")
                lines.append("    haven:attributionBasis haven:FromSourceText ;")
                triples += 2
            if self.rng.random() < 0.1:
                lines.append(f"    haven:footnote {self.rng.randint(1, 11)} ;")
                triples += 1
            lines.append(f'    haven:summary "Synthetic claim {count + 1}: {subject.label} {prop} '
                         f'{obj.label}, as the source puts it ({certainty.lower()})."@en ;')
            lines.append(f"    prov:wasDerivedFrom hid:{SOURCE} ;")
            triples += 2
            evidence, extra = self.evidence(1 if self.rng.random() < 0.85 else 2)
            writer.add("statements", family, "\n".join(lines) + "\n" + evidence, triples + extra)
            count += 1
        return count


def read_ontology(path: Path, data: Path) -> dict:
    """Statement classes with their direct property's domain and range (lists: a union gives its members), each
    class's superclasses, and the statement mix: class → (family file, weight) from the statements of `data`."""
    from collections import Counter

    from rdflib import BNode, Graph, Namespace, URIRef
    from rdflib.collection import Collection
    from rdflib.namespace import RDF, RDFS, OWL

    graph = Graph().parse(path / "haven.ttl", format="turtle")  # not ontology/versions/: released files
    h = Namespace(HAVEN)
    local = lambda iri: str(iri)[len(HAVEN):]  # noqa: E731

    def members(node) -> list[str]:
        if isinstance(node, BNode):
            return [local(c) for c in Collection(graph, graph.value(node, OWL.unionOf))]
        return [local(node)]

    statements = {}
    for prop, cls in graph.subject_objects(h.qualifiedBy):
        statements[local(cls)] = (local(prop), members(graph.value(prop, RDFS.domain)),
                                  members(graph.value(prop, RDFS.range)))
    used: Counter = Counter()
    files: dict[str, Counter] = {}
    for file in sorted((data / "statements").glob("*.ttl")):
        for cls in Graph().parse(file, format="turtle").objects(None, RDF.type):
            if str(cls).startswith(HAVEN):
                used[local(cls)] += 1
                files.setdefault(local(cls), Counter())[file.stem] += 1
    mix = {cls: (files[cls].most_common(1)[0][0] if cls in files else re.sub(r"(?<!^)(?=[A-Z])", "-", cls).lower(),
                 used.get(cls, 0) or 1) for cls in statements}
    superclasses = {}
    for cls in {c for _, _, classes in KINDS.values() for c, _ in classes} | {"Country"}:
        closure = {local(c) for c in graph.transitive_objects(URIRef(HAVEN + cls), RDFS.subClassOf)
                   if isinstance(c, URIRef) and str(c).startswith(HAVEN)}
        superclasses[cls] = closure
    return {"statements": statements, "superclasses": superclasses, "mix": mix}


def generate(triples: int, seed: int, out: Path, repo: Path = REPO) -> dict:
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out / "data", ignore_errors=True)
    for part in ("ontology", "shapes"):
        shutil.rmtree(out / part, ignore_errors=True)
        shutil.copytree(repo / part, out / part)
    ontology = read_ontology(out / "ontology", repo / "data")
    gen = Generator(seed, ontology)
    # about 90 data triples per entity once its statements are counted (15 of its own, ~4 statements of ~19)
    gen.make_entities(max(len(ANCHORS) + 20, triples // 90))
    writer = Writer(out)
    gen.write_entities(writer)
    statements = gen.write_statements(writer, triples)
    writer.close()
    rng = random.Random(seed + 1)
    plain = [e.slug for e in gen.entities if e.kind in ("organisation", "person", "state", "place", "event")]
    sample = sorted(rng.sample(plain, min(SAMPLE_SLUGS, len(plain))))
    info = {
        "seed": seed, "requested_triples": triples, "data_triples": writer.triples,
        "entities": len(gen.entities), "statements": statements, "files": len(writer.written),
        "sample_entities": sample, "anchors": [a[0] for a in ANCHORS],
    }
    (out / "bench.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    info["seconds"] = round(time.perf_counter() - started, 2)
    return info


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def format_size(triples: int) -> str:
    """The inverse of parse_size, for labels: 10_000_000 → "10M", 100_000 → "100k"."""
    for suffix, factor in (("M", 1_000_000), ("k", 1_000)):
        if triples >= factor and triples % factor == 0:
            return f"{triples // factor}{suffix}"
    return str(triples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=parse_size, required=True, help="data triples to write (10k, 1M...)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="source tree to (re)write")
    args = parser.parse_args(argv)
    info = generate(args.triples, args.seed, args.out)
    print(f"{args.out}: {info['data_triples']:,} data triples, {info['entities']:,} entities, "
          f"{info['statements']:,} statements in {info['files']} files ({info['seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
