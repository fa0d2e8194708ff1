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

#: character ranges [start, end) of the article's blocks, from the coverage map (its one home)
BLOCKS = {
    row[0]: (int(row[1]), int(row[2]))
    for row in (line.split("\t") for line in (ROOT / "data" / "coverage" / "blocks.tsv").read_text().splitlines()
                if line and not line.startswith("#"))
    if row[0] != "locator"
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

#: wording of a summary that says the source only believes or presumes the claim (data/README.md, certainty)
BELIEF = re.compile(r"\b(believed?|presum\w*|thought|seem\w*|apparently|appears?)\b", re.I)
#: wording that puts the claim itself in doubt; a summary may still report that the author presumes a *reason*
DOUBT = re.compile(r"\b(is|are|was|were) (believed|thought)\b|\bapparently\b|\bit is believed\b", re.I)


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
    statements = set(data.subjects(HAVEN.subject, None)) | set(data.subjects(HAVEN.relation, None))
    sources = set(data.subjects(RDF.type, HAVEN.SourceDocument))
    missing = (named | statements) - holders - sources
    assert not missing, sorted(map(str, missing))[:10]


def certainty_problems(graph: rdflib.Graph) -> list[str]:
    """The mechanical rows of the certainty table in data/README.md."""
    found = []
    members = {(person, org) for st in graph.subjects(HAVEN.relation, None)
               if graph.value(st, HAVEN.relation) in (HAVEN.memberOf, HAVEN.leaderOf, HAVEN.deputyLeaderOf)
               for person, org in [(graph.value(st, HAVEN.subject), graph.value(st, HAVEN.object))]}
    for st in set(graph.subjects(HAVEN.subject, None)) | set(graph.subjects(HAVEN.relation, None)):
        certainty = graph.value(st, HAVEN.certainty)
        sources = set(graph.objects(st, HAVEN.attributedTo))
        summary = str(graph.value(st, HAVEN.summary) or "")
        parties = {graph.value(st, HAVEN.subject), graph.value(st, HAVEN.object)}
        name = str(st).rsplit("/", 1)[-1]
        if certainty == HAVEN.Reported and not sources:
            found.append(f"{name}: Reported, but no haven:attributedTo names the source")
        if certainty == HAVEN.Stated and sources:
            found.append(f"{name}: Stated in the author's voice, yet attributed to {sorted(map(str, sources))}")
        if certainty == HAVEN.Alleged and sources:
            outsiders = [s for s in sources if s not in parties and not any((s, p) in members for p in parties)]
            if outsiders:
                found.append(f"{name}: Alleged, but {outsiders[0]} is a named source, not a party: Reported")
        if certainty == HAVEN.Alleged and not sources and "unnamed" not in summary.lower():
            found.append(f"{name}: Alleged with no named party, so the summary must say the sources are unnamed")
        if certainty == HAVEN.Believed and not BELIEF.search(summary):
            found.append(f"{name}: Believed, but the summary does not say it is only believed or presumed")
        if certainty != HAVEN.Believed and DOUBT.search(summary):
            found.append(f"{name}: the summary says the claim is only believed, so its certainty is Believed")
    return found


def test_certainty_follows_the_decision_table(data):
    assert certainty_problems(data) == []


def _claim(certainty, summary, sources=(), subject="taliban", obj="al-qaeda"):
    graph, st = rdflib.Graph(), rdflib.URIRef(ID + "statement/alliance-x")
    graph.add((st, HAVEN.relation, HAVEN.alliedWith))
    graph.add((st, HAVEN.subject, rdflib.URIRef(ID + subject)))
    graph.add((st, HAVEN.object, rdflib.URIRef(ID + obj)))
    graph.add((st, HAVEN.certainty, HAVEN[certainty]))
    graph.add((st, HAVEN.summary, rdflib.Literal(summary, lang="en")))
    for source in sources:
        graph.add((st, HAVEN.attributedTo, rdflib.URIRef(ID + source)))
    return graph


@pytest.mark.parametrize("certainty,summary,sources,expected", [
    ("Alleged", "Blair said so.", ["tony-blair"], "not a party: Reported"),
    ("Reported", "Someone said so.", [], "no haven:attributedTo"),
    ("Stated", "Peters says so.", ["gretchen-peters"], "Stated in the author's voice"),
    ("Alleged", "Sources say so.", [], "must say the sources are unnamed"),
    ("Believed", "They worked together.", [], "does not say it is only believed"),
    ("Stated", "The two are thought to have worked together.", [], "its certainty is Believed"),
])
def test_the_certainty_check_catches_each_rule(certainty, summary, sources, expected):
    assert any(expected in p for p in certainty_problems(_claim(certainty, summary, sources)))


def test_a_party_speaking_for_its_own_side_may_be_alleged():
    graph = _claim("Alleged", "An Al-Qaeda leader claimed it.", ["mustafa-abu-al-yazid"], subject="al-qaeda")
    membership = rdflib.URIRef(ID + "statement/leadership-y")
    graph.add((membership, HAVEN.relation, HAVEN.memberOf))
    graph.add((membership, HAVEN.subject, rdflib.URIRef(ID + "mustafa-abu-al-yazid")))
    graph.add((membership, HAVEN.object, rdflib.URIRef(ID + "al-qaeda")))
    assert certainty_problems(graph) == []
