"""The ontology (ontology/haven.ttl) against the contract in docs/architecture.md.

The expectations are written out here as Python tables, not read from the contract at run time, so a
change to either side shows up as a failing test. Each structural check is a function that returns the
problems it finds; it is run on the real file (no problems) and on a deliberately broken copy (the
problem is reported), so none of them can pass vacuously.

The reasoner tests (marked slow) run HermiT through owlready2 and the OWL 2 DL profile checker of the
OWL API bundled in owlready2's HermiT.jar.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import owlready2
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS

ONTOLOGY_FILE = Path(__file__).resolve().parent.parent / "ontology" / "haven.ttl"
ONTOLOGY_IRI = URIRef("https://w3id.org/haven/ontology")
HAVEN = Namespace("https://w3id.org/haven/ontology#")
HID = Namespace("https://w3id.org/haven/id/")
HST = Namespace("https://w3id.org/haven/id/statement/")
OA = Namespace("http://www.w3.org/ns/oa#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
# A plain Namespace: rdflib's closed XSD namespace warns whenever pytest probes module attributes.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                     OWL.NamedIndividual)
BUILT_IN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))


# ----------------------------------------------------------------------------------------------------------
# Contract tables (docs/architecture.md, copied by hand)
# ----------------------------------------------------------------------------------------------------------

# statement class, direct property, inverse (None = symmetric), domain, range (a tuple = owl:unionOf),
# superproperties as (superproperty, its inverse or None), parent statement class
SUPPORTED = ((HAVEN.supported, HAVEN.supportedBy),)
AUTHORITY, LISTED = ("State", "IntergovernmentalOrganization"), ("Organization", "Person")
RELATIONS = [
    ("AllegiancePledge", "pledgedAllegianceTo", "receivedAllegianceFrom", "Actor", "Actor", (), "Statement"),
    ("AllegianceAcceptance", "acceptedAllegianceOf", "allegianceAcceptedBy", "Actor", "Actor", (), "Statement"),
    ("AllegianceRenunciation", "renouncedAllegianceTo", "allegianceRenouncedBy", "Actor", "Actor", (), "Statement"),
    ("LeaderRecognition", "recognisedAsLeader", "recognisedAsLeaderBy", "Actor", "Person", (), "Statement"),
    ("SanctuaryProvision", "providedSanctuaryTo", "receivedSanctuaryFrom", "Actor", "Actor", SUPPORTED, "Support"),
    ("FinancialSupport", "providedFundingTo", "fundedBy", "Actor", "Actor", SUPPORTED, "Support"),
    ("FundingBrokerage", "brokeredFundingFor", "fundingBrokeredBy", "Actor", "Actor", SUPPORTED, "Support"),
    ("MaterialSupport", "providedMaterielTo", "receivedMaterielFrom", "Actor", "Actor", SUPPORTED, "Support"),
    ("FighterSupply", "providedFightersTo", "receivedFightersFrom", "Actor", "Actor", SUPPORTED, "Support"),
    ("TrainingProvision", "providedTrainingTo", "receivedTrainingFrom", "Actor", "Actor", SUPPORTED, "Support"),
    ("StateSupport", "providedStateSupportTo", "receivedStateSupportFrom", ("State", "StateAgency"), "Actor",
     SUPPORTED, "Support"),
    ("Support", "supported", "supportedBy", "Actor", "Actor", (), "Statement"),
    ("Alliance", "alliedWith", None, "Actor", "Actor", ((HAVEN.cooperatedWith, None),), "Cooperation"),
    ("Cooperation", "cooperatedWith", None, "Actor", "Actor", (), "Statement"),
    ("Hostility", "hostileTo", None, "Actor", "Actor", (), "Statement"),
    ("ArmedConflict", "foughtAgainst", None, "Actor", "Actor", ((HAVEN.hostileTo, None),), "Hostility"),
    ("Leadership", "leaderOf", "ledBy", "Person", ("Organization", "State"), (), "Statement"),
    ("DeputyLeadership", "deputyLeaderOf", "hasDeputyLeader", "Person", "Organization", (), "Statement"),
    ("Membership", "memberOf", "hasMember", "Actor", "Organization", ((ORG.memberOf, ORG.hasMember),),
     "Statement"),
    ("Founding", "founded", "foundedBy", "Actor", "Organization", (), "Statement"),
    ("Affiliation", "affiliateOf", "hasAffiliate", "Organization", "Organization", (), "Statement"),
    ("BranchRelationship", "branchOf", "hasBranch", "Organization", "Organization",
     ((ORG.subOrganizationOf, ORG.hasSubOrganization),), "Statement"),
    ("Splintering", "splinterOf", "hadSplinter", "Organization", "Organization", (), "Statement"),
    ("ChangeOrigin", "changedBy", "originalOrganization", "Organization", "OrganizationalChange",
     ((ORG.changedBy, ORG.originalOrganization),), "Statement"),
    ("ChangeOutcome", "resultedFrom", "resultingOrganization", "Organization", "OrganizationalChange",
     ((ORG.resultedFrom, ORG.resultingOrganization),), "Statement"),
    ("RegimeFormation", "establishedRegime", "regimeEstablishedBy", "Organization", "State", (), "Statement"),
    ("AgencyAttachment", "agencyOf", "hasAgency", "StateAgency", "State", (), "Statement"),
    ("Proscription", "proscribed", "proscribedBy", AUTHORITY, LISTED, (), "Statement"),
    ("Delisting", "delisted", "delistedBy", AUTHORITY, LISTED, (), "Statement"),
    ("Characterization", "characterised", "characterisedBy", "Actor", "Actor", (), "Statement"),
    ("TradeInvolvement", "involvedInTrade", "tradeInvolves", "Actor", "Trade", (), "Statement"),
    ("Advice", "advised", "advisedBy", "Actor", "Actor", ((HAVEN.influenced, HAVEN.influencedBy),), "Influence"),
    ("Control", "exercisedControlOver", "controlledBy", "Actor", "Actor",
     ((HAVEN.influenced, HAVEN.influencedBy),), "Influence"),
    ("Influence", "influenced", "influencedBy", "Actor", "Actor", (), "Statement"),
    ("Request", "requested", "requestedBy", "Actor", "Actor", (), "Statement"),
    ("RequestRefusal", "refusedRequestOf", "hadRequestRefusedBy", "Actor", "Actor", (), "Statement"),
    ("Refuge", "tookRefugeIn", "gaveRefugeTo", "Person", "Place", (), "Statement"),
    ("Residence", "residedIn", "residenceOf", "Person", "Place", (), "Statement"),
    ("Citizenship", "citizenOf", "hasCitizen", "Person", "State", (), "Statement"),
    ("BaseLocation", "basedIn", "baseOf", "Actor", "Place", (), "Statement"),
    ("TerritorialControl", "controlledTerritory", "territoryControlledBy", "Actor", "Place", (), "Statement"),
    ("Transit", "transitedThrough", "transitRouteOf", "Actor", "Place", (), "Statement"),
    ("Recruitment", "recruitedIn", "recruitmentGroundOf", "Actor", "Place", (), "Statement"),
    ("Responsibility", "responsibleFor", "responsibilityOf", "Actor", "Event",
     ((HAVEN.participatedIn, HAVEN.hadParticipant),), "Participation"),
    ("Participation", "participatedIn", "hadParticipant", "Actor", "Event", (), "Statement"),
    ("Targeting", "targeted", "targetedBy", ("Event", "Actor"), "Actor", (), "Statement"),
    ("Mediation", "mediated", "mediatedBy", "Actor", "Event", (), "Statement"),
    ("NegotiationRelationship", "negotiatedWith", None, "Actor", "Actor", (), "Statement"),
    ("IdeologicalAdherence", "adheresTo", "adheredToBy", "Actor", "Ideology", (), "Statement"),
]

# statement classes whose named superclasses include more than their parent statement class
EXTRA_STATEMENT_SUPERCLASSES: dict[str, set] = {}

# every other class: its complete set of named superclasses
CLASSES = {
    "Actor": {PROV.Agent, FOAF.Agent},
    "Organization": {HAVEN.Actor, ORG.Organization},
    "MilitantOrganization": {HAVEN.Organization},
    "Coalition": {HAVEN.Organization, ORG.OrganizationalCollaboration},
    "StateAgency": {HAVEN.Organization},
    "IntergovernmentalOrganization": {HAVEN.Organization},
    "State": {HAVEN.Actor},
    "Person": {HAVEN.Actor, FOAF.Person, SCHEMA.Person},
    "Place": {SCHEMA.Place},
    "Country": {HAVEN.Place},
    "Province": {HAVEN.Place},
    "City": {HAVEN.Place},
    "Region": {HAVEN.Place},
    "Event": {SCHEMA.Event},
    "Attack": {HAVEN.Event},
    "Assassination": {HAVEN.Attack},
    "MilitaryOffensive": {HAVEN.Event},
    "Massacre": {HAVEN.Event},
    "War": {HAVEN.Event},
    "Negotiation": {HAVEN.Event},
    "HeritageDestruction": {HAVEN.Event},
    "Takeover": {HAVEN.Event},
    "OrganizationalChange": {HAVEN.Event, ORG.ChangeEvent},
    "Merger": {HAVEN.OrganizationalChange},
    "Split": {HAVEN.OrganizationalChange},
    "Renaming": {HAVEN.OrganizationalChange},
    "Dissolution": {HAVEN.OrganizationalChange},
    "Ideology": {SKOS.Concept},
    "Trade": set(),
    "SourceDocument": {PROV.Entity, SCHEMA.CreativeWork, FOAF.Document},
    "Statement": {PROV.Entity},
    "MultipartyStatement": {HAVEN.Statement},
    "Involvement": set(),
    "NameUsage": {HAVEN.Statement},
    "TypeAssignment": {HAVEN.Statement},
    "Lifespan": {HAVEN.Statement},
    "Certainty": {SKOS.Concept},
    "DatePrecision": {SKOS.Concept},
    "Basis": {SKOS.Concept},
    "Role": {SKOS.Concept},
}

# property, declaration type, extra characteristics, domain (a set = owl:unionOf), range, superproperties
UNION_STATEMENT_EVENT = frozenset({HAVEN.Statement, HAVEN.Event})
QUALIFIERS = [
    ("subject", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Statement}, None, set()),
    ("object", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Statement}, None, set()),
    ("relation", OWL.AnnotationProperty, set(), {HAVEN.Statement}, None, set()),
    ("qualifiedBy", OWL.AnnotationProperty, set(), None, None, set()),
    ("directProperty", OWL.AnnotationProperty, set(), None, None, set()),
    ("place", OWL.ObjectProperty, set(), UNION_STATEMENT_EVENT, HAVEN.Place, set()),
    ("startDate", OWL.DatatypeProperty, {OWL.FunctionalProperty}, UNION_STATEMENT_EVENT, None, set()),
    ("endDate", OWL.DatatypeProperty, {OWL.FunctionalProperty}, UNION_STATEMENT_EVENT, None, set()),
    ("startPrecision", OWL.ObjectProperty, {OWL.FunctionalProperty}, UNION_STATEMENT_EVENT,
     HAVEN.DatePrecision, set()),
    ("endPrecision", OWL.ObjectProperty, {OWL.FunctionalProperty}, UNION_STATEMENT_EVENT,
     HAVEN.DatePrecision, set()),
    ("onBehalfOf", OWL.ObjectProperty, set(), {HAVEN.Statement}, HAVEN.Actor, set()),
    ("roleTitle", OWL.DatatypeProperty, set(), {HAVEN.Statement}, RDF.PlainLiteral, set()),
    ("term", OWL.DatatypeProperty, set(), {HAVEN.Characterization}, RDF.PlainLiteral, set()),
    ("supportMode", OWL.ObjectProperty, set(), {HAVEN.Support}, SKOS.Concept, set()),
    ("certainty", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Statement}, HAVEN.Certainty, set()),
    ("attributedTo", OWL.ObjectProperty, set(), {HAVEN.Statement}, HAVEN.Actor, {PROV.wasAttributedTo}),
    ("footnote", OWL.DatatypeProperty, set(), {HAVEN.Statement}, XSD.positiveInteger, set()),
    ("evidence", OWL.ObjectProperty, set(), None, OA.SpecificResource, set()),
    ("locator", OWL.DatatypeProperty, {OWL.FunctionalProperty}, {OA.SpecificResource}, RDF.PlainLiteral, set()),
    ("sha256", OWL.DatatypeProperty, {OWL.FunctionalProperty}, {HAVEN.SourceDocument}, XSD.string, set()),
    ("summary", OWL.AnnotationProperty, set(), None, None, {SKOS.note}),
    ("discrepancy", OWL.AnnotationProperty, set(), None, None, {SKOS.note}),
    ("about", OWL.ObjectProperty, set(), {HAVEN.Statement}, None, set()),
    ("dateBasis", OWL.ObjectProperty, {OWL.FunctionalProperty}, UNION_STATEMENT_EVENT, HAVEN.Basis, set()),
    ("attributionBasis", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Statement}, HAVEN.Basis, set()),
    ("dateNote", OWL.AnnotationProperty, set(), None, None, {SKOS.note}),
    ("attributionNote", OWL.AnnotationProperty, set(), None, None, {SKOS.note}),
    ("discrepancySource", OWL.AnnotationProperty, set(), None, None, set()),
    ("involves", OWL.ObjectProperty, set(), {HAVEN.MultipartyStatement}, HAVEN.Involvement, set()),
    ("participant", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Involvement}, HAVEN.Actor, set()),
    ("role", OWL.ObjectProperty, {OWL.FunctionalProperty}, {HAVEN.Involvement}, HAVEN.Role, set()),
    ("roleProperty", OWL.AnnotationProperty, set(), None, None, set()),
    ("name", OWL.DatatypeProperty, {OWL.FunctionalProperty}, {HAVEN.NameUsage}, RDF.PlainLiteral, set()),
    ("assignedType", OWL.AnnotationProperty, set(), {HAVEN.TypeAssignment}, None, set()),
    ("wikidata", OWL.ObjectProperty, set(), None, None, {SCHEMA.sameAs}),
    ("dbpedia", OWL.ObjectProperty, set(), None, None, {SCHEMA.sameAs}),
    ("locatedIn", OWL.ObjectProperty, {OWL.TransitiveProperty}, {HAVEN.Place}, HAVEN.Place, set()),
]

CLOSED_LISTS = {
    # class: (scheme, members)
    "Certainty": ("CertaintyScheme", {"Stated", "Reported", "Believed", "Alleged", "Disputed"}),
    "DatePrecision": ("DatePrecisionScheme", {"DayPrecision", "MonthPrecision", "YearPrecision", "DecadePrecision"}),
    "Basis": ("BasisScheme", {"FromSourceText", "InferredByHaven", "FromPublicSource"}),
    "Role": ("RoleScheme", {"PartyRole", "MediatorRole", "PerpetratorRole", "TargetRole", "MemberRole"}),
}

# pairs that must be disjoint, and pairs that must stay compatible
TOP_LEVEL = ("Event", "Statement", "SourceDocument", "Ideology", "Trade", "Certainty", "DatePrecision", "Basis",
             "Role", "Involvement")
DISJOINT_GROUPS = [
    ("Actor",) + TOP_LEVEL, ("Place",) + TOP_LEVEL,
    ("Person", "Organization", "State"), ("Place", "Person"), ("Place", "Organization"),
    ("Actor", "City"), ("Actor", "Province"), ("Actor", "Region"),
    ("Cooperation", "Hostility", "Support", "Influence", "Participation", "Targeting", "MultipartyStatement",
     "NameUsage"),
    ("FinancialSupport", "StateSupport", "SanctuaryProvision"), ("Advice", "Control"),
]
COMPATIBLE = [("Place", "State"), ("Country", "State"), ("Organization", "Actor")]

WIKIDATA_MATCHES = {
    "pledgedAllegianceTo": "P945",
    "proscribedBy": "P3461",
    "foundedBy": "P112",
    "memberOf": "P463",
    "ledBy": "P488",
    "participatedIn": "P1344",
    "hadParticipant": "P710",
    "splinterOf": "P807",
    "branchOf": "P749",
    "adheresTo": "P1142",
    "basedIn": "P159",
}

SECTION_BANNERS = [
    "Ontology metadata", "Agents", "Places", "Events", "Ideologies & trades", "Sources & provenance",
    "Statements", "Statement qualifiers", "Closed lists", "Disjointness", "External terms", "Alignments",
]


# ----------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text() -> str:
    return ONTOLOGY_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ontology(text) -> Graph:
    return Graph().parse(data=text, format="turtle")


def copy_of(graph: Graph) -> Graph:
    clone = Graph()
    clone += graph
    return clone


def in_haven(term) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(HAVEN))


def declared(graph: Graph) -> set[URIRef]:
    return {s for t in DECLARATION_TYPES for s in graph.subjects(RDF.type, t) if isinstance(s, URIRef)}


def named(nodes) -> set[URIRef]:
    return {n for n in nodes if isinstance(n, URIRef)}


def class_set(graph: Graph, node) -> frozenset | None:
    """A domain or range as a set of classes: one IRI, or the members of an owl:unionOf."""
    if node is None:
        return None
    if isinstance(node, BNode):
        return frozenset(Collection(graph, graph.value(node, OWL.unionOf)))
    return frozenset({node})


def classes(names) -> frozenset:
    """A RELATIONS domain or range (a class name, or a tuple of them for a union) as a set of class IRIs."""
    return frozenset(HAVEN[n] for n in ((names,) if isinstance(names, str) else names))


def restriction_filler(graph: Graph, cls: URIRef, prop: URIRef):
    """The owl:allValuesFrom on `prop` that `cls` inherits from the nearest class that states one."""
    for parent in graph.objects(cls, RDFS.subClassOf):
        if isinstance(parent, BNode) and graph.value(parent, OWL.onProperty) == prop:
            filler = graph.value(parent, OWL.allValuesFrom)
            if filler is not None:
                return filler
    for parent in named(graph.objects(cls, RDFS.subClassOf)):
        found = restriction_filler(graph, parent, prop)
        if found is not None:
            return found
    return None


def disjoint_pairs(graph: Graph) -> set[frozenset]:
    pairs = {frozenset(p) for p in graph.subject_objects(OWL.disjointWith)}
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(graph, graph.value(axiom, OWL.members)))
        pairs |= {frozenset((a, b)) for a in members for b in members if a != b}
    return pairs


# -- the structural checks, each returning the problems it finds ---------------------------------------------

def undocumented_terms(graph: Graph) -> list[str]:
    """Declared haven terms that lack an English label or definition, or the exact rdfs:isDefinedBy."""
    problems = []
    for term in sorted(t for t in declared(graph) if in_haven(t)):
        labels = [o for o in graph.objects(term, RDFS.label) if isinstance(o, Literal) and o.language == "en"]
        definitions = [o for o in graph.objects(term, SKOS.definition)
                       if isinstance(o, Literal) and o.language == "en"]
        if len(labels) != 1:
            problems.append(f"{term}: {len(labels)} rdfs:label@en")
        if len(definitions) != 1:
            problems.append(f"{term}: {len(definitions)} skos:definition@en")
        if set(graph.objects(term, RDFS.isDefinedBy)) != {ONTOLOGY_IRI}:
            problems.append(f"{term}: rdfs:isDefinedBy is not exactly {ONTOLOGY_IRI}")
    return problems


def undeclared_haven_terms(graph: Graph) -> set[URIRef]:
    """haven IRIs used in any position of any triple (lists included) that nothing declares."""
    used = {node for triple in graph for node in triple if in_haven(node)}
    return used - declared(graph)


def undeclared_haven_mentions(text: str, graph: Graph) -> set[str]:
    """`haven:name` written in comments or literals that names no declared term (a typo for readers)."""
    names = {str(t)[len(str(HAVEN)):] for t in declared(graph) if in_haven(t)}
    return set(re.findall(r"\bhaven:([A-Za-z][A-Za-z0-9]*)", text)) - names


def untyped_external_terms(graph: Graph) -> set[URIRef]:
    """Non-haven IRIs used as a predicate or as a class in an axiom without being declared (not OWL 2 DL)."""
    known = declared(graph) | {s for s in graph.subjects(RDF.type, RDFS.Datatype)}
    class_positions = (RDFS.subClassOf, RDFS.domain, OWL.allValuesFrom, OWL.someValuesFrom, OWL.onClass)
    used = {p for p in graph.predicates()}
    used |= {o for p in class_positions for o in graph.objects(None, p) if isinstance(o, URIRef)}
    used |= {o for o in graph.objects(None, RDF.type)}
    used |= {o for p in graph.subjects(RDF.type, OWL.ObjectProperty) for o in graph.objects(p, RDFS.range)
             if isinstance(o, URIRef)}
    return {u for u in used if not str(u).startswith(BUILT_IN_NAMESPACES) and not in_haven(u)} - known


def qualification_mismatches(graph: Graph) -> list[str]:
    """haven:qualifiedBy and haven:directProperty must pair each direct property with one statement class."""
    problems = []
    for prop, cls in graph.subject_objects(HAVEN.qualifiedBy):
        if (cls, HAVEN.directProperty, prop) not in graph:
            problems.append(f"{prop} qualifiedBy {cls}, which does not name it as its directProperty")
        if (cls, RDFS.subClassOf * "+", HAVEN.Statement) not in graph:  # type: ignore[operator]
            problems.append(f"{prop} is qualified by {cls}, which is not a haven:Statement subclass")
    for cls, prop in graph.subject_objects(HAVEN.directProperty):
        if (prop, HAVEN.qualifiedBy, cls) not in graph:
            problems.append(f"{cls} directProperty {prop}, which is not qualifiedBy it")
    for term in (HAVEN.qualifiedBy, HAVEN.directProperty):
        subjects = list(graph.subjects(term, None))
        if len(subjects) != len(set(subjects)):
            problems.append(f"some term has more than one {term}")
    return problems


# ----------------------------------------------------------------------------------------------------------
# 1. The file as text: layout that a serializer would destroy
# ----------------------------------------------------------------------------------------------------------

def test_prefix_block_is_first_and_sorted(text):
    lines = text.splitlines()
    prefixes = [line.split()[1] for line in lines[:lines.index("")] if line.startswith("@prefix")]
    assert len(prefixes) == len(lines[:lines.index("")]), "the file must open with an unbroken @prefix block"
    assert prefixes == sorted(prefixes)


def test_section_banners_in_contract_order(text):
    found = re.findall(r"^# == (.+?) ==$", text, flags=re.MULTILINE)
    assert found == SECTION_BANNERS


def test_each_statement_family_keeps_class_property_and_inverse_together(text):
    # Blocks are separated by blank lines; the class must be followed at once by its property and inverse.
    starts = [block.strip().split("\n")[0] for block in text.split("\n\n") if block.strip()]
    for cls, prop, inverse, *_ in RELATIONS:
        i = starts.index(f"haven:{cls}")
        expected = [f"haven:{prop}"] + ([f"haven:{inverse}"] if inverse else [])
        assert starts[i + 1:i + 1 + len(expected)] == expected, cls


def test_haven_names_in_comments_and_literals_exist(text, ontology):
    assert undeclared_haven_mentions(text, ontology) == set()


def test_haven_names_in_comments_check_catches_a_typo(text, ontology):
    broken = text + "\n# see haven:subOrganzationOf\n"
    assert undeclared_haven_mentions(broken, ontology) == {"subOrganzationOf"}


# ----------------------------------------------------------------------------------------------------------
# 2. Header
# ----------------------------------------------------------------------------------------------------------

HEADER = [
    (DCTERMS.created, Literal("2026-11-25", datatype=XSD.date)),
    (DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")),
    (DCTERMS.creator, HID["haven-project"]),
    (DCTERMS.source, HID["the-al-qaeda-afghan-taliban-connections"]),
    (VANN.preferredNamespacePrefix, Literal("haven")),
    (VANN.preferredNamespaceUri, Literal(str(HAVEN))),
]


def test_exactly_one_ontology_with_the_contract_iri(ontology):
    assert list(ontology.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]


@pytest.mark.parametrize("predicate,value", HEADER, ids=[str(p) for p, _ in HEADER])
def test_header_value(ontology, predicate, value):
    assert list(ontology.objects(ONTOLOGY_IRI, predicate)) == [value]


@pytest.mark.parametrize("predicate", [DCTERMS.title, DCTERMS.description])
def test_header_has_one_english_text(ontology, predicate):
    values = list(ontology.objects(ONTOLOGY_IRI, predicate))
    assert len(values) == 1 and values[0].language == "en" and len(values[0]) > 10


def test_header_has_one_modified_date_not_before_created(ontology):
    modified = list(ontology.objects(ONTOLOGY_IRI, DCTERMS.modified))
    assert len(modified) == 1 and modified[0].datatype == XSD.date
    assert modified[0].toPython() >= ontology.value(ONTOLOGY_IRI, DCTERMS.created).toPython()


def test_header_points_to_documentation(ontology):
    assert named(ontology.objects(ONTOLOGY_IRI, RDFS.seeAlso))


def test_creator_is_an_iri_node_described_in_the_file(ontology):
    creator = HID["haven-project"]
    assert {FOAF.Organization, SCHEMA.Organization} <= set(ontology.objects(creator, RDF.type))
    assert Literal("Haven project team", lang="en") in set(ontology.objects(creator, SCHEMA.name))


# ----------------------------------------------------------------------------------------------------------
# 3. Every term documented and declared
# ----------------------------------------------------------------------------------------------------------

def test_every_haven_term_has_label_definition_and_is_defined_by(ontology):
    assert undocumented_terms(ontology) == []


def test_documentation_check_catches_missing_definition_and_wrong_defined_by(ontology):
    broken = copy_of(ontology)
    broken.remove((HAVEN.Trade, SKOS.definition, None))
    broken.set((HAVEN.Place, RDFS.isDefinedBy, URIRef(str(ONTOLOGY_IRI) + "#")))
    problems = undocumented_terms(broken)
    assert len(problems) == 2
    assert any("#Trade" in p and "definition" in p for p in problems)
    assert any("#Place" in p and "isDefinedBy" in p for p in problems)


def test_every_haven_iri_used_is_declared(ontology):
    assert undeclared_haven_terms(ontology) == set()


def test_declaration_check_catches_a_typo(ontology):
    broken = copy_of(ontology)
    broken.add((HAVEN.leaderOf, RDFS.subPropertyOf, HAVEN.subOrganzationOf))
    assert undeclared_haven_terms(broken) == {HAVEN.subOrganzationOf}


def test_every_external_term_used_in_an_axiom_is_declared(ontology):
    assert untyped_external_terms(ontology) == set()


def test_external_term_check_catches_an_untyped_class(ontology):
    broken = copy_of(ontology)
    broken.add((HAVEN.Trade, RDFS.subClassOf, SCHEMA.Action))
    assert untyped_external_terms(broken) == {SCHEMA.Action}


def test_labels_are_unique(ontology):
    labels = [str(o) for s in declared(ontology) if in_haven(s) for o in ontology.objects(s, RDFS.label)]
    assert sorted({label for label in labels if labels.count(label) > 1}) == []


def test_definitions_are_single_english_sentences(ontology):
    for term, definition in ontology.subject_objects(SKOS.definition):
        if not in_haven(term):
            continue
        assert definition.language == "en", term
        assert definition.endswith(".") and not re.search(r"[.!?] [A-Z]", str(definition)), term


def test_every_documentation_literal_is_english(ontology):
    for predicate in (RDFS.label, RDFS.comment, SKOS.definition, SKOS.prefLabel, DCTERMS.title,
                      DCTERMS.description, SCHEMA.name):
        for term, value in ontology.subject_objects(predicate):
            assert isinstance(value, Literal) and value.language == "en", (term, predicate)


def test_no_term_is_declared_as_two_kinds_of_property(ontology):
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    for term in declared(ontology):
        assert sum((term, RDF.type, k) in ontology for k in kinds) <= 1, term


# ----------------------------------------------------------------------------------------------------------
# 4. The contract's classes, relations, qualifiers and closed lists
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,supers", sorted(CLASSES.items()), ids=sorted(CLASSES))
def test_class_and_its_named_superclasses(ontology, name, supers):
    cls = HAVEN[name]
    assert (cls, RDF.type, OWL.Class) in ontology
    assert named(ontology.objects(cls, RDFS.subClassOf)) == supers


def test_no_class_beyond_the_contract(ontology):
    contract = {HAVEN[n] for n in CLASSES} | {HAVEN[row[0]] for row in RELATIONS}
    assert {c for c in ontology.subjects(RDF.type, OWL.Class) if in_haven(c)} == contract


@pytest.mark.parametrize("row", RELATIONS, ids=[row[0] for row in RELATIONS])
def test_statement_class_and_direct_property(ontology, row):
    cls_name, prop_name, inverse_name, domain, range_, supers, parent = row
    cls, prop = HAVEN[cls_name], HAVEN[prop_name]

    assert (cls, RDF.type, OWL.Class) in ontology
    assert named(ontology.objects(cls, RDFS.subClassOf)) == (
        {HAVEN[parent]} | EXTRA_STATEMENT_SUPERCLASSES.get(cls_name, set()))
    assert class_set(ontology, restriction_filler(ontology, cls, HAVEN.subject)) == classes(domain)
    assert class_set(ontology, restriction_filler(ontology, cls, HAVEN.object)) == classes(range_)

    assert (prop, RDF.type, OWL.ObjectProperty) in ontology
    assert len(list(ontology.objects(prop, RDFS.domain))) == len(list(ontology.objects(prop, RDFS.range))) == 1
    assert class_set(ontology, ontology.value(prop, RDFS.domain)) == classes(domain)
    assert class_set(ontology, ontology.value(prop, RDFS.range)) == classes(range_)
    assert list(ontology.objects(prop, HAVEN.qualifiedBy)) == [cls]
    assert list(ontology.objects(cls, HAVEN.directProperty)) == [prop]
    assert set(ontology.objects(prop, RDFS.subPropertyOf)) == {sup for sup, _ in supers}


@pytest.mark.parametrize("row", RELATIONS, ids=[row[1] for row in RELATIONS])
def test_inverse_or_symmetry(ontology, row):
    _, prop_name, inverse_name, domain, range_, supers, _ = row
    prop = HAVEN[prop_name]
    if inverse_name is None:
        assert (prop, RDF.type, OWL.SymmetricProperty) in ontology
        assert ontology.value(prop, OWL.inverseOf) is None
        return
    inverse = HAVEN[inverse_name]
    assert (prop, RDF.type, OWL.SymmetricProperty) not in ontology
    assert list(ontology.objects(prop, OWL.inverseOf)) == [inverse]
    assert list(ontology.objects(inverse, OWL.inverseOf)) == [prop]
    assert (inverse, RDF.type, OWL.ObjectProperty) in ontology
    assert class_set(ontology, ontology.value(inverse, RDFS.domain)) == classes(range_)
    assert class_set(ontology, ontology.value(inverse, RDFS.range)) == classes(domain)
    # The derivation step walks superproperties without a reasoner, so the inverse side is stated too.
    assert set(ontology.objects(inverse, RDFS.subPropertyOf)) == {inv for _, inv in supers if inv is not None}
    assert ontology.value(inverse, HAVEN.qualifiedBy) is None


def test_qualified_by_and_direct_property_pair_up(ontology):
    assert qualification_mismatches(ontology) == []
    assert {p for p, _ in ontology.subject_objects(HAVEN.qualifiedBy)} == {HAVEN[row[1]] for row in RELATIONS}


def test_qualification_check_catches_a_one_sided_link(ontology):
    broken = copy_of(ontology)
    broken.remove((HAVEN.Refuge, HAVEN.directProperty, None))
    broken.add((HAVEN.hostileTo, HAVEN.qualifiedBy, HAVEN.Place))
    problems = qualification_mismatches(broken)
    assert any("Refuge" in p for p in problems)
    assert any("hostileTo" in p and "Place" in p and "not a haven:Statement" in p for p in problems)


@pytest.mark.parametrize("row", QUALIFIERS, ids=[row[0] for row in QUALIFIERS])
def test_qualifier_property(ontology, row):
    name, kind, characteristics, domain, range_, supers = row
    prop = HAVEN[name]
    types = set(ontology.objects(prop, RDF.type))
    assert types == {kind} | characteristics
    assert class_set(ontology, ontology.value(prop, RDFS.domain)) == (
        frozenset(domain) if domain is not None else None)
    assert ontology.value(prop, RDFS.range) == range_
    assert set(ontology.objects(prop, RDFS.subPropertyOf)) == supers


def test_no_property_beyond_the_contract(ontology):
    contract = {HAVEN[row[0]] for row in QUALIFIERS}
    contract |= {HAVEN[row[1]] for row in RELATIONS} | {HAVEN[row[2]] for row in RELATIONS if row[2]}
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    assert {p for k in kinds for p in ontology.subjects(RDF.type, k) if in_haven(p)} == contract


@pytest.mark.parametrize("name", ["startDate", "endDate"])
def test_dates_document_xsd_date_without_an_owl_range(ontology, name):
    # xsd:date is outside the OWL 2 datatype map: an rdfs:range would break HermiT (see the reasoner tests).
    assert list(ontology.objects(HAVEN[name], SCHEMA.rangeIncludes)) == [XSD.date]


def test_statement_requires_one_subject_and_certainty_and_at_most_one_object(ontology):
    cardinalities = {}
    for restriction in ontology.objects(HAVEN.Statement, RDFS.subClassOf):
        if not isinstance(restriction, BNode):
            continue
        prop = ontology.value(restriction, OWL.onProperty)
        for kind in (OWL.cardinality, OWL.qualifiedCardinality, OWL.maxCardinality):
            if ontology.value(restriction, kind) is not None:
                cardinalities[prop] = (kind, ontology.value(restriction, kind))
    one = Literal("1", datatype=XSD.nonNegativeInteger)
    assert cardinalities == {HAVEN.subject: (OWL.cardinality, one), HAVEN.object: (OWL.maxCardinality, one),
                             HAVEN.certainty: (OWL.qualifiedCardinality, one)}
    assert ontology.value(predicate=OWL.onClass, object=HAVEN.Certainty) is not None


@pytest.mark.parametrize("class_name", sorted(CLOSED_LISTS))
def test_closed_list(ontology, class_name):
    scheme_name, member_names = CLOSED_LISTS[class_name]
    cls, scheme = HAVEN[class_name], HAVEN[scheme_name]
    members = {HAVEN[m] for m in member_names}
    assert set(ontology.subjects(RDF.type, cls)) == members
    assert {SKOS.ConceptScheme, OWL.NamedIndividual} <= set(ontology.objects(scheme, RDF.type))
    assert set(ontology.objects(scheme, SKOS.hasTopConcept)) == members
    for member in members:
        assert {OWL.NamedIndividual, SKOS.Concept, cls} == set(ontology.objects(member, RDF.type))
        assert list(ontology.objects(member, SKOS.inScheme)) == [scheme]
        assert ontology.value(member, SKOS.prefLabel) == ontology.value(member, RDFS.label)
    different = [set(Collection(ontology, ontology.value(a, OWL.members)))
                 for a in ontology.subjects(RDF.type, OWL.AllDifferent)]
    assert members in different


def test_disjointness(ontology):
    pairs = disjoint_pairs(ontology)
    for group in DISJOINT_GROUPS:
        for a in group:
            for b in group:
                if a != b:
                    assert frozenset((HAVEN[a], HAVEN[b])) in pairs, (a, b)
    for a, b in COMPATIBLE:
        assert frozenset((HAVEN[a], HAVEN[b])) not in pairs, (a, b)


def test_alignments_to_other_vocabularies(ontology):
    assert (HAVEN.attributedTo, RDFS.subPropertyOf, PROV.wasAttributedTo) in ontology
    assert (HAVEN.memberOf, RDFS.subPropertyOf, ORG.memberOf) in ontology
    assert (HAVEN.OrganizationalChange, RDFS.subClassOf, ORG.ChangeEvent) in ontology
    assert (SKOS.closeMatch, RDF.type, OWL.ObjectProperty) in ontology
    # 1.0.0's alignments that inferred what nobody meant (tests/test_vocabularies.py loads their axioms)
    assert (HAVEN.leaderOf, RDFS.subPropertyOf, ORG.headOf) not in ontology
    assert (HAVEN.Membership, RDFS.subClassOf, ORG.Membership) not in ontology
    assert not set(ontology.subject_objects(RDFS.subPropertyOf)) & {
        (HAVEN.wikidata, SKOS.exactMatch), (HAVEN.dbpedia, SKOS.exactMatch)}


def test_wikidata_close_matches_use_truthy_property_iris(ontology):
    matches = {str(s)[len(str(HAVEN)):]: str(o) for s, o in ontology.subject_objects(SKOS.closeMatch)}
    assert matches == {prop: str(WDT[pid]) for prop, pid in WIKIDATA_MATCHES.items()}


# ----------------------------------------------------------------------------------------------------------
# 5. Reasoning: HermiT through owlready2, and the OWL 2 DL profile
# ----------------------------------------------------------------------------------------------------------

def reason(graph: Graph, folder: Path) -> owlready2.World:
    """Run HermiT over `graph` in a fresh owlready2 world (owlready2 reads N-Triples, not Turtle)."""
    path = folder / "haven.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner(world, infer_property_values=False, debug=0)
    return world


def with_data(ontology: Graph, turtle: str) -> Graph:
    graph = copy_of(ontology)
    graph.parse(data="""
        @prefix haven: <https://w3id.org/haven/ontology#> . @prefix hid: <https://w3id.org/haven/id/> .
        @prefix hst: <https://w3id.org/haven/id/statement/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        """ + turtle, format="turtle")
    return graph


@pytest.mark.slow
def test_hermit_finds_ontology_consistent_without_unsatisfiable_classes(ontology, tmp_path):
    """(How long HermiT takes, JVM start-up included: bench/budgets.py hermit.)"""
    world = reason(ontology, tmp_path)
    assert list(world.inconsistent_classes()) == []


@pytest.mark.slow
def test_hermit_reports_a_person_that_is_also_an_organization(ontology, tmp_path):
    graph = with_data(ontology, "hid:x a owl:NamedIndividual , haven:Person , haven:Organization .")
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(graph, tmp_path)


@pytest.mark.slow
def test_hermit_reports_an_unsatisfiable_class(ontology, tmp_path):
    graph = with_data(ontology, "haven:PersonEvent a owl:Class ; rdfs:subClassOf haven:Person , haven:Event .")
    unsatisfiable = {c.iri for c in reason(graph, tmp_path).inconsistent_classes()}
    assert str(HAVEN.PersonEvent) in unsatisfiable


@pytest.mark.slow
def test_hermit_accepts_a_well_formed_statement(ontology, tmp_path):
    graph = with_data(ontology, """
        hid:p a owl:NamedIndividual , haven:Person . hid:o a owl:NamedIndividual , haven:MilitantOrganization .
        hst:m a owl:NamedIndividual , haven:Membership ;
            haven:subject hid:p ; haven:object hid:o ; haven:certainty haven:Reported .
        """)
    assert list(reason(graph, tmp_path).inconsistent_classes()) == []


@pytest.mark.slow
def test_hermit_accepts_an_organisation_in_a_coalition_and_a_head_of_state(ontology, tmp_path):
    graph = with_data(ontology, """
        hid:o a owl:NamedIndividual , haven:MilitantOrganization . hid:c a owl:NamedIndividual , haven:Coalition .
        hid:p a owl:NamedIndividual , haven:Person . hid:s a owl:NamedIndividual , haven:State , haven:Country .
        hst:m a owl:NamedIndividual , haven:Membership ;
            haven:subject hid:o ; haven:object hid:c ; haven:certainty haven:Stated .
        hst:l a owl:NamedIndividual , haven:Leadership ;
            haven:subject hid:p ; haven:object hid:s ; haven:certainty haven:Stated .
        """)
    assert list(reason(graph, tmp_path).inconsistent_classes()) == []


# Small hostile data that the disjointness axioms must reject (issue 12: HermiT accepted all three in 1.0.0).
HOSTILE = {
    "leader-that-is-an-organisation": """
        hid:o1 a owl:NamedIndividual , haven:MilitantOrganization .
        hid:o2 a owl:NamedIndividual , haven:MilitantOrganization .
        hst:l a owl:NamedIndividual , haven:Leadership ;
            haven:subject hid:o1 ; haven:object hid:o2 ; haven:certainty haven:Reported .""",
    "actor-that-is-an-event": "hid:x a owl:NamedIndividual , haven:Actor , haven:Event .",
    "city-as-object-of-hostility": """
        hid:a a owl:NamedIndividual , haven:MilitantOrganization . hid:c a owl:NamedIndividual , haven:City .
        hst:h a owl:NamedIndividual , haven:Hostility ;
            haven:subject hid:a ; haven:object hid:c ; haven:certainty haven:Stated .""",
    "alliance-that-is-a-hostility": """
        hid:a a owl:NamedIndividual , haven:Person . hid:b a owl:NamedIndividual , haven:Person .
        hst:s a owl:NamedIndividual , haven:Alliance , haven:Hostility ;
            haven:subject hid:a ; haven:object hid:b ; haven:certainty haven:Stated .""",
    "statement-that-is-a-certainty": "hst:s a owl:NamedIndividual , haven:Statement , haven:Certainty .",
    "multiparty-statement-with-an-object": """
        hid:e a owl:NamedIndividual , haven:Negotiation . hid:a a owl:NamedIndividual , haven:State .
        hst:m a owl:NamedIndividual , haven:MultipartyStatement ;
            haven:subject hid:e ; haven:object hid:a ; haven:certainty haven:Stated .""",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hermit_rejects_hostile_data(ontology, tmp_path, case):
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(with_data(ontology, HOSTILE[case]), tmp_path)


@pytest.mark.slow
def test_hermit_reports_a_statement_with_two_certainties(ontology, tmp_path):
    graph = with_data(ontology, """
        hid:a a owl:NamedIndividual , haven:Person . hid:b a owl:NamedIndividual , haven:Person .
        hst:s a owl:NamedIndividual , haven:Cooperation ;
            haven:subject hid:a ; haven:object hid:b ; haven:certainty haven:Stated , haven:Alleged .
        """)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(graph, tmp_path)


# The OWL API (3.4, inside owlready2's HermiT.jar) has the reference OWL 2 DL profile checker.
DL_CHECKER_SOURCE = """
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.profiles.*;

public class DLCheck {
    public static void main(String[] args) throws Exception {
        OWLOntology o = OWLManager.createOWLOntologyManager().loadOntologyFromOntologyDocument(new File(args[0]));
        for (OWLProfileViolation v : new OWL2DLProfile().checkOntology(o).getViolations()) System.out.println(v);
    }
}
"""


@pytest.fixture(scope="module")
def dl_checker(tmp_path_factory):
    """A function graph -> list of OWL 2 DL profile violations."""
    folder = tmp_path_factory.mktemp("dlcheck")
    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    (folder / "DLCheck.java").write_text(DL_CHECKER_SOURCE, encoding="utf-8")
    subprocess.run(["javac", "-cp", str(jar), "-d", str(folder), str(folder / "DLCheck.java")],
                   check=True, capture_output=True, timeout=120)

    def check(graph: Graph) -> list[str]:
        path = folder / "ontology.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        run = subprocess.run(["java", "-cp", f"{folder}:{jar}", "DLCheck", str(path)],
                             check=True, capture_output=True, text=True, timeout=120)
        return [line for line in run.stdout.splitlines() if line.strip()]

    return check


@pytest.mark.slow
def test_ontology_is_in_the_owl2_dl_profile(ontology, dl_checker):
    assert dl_checker(ontology) == []


@pytest.mark.slow
def test_dl_profile_check_catches_an_undeclared_class_and_property_punning(ontology, dl_checker):
    broken = copy_of(ontology)
    broken.add((HAVEN.Trade, RDFS.subClassOf, SCHEMA.Action))
    broken.add((HAVEN.sha256, RDF.type, OWL.ObjectProperty))
    violations = "\n".join(dl_checker(broken))
    assert "undeclared class" in violations and str(SCHEMA.Action) in violations
    assert "pun between properties" in violations and str(HAVEN.sha256) in violations


@pytest.mark.slow
def test_ontology_data_and_direct_layer_as_the_reasoner_reads_them_are_owl2_dl(dl_checker):
    """The build's consistency stage reasons over this projection (xsd:date → xsd:dateTime) and ignores no
    datatype; the OWL API's profile checker agrees that it is OWL 2 DL. (The published data keeps xsd:date,
    which the OWL 2 datatype map lacks; OWL API 3.4's checker lets it pass, HermiT refuses it:
    tests/test_consistency.py shows both.)"""
    from haven.config import PROJECT_ROOT
    from haven.pipeline.consistency import dl_projection
    from haven.pipeline.derive import derive
    from haven.pipeline.sources import load_sources

    sources = load_sources(PROJECT_ROOT)
    derived = derive(sources.store, sources.base).graph
    assert dl_checker(dl_projection(sources.ontology, sources.data, derived)) == []
