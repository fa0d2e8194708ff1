"""Checks on the knowledge graph itself that SHACL cannot express without the source at hand.

The article is not shipped with Haven, but its structure is known: the character ranges of its paragraphs
and bullets (docs/architecture.md). Evidence offsets must fall inside the block their locator names. The
external identifiers must be exactly the verified ones, and the article's own spellings must find their
entity.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

ROOT = Path(__file__).resolve().parent.parent
HAVEN = rdflib.Namespace("https://w3id.org/haven/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
ID = "https://w3id.org/haven/id/"
ARTICLE_LENGTH = 16651

#: character ranges [start, end) of the article's blocks, from the edition with sha256 a6ebdf21…e105a
BLOCKS = {
    "paragraph 1": (0, 76), "paragraph 2": (85, 157), "paragraph 3": (163, 638), "paragraph 4": (640, 787),
    "paragraph 5": (789, 1255), "paragraph 6": (1257, 1559), "paragraph 7": (1561, 1945),
    "paragraph 8": (1947, 2582), "paragraph 9": (2584, 3065), "paragraph 10": (3067, 3456),
    "paragraph 11": (3458, 3691), "paragraph 12": (3693, 4073), "paragraph 13": (4075, 4640),
    "paragraph 14": (4643, 4734), "paragraph 18": (12480, 12783), "paragraph 20": (13931, 14486),
    "paragraph 21": (14488, 15185), "paragraph 22": (15187, 15872), "paragraph 23": (15874, 16495),
    "paragraph 24": (16498, 16651),
    "bullet 1": (4738, 5294), "bullet 2": (5297, 5419), "bullet 3": (5422, 5908), "bullet 4": (5911, 6657),
    "bullet 5": (6660, 7777), "bullet 6": (7780, 8516), "bullet 7": (8519, 9146), "bullet 8": (9149, 9654),
    "quotation after bullet 8": (9656, 10310), "bullet 9": (10314, 10942), "bullet 10": (10945, 11674),
    "bullet 11": (11677, 12478), "bullet 12": (12788, 13924),
}

#: the only Wikidata identifiers verified for the article's entities (shared/alignments, verified = yes)
VERIFIED_WIKIDATA = {
    "al-qaeda": "Q34490", "islamic-emirate-of-afghanistan": "Q427941", "islamic-state": "Q2429253",
    "osama-bin-laden": "Q1317", "tony-blair": "Q9545", "afghanistan": "Q889", "pakistan": "Q843",
    "saudi-arabia": "Q851", "sudan": "Q1049", "uzbekistan": "Q265", "iran": "Q794", "united-states": "Q30",
    "philippines": "Q928", "indonesia": "Q252", "malaysia": "Q833", "xinjiang": "Q34800", "bangladesh": "Q902",
    "maldives": "Q826", "chechnya": "Q5187", "russia": "Q159", "mazar-i-sharif": "Q130469",
    "bamyan-province": "Q171382", "kabul": "Q5838", "karachi": "Q8660", "lahore": "Q11739",
    "federally-administered-tribal-areas": "Q208270", "abu-dhabi": "Q1519", "doha": "Q3861",
    "september-11-attacks": "Q10806",
}

#: spellings the article uses, and the entity each must find
ARTICLE_SPELLINGS = {
    "Maosud": "ahmad-shah-massoud", "Masoud": "ahmad-shah-massoud", "Yalshidiv": "tahir-yuldashev",
    "Yuldeshev": "tahir-yuldashev", "Xinxiang": "xinjiang", "Mazar-e-Shariff": "mazar-i-sharif",
    "Laskhkar-e-Taiba": "lashkar-e-taiba", "Jammah Islamiyah": "jemaah-islamiyah", "Omar Khatab": "ibn-al-khattab",
    "Shamiyal Baseyov": "shamil-basayev", "Harkat ul Mujahedeen": "harkat-ul-mujahideen",
    "Jaish-e-Mohammad": "jaish-e-mohammed", "Bamian": "bamyan-province", "Mullah Muhammad Omar": "mullah-mohammed-omar",
}


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        graph.parse(path)
    return graph


def _evidence(data):
    for holder, evidence in data.subject_objects(HAVEN.evidence):
        locator = str(data.value(evidence, HAVEN.locator))
        selector = data.value(evidence, OA.hasSelector)
        yield holder, locator, int(data.value(selector, OA.start)), int(data.value(selector, OA.end))


def test_every_evidence_span_lies_inside_the_block_its_locator_names(data):
    spans = list(_evidence(data))
    assert len(spans) > 200
    misplaced = [
        (str(holder), locator, start, end)
        for holder, locator, start, end in spans
        if locator not in BLOCKS or not (BLOCKS[locator][0] <= start < end <= BLOCKS[locator][1])
    ]
    assert not misplaced, misplaced[:10]


def test_block_check_catches_a_span_outside_its_block(data):
    bad = rdflib.Graph()
    evidence, selector = rdflib.BNode(), rdflib.BNode()
    bad.add((rdflib.URIRef(ID + "x"), HAVEN.evidence, evidence))
    bad.add((evidence, HAVEN.locator, rdflib.Literal("bullet 1", lang="en")))
    bad.add((evidence, OA.hasSelector, selector))
    bad.add((selector, OA.start, rdflib.Literal(100)))
    bad.add((selector, OA.end, rdflib.Literal(200)))
    (_, locator, start, end), = _evidence(bad)
    assert not (BLOCKS[locator][0] <= start < end <= BLOCKS[locator][1])


def test_wikidata_links_are_exactly_the_verified_ones(data):
    published = {
        str(entity)[len(ID):]: str(qid).rsplit("/", 1)[-1] for entity, qid in data.subject_objects(HAVEN.wikidata)
    }
    unverified = {slug: qid for slug, qid in published.items() if VERIFIED_WIKIDATA.get(slug) != qid}
    assert not unverified, f"Wikidata identifiers that are not verified: {unverified}"
    assert set(published) == set(VERIFIED_WIKIDATA), set(VERIFIED_WIKIDATA) ^ set(published)


@pytest.mark.parametrize("spelling,slug", sorted(ARTICLE_SPELLINGS.items()))
def test_the_articles_spelling_finds_its_entity(data, spelling, slug):
    entity = rdflib.URIRef(ID + slug)
    names = {str(n) for n in data.objects(entity, SKOS.prefLabel)} | {str(n) for n in data.objects(entity, SKOS.altLabel)}
    assert any(spelling.lower() in name.lower() for name in names), f"{spelling!r} not among {sorted(names)}"


def test_slugs_are_lowercase_hyphenated_and_stable_in_form(data):
    pattern = re.compile(r"^(statement/)?[a-z0-9]+(-[a-z0-9]+)*$")
    slugs = {str(s)[len(ID):] for s in data.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(ID)}
    assert slugs
    assert not [s for s in slugs if not pattern.match(s)]


def test_the_graph_covers_the_article(data):
    """The article names ~17 organisations, 16 people, 20 places, 8 events and states ~60 relations."""
    def count(cls_names):
        return len({s for c in cls_names for s in data.subjects(RDF.type, HAVEN[c])})

    assert count(["MilitantOrganization", "Coalition", "StateAgency", "Organization"]) >= 17
    assert count(["Person"]) >= 15
    assert count(["Country", "Province", "City", "Region"]) >= 20
    assert count(["Event", "War", "Attack", "Assassination", "MilitaryOffensive", "Massacre",
                  "Negotiation", "HeritageDestruction", "Takeover"]) >= 8
    statements = {s for s in data.subjects(HAVEN.relation, None)}
    assert len(statements) >= 60
    kinds = Counter(str(data.value(s, HAVEN.relation)).split("#")[1] for s in statements)
    required = {"pledgedAllegianceTo", "providedSanctuaryTo", "providedFundingTo", "providedMaterielTo",
                "providedFightersTo", "providedTrainingTo", "alliedWith", "cooperatedWith", "foughtAgainst",
                "leaderOf", "deputyLeaderOf", "memberOf", "founded", "providedStateSupportTo", "proscribed",
                "characterised", "involvedInTrade", "advised", "tookRefugeIn", "responsibleFor",
                "participatedIn", "negotiatedWith", "recognisedAsLeader"}
    assert not required - set(kinds), f"relation kinds the source states but the data lacks: {required - set(kinds)}"


def test_every_statement_and_entity_has_located_evidence(data):
    holders = {h for h, *_ in _evidence(data)}
    named = {s for s in data.subjects(SKOS.prefLabel, None) if str(s).startswith(ID) and s != rdflib.URIRef(ID + "ideologies")}
    statements = set(data.subjects(HAVEN.relation, None))
    sources = set(data.subjects(RDF.type, HAVEN.SourceDocument))
    missing = (named | statements) - holders - sources
    assert not missing, sorted(map(str, missing))[:10]
