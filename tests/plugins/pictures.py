"""The release the picture tests draw: the fixture release with hedged, dated and differently precise statements.

`PICTURES_TRIG` adds to tests/resources/release/release.trig two statement classes the fixture lacks (an
allegiance pledge, and financial support under a Support family, so a kind has a family other than itself),
the Believed and Alleged certainties, month and day precision, and statements that are hedged (their direct
triples in hg:hedged), open-ended (a start only), of unknown start (an end only), an event with a date of its
own, and a party whose name tries to end the page's script element.

* `pictures_build`: a build folder holding that release (its `current` link), once per session;
* `pictures_app`, `pictures_client`: a Flask app and test client over it, on the embedded store;
* `remote_pictures_app`: an app over a real Oxigraph server holding that release (published by Haven's
  publisher) and no local release folder (needs the `live` marker);
* `pictures_json(response)`: the JSON a page gives its pictures (`<script id="pictures-data">`), or None.
"""
from __future__ import annotations

import json
import re

import pytest

from haven.config import Settings
from haven.store.remote import RemoteStore
from haven.web.app import create_app
from plugins.release import settings_for, write_release
from plugins.stores import load_release, start_oxigraph_server

PICTURES_TRIG = """
hg:ontology {
  haven:AllegiancePledge a owl:Class ; rdfs:subClassOf haven:Statement ; rdfs:label "Allegiance pledge"@en ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:pledgedAllegianceTo a owl:ObjectProperty ; rdfs:label "pledged allegiance to"@en ;
      owl:inverseOf haven:receivedAllegianceFrom ; haven:qualifiedBy haven:AllegiancePledge ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:receivedAllegianceFrom a owl:ObjectProperty ; rdfs:label "received allegiance from"@en ;
      owl:inverseOf haven:pledgedAllegianceTo ; rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:Support a owl:Class ; rdfs:subClassOf haven:Statement ; rdfs:label "Support"@en ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:FinancialSupport a owl:Class ; rdfs:subClassOf haven:Support ; rdfs:label "Financial support"@en ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:providedFundingTo a owl:ObjectProperty ; rdfs:subPropertyOf haven:supported ;
      rdfs:label "provided funding to"@en ; owl:inverseOf haven:fundedBy ; haven:qualifiedBy haven:FinancialSupport ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:fundedBy a owl:ObjectProperty ; rdfs:label "funded by"@en ; owl:inverseOf haven:providedFundingTo ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:Event a owl:Class ; rdfs:label "Event"@en ; rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:Believed a haven:Certainty , skos:Concept ; rdfs:label "believed"@en ; skos:prefLabel "believed"@en ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:Alleged a haven:Certainty , skos:Concept ; rdfs:label "alleged"@en ; skos:prefLabel "alleged"@en ;
      rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:MonthPrecision a skos:Concept ; rdfs:label "month precision"@en ; rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
  haven:DayPrecision a skos:Concept ; rdfs:label "day precision"@en ; rdfs:isDefinedBy <https://w3id.org/haven/ontology> .
}

hg:data {
  hst:osama-bin-laden-pledged-allegiance-to-taliban a haven:AllegiancePledge ;
      haven:relation haven:pledgedAllegianceTo ;
      haven:subject hid:osama-bin-laden ; haven:object hid:taliban ;
      haven:startDate "1998-05-01"^^xsd:date ; haven:startPrecision haven:MonthPrecision ;
      haven:certainty haven:Believed ;
      prov:wasDerivedFrom hid:the-al-qaeda-afghan-taliban-connections .
  hst:taliban-funded-al-qaeda a haven:FinancialSupport ;
      haven:relation haven:providedFundingTo ;
      haven:subject hid:taliban ; haven:object hid:al-qaeda ;
      haven:endDate "2001-10-07"^^xsd:date ; haven:endPrecision haven:DayPrecision ;
      haven:certainty haven:Alleged ;
      prov:wasDerivedFrom hid:the-al-qaeda-afghan-taliban-connections .
  hst:hostile-group-pledged-allegiance-to-al-qaeda a haven:AllegiancePledge ;
      haven:relation haven:pledgedAllegianceTo ;
      haven:subject hid:hostile-group ; haven:object hid:al-qaeda ;
      haven:certainty haven:Stated ;
      prov:wasDerivedFrom hid:the-al-qaeda-afghan-taliban-connections .
  hid:hostile-group a haven:MilitantOrganization ;
      skos:prefLabel "</script><script>alert(1)</script>"@en ; rdfs:label "</script><script>alert(1)</script>"@en .
  hid:taliban-capture-of-kabul-1996 a haven:Event ;
      skos:prefLabel "Taliban capture of Kabul"@en ; rdfs:label "Taliban capture of Kabul"@en ;
      haven:startDate "1996-09-27"^^xsd:date ; haven:startPrecision haven:DayPrecision .
}

hg:derived {
  hid:hostile-group haven:pledgedAllegianceTo hid:al-qaeda . hid:al-qaeda haven:receivedAllegianceFrom hid:hostile-group .
}

hg:hedged {
  hid:osama-bin-laden haven:pledgedAllegianceTo hid:taliban . hid:taliban haven:receivedAllegianceFrom hid:osama-bin-laden .
  hid:taliban haven:providedFundingTo hid:al-qaeda ; haven:supported hid:al-qaeda .
  hid:al-qaeda haven:fundedBy hid:taliban ; haven:supportedBy hid:taliban .
}
"""

_PICTURES_JSON = re.compile(rb'<script type="application/json" id="pictures-data">(.*?)</script>', re.DOTALL)


def pictures_json(response) -> dict | None:
    found = _PICTURES_JSON.search(response.data)
    return json.loads(found.group(1)) if found else None


@pytest.fixture(scope="session")
def pictures_build(tmp_path_factory):
    build = tmp_path_factory.mktemp("pictures-build")
    write_release(build, extra_trig=PICTURES_TRIG)
    return build


@pytest.fixture(scope="module")
def pictures_app(pictures_build):
    app = create_app(settings_for(pictures_build))
    app.config["TESTING"] = True
    yield app
    app.extensions["haven"].close()


@pytest.fixture
def pictures_client(pictures_app):
    return pictures_app.test_client()


@pytest.fixture(scope="module")
def remote_pictures_app(pictures_build, tmp_path_factory):
    server = start_oxigraph_server(tmp_path_factory.mktemp("pictures-oxigraph"))
    load_release(pictures_build / "current", server)
    build = tmp_path_factory.mktemp("no-local-release")
    store = RemoteStore(server.query_url, Settings(build_dir=build))
    app = create_app(Settings(build_dir=build, store=server.query_url), store=store)
    app.config["TESTING"] = True
    yield app
    store.close()
    server.stop()
