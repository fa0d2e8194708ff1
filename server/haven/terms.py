"""Plain constants naming the vocabularies Haven uses: strings only, no rdflib, no pyoxigraph.

A leaf module: the query worker (``python -m haven.store.worker``) imports it without paying for rdflib, and
every module that needs a vocabulary IRI as text reads it here rather than spelling it again.
"""
from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
OA = "http://www.w3.org/ns/oa#"
VANN = "http://purl.org/vocab/vann/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
TIME = "http://www.w3.org/2006/time#"
SH = "http://www.w3.org/ns/shacl#"
SD = "http://www.w3.org/ns/sparql-service-description#"
#: Hydra (Triple Pattern Fragments' controls); not among the prefixes every document declares
HYDRA = "http://www.w3.org/ns/hydra/core#"
#: SPDX (checksums of a release's files, as DCAT 3 describes them); not among the prefixes every document declares
SPDX = "http://spdx.org/rdf/terms#"
WIKIDATA = "http://www.wikidata.org/entity/"
DBPEDIA = "http://dbpedia.org/resource/"

#: the external vocabularies of the contract, by their usual prefix (Haven's own prefixes, which depend on
#: the base, are added by `haven.iris.Iris.prefixes`)
VOCABULARIES = {
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "foaf": FOAF,
    "prov": PROV, "org": ORG, "schema": SCHEMA, "oa": OA, "vann": VANN, "void": VOID, "dcat": DCAT,
    "time": TIME, "sh": SH, "sd": SD, "wd": WIKIDATA, "dbr": DBPEDIA,
}

XSD_STRING = XSD + "string"
XSD_ANY_URI = XSD + "anyURI"
RDF_LANG_STRING = RDF + "langString"
RDF_TYPE = RDF + "type"
#: the datatypes of a plain string (what rdflib parses as a literal without datatype)
PLAIN_STRING_TYPES = frozenset({XSD_STRING, RDF_LANG_STRING})
