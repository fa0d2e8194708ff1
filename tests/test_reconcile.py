"""The W3C Reconciliation Service API 0.2 at /reconcile, every answer validated against the specification's
JSON Schemas (tests/resources/reconciliation-api/), and a realistic batch of names on the real data
(tests/resources/search/reconciliation-batch.tsv): present names matched to the right IRI, absent ones never."""
from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from haven.config import DEFAULT_BASE
from haven.iris import iris_for
from haven.search.reconciliation import MATCH_SCORE, MAX_QUERIES

from plugins.search import batch_rows, validate

HID = str(iris_for(DEFAULT_BASE).hid)


def _batch(client, queries: dict, how: str = "form"):
    if how == "form":
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    elif how == "get":
        response = client.get("/reconcile", query_string={"queries": json.dumps(queries)})
    else:
        response = client.post("/reconcile", data=json.dumps(queries), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    answer = response.get_json()
    validate(answer, "reconciliation-result-batch.json")
    return answer


def test_the_schemas_reject_what_the_specification_calls_invalid():
    """The copied schemas and the validator work: a result without an id is refused."""
    with pytest.raises(jsonschema.ValidationError):
        validate({"q0": {"result": [{"name": "x", "score": 1}]}}, "reconciliation-result-batch.json")
    with pytest.raises(jsonschema.ValidationError):
        validate({"versions": ["0.1"], "name": "x", "identifierSpace": "a", "schemaSpace": "b"}, "manifest.json")


def test_manifest(client):
    response = client.get("/reconcile")
    assert response.status_code == 200 and response.mimetype == "application/json"
    manifest = response.get_json()
    validate(manifest, "manifest.json")
    assert manifest["identifierSpace"] == HID
    assert manifest["schemaSpace"] == str(iris_for(DEFAULT_BASE).haven)
    assert manifest["view"]["url"] == "http://localhost/page/{{id}}"
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"Person", "Place"}
    for kind in ("entity", "type", "property"):
        assert client.get(manifest["suggest"][kind]["service_path"] + "?prefix=a").status_code == 200


@pytest.mark.parametrize("how", ["form", "get", "json"])
def test_a_batch_in_each_transport(client, how):
    queries = {"q0": {"query": "Usama bin Ladin"}, "q1": {"query": "Hezbollah"}, "q2": {"query": "Kaboul", "limit": 1}}
    validate(queries, "reconciliation-query-batch.json")
    answer = _batch(client, queries, how)
    assert set(answer) == {"q0", "q1", "q2"}
    top = answer["q0"]["result"][0]
    assert top["id"] == "osama-bin-laden" and top["match"] is True and top["name"] == "Osama bin Laden"
    assert HID + top["id"] == HID + "osama-bin-laden"
    assert not any(r["match"] for r in answer["q1"]["result"])
    assert len(answer["q2"]["result"]) == 1 and answer["q2"]["result"][0]["id"] == "kabul"


def test_a_single_query_as_text_or_object(client):
    for query in ("Taleban", json.dumps({"query": "Taleban", "type": "Organization"})):
        response = client.get("/reconcile", query_string={"query": query})
        assert response.status_code == 200
        result = response.get_json()["result"]
        validate({"q": {"result": result}}, "reconciliation-result-batch.json")
        assert result[0]["id"] == "taliban" and result[0]["match"]


def test_a_type_constraint_keeps_other_types_out(client):
    answer = _batch(client, {"p": {"query": "Kabul", "type": "Person"}, "c": {"query": "Kabul", "type": "City"},
                             "s": {"query": "Kabul", "type": "Person", "type_strict": "should"}})
    assert all(r["id"] != "kabul" for r in answer["p"]["result"])
    assert answer["c"]["result"][0]["id"] == "kabul" and answer["c"]["result"][0]["type"][0]["id"] == "City"
    should = answer["s"]["result"][0]
    assert should["id"] == "kabul" and {"id": "type", "value": False} in should["features"]


def test_property_constraints_confirm_or_refute_a_candidate(client):
    answer = _batch(client, {
        "agree": {"query": "Usama bin Ladin", "properties": [{"pid": "leaderOf", "v": "Al Qaida"}]},
        "by_id": {"query": "Usama bin Ladin", "properties": [{"pid": "haven:leaderOf", "v": {"id": "al-qaeda"}}]},
        "disagree": {"query": "Usama bin Ladin", "properties": [{"pid": "leaderOf", "v": "Taliban"}]},
    })
    for key in ("agree", "by_id"):
        top = answer[key]["result"][0]
        assert top["id"] == "osama-bin-laden" and top["match"]
        assert any(f["id"].startswith("property:") and f["value"] is True for f in top["features"])
    refuted = answer["disagree"]["result"][0]
    assert refuted["id"] == "osama-bin-laden" and refuted["match"] is False
    assert refuted["score"] < answer["agree"]["result"][0]["score"]


@pytest.mark.parametrize("body, reason", [
    ("not json", "not valid JSON"),
    ("[]", "JSON object"),
    (json.dumps({"q": {"query": "x", "colour": "red"}}), "unknown query field"),
    (json.dumps({"q": {"query": "x", "type": 3}}), "type must be"),
    (json.dumps({"q": {"query": "x", "limit": -1}}), "limit"),
    # each was a 500 (found describing the parameters for /openapi.json): int() of an infinite or NaN limit
    ('{"q": {"query": "x", "limit": 1e400}}', "limit must be a positive number"),
    ('{"q": {"query": "x", "limit": Infinity}}', "Infinity is not a JSON value"),
    ('{"q": {"query": "x", "limit": NaN}}', "NaN is not a JSON value"),
    (json.dumps({"q": {"query": "x", "properties": [{"pid": "<bad> }", "v": "x"}]}}), "not a property id"),
    (json.dumps({"q": {"query": "x", "properties": [{"pid": "leaderOf"}]}}), "pid and v"),
    (json.dumps({f"q{i}": {"query": "x"} for i in range(MAX_QUERIES + 1)}), "at most"),
])
def test_malformed_batches_are_refused_with_the_reason(client, body, reason):
    response = client.post("/reconcile", data={"queries": body})
    assert response.status_code == 400 and reason in response.get_data(as_text=True)


def test_an_infinite_limit_setting_of_a_data_extension_is_refused(client):
    """It was a 500 (found describing the parameters for /openapi.json): 1e400 reads as an infinite float."""
    request = '{"ids": ["al-qaeda"], "properties": [{"id": "leaderOf", "settings": {"limit": 1e400}}]}'
    response = client.get("/reconcile", query_string={"extend": request})
    assert response.status_code == 400 and "limit setting must be a number" in response.get_data(as_text=True)


def test_preview_is_a_small_page_other_sites_may_frame(client):
    response = client.get("/reconcile/preview?id=al-qaeda")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Al-Qaeda" in response.get_data(as_text=True) or "al-Qaeda" in response.get_data(as_text=True)
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert client.get("/").headers["X-Frame-Options"] == "DENY"  # only the preview is framable
    assert client.get("/reconcile/preview?id=no-such-thing").status_code == 404
    assert client.get("/reconcile/preview?id=../etc/passwd").status_code == 404


def test_suggest_entity_type_and_property(client):
    entities = client.get("/reconcile/suggest/entity?prefix=osa").get_json()
    validate(entities, "suggest-entities-response.json")
    assert entities["result"][0]["id"] == "osama-bin-laden"
    types = client.get("/reconcile/suggest/type?prefix=pers").get_json()
    validate(types, "suggest-types-response.json")
    assert types["result"][0]["id"] == "Person"
    properties = client.get("/reconcile/suggest/property?prefix=leader").get_json()
    validate(properties, "suggest-properties-response.json")
    assert "leaderOf" in [p["id"] for p in properties["result"]]
    assert client.get("/reconcile/suggest/colour?prefix=x").status_code == 404


def test_flyout_escapes_the_data(client):
    flyout = client.get("/reconcile/flyout/entity?id=osama-bin-laden").get_json()
    assert flyout["id"] == "osama-bin-laden" and "<strong>Osama bin Laden</strong>" in flyout["html"]


def test_data_extension_fetches_properties_of_matched_entities(client):
    request = {"ids": ["osama-bin-laden", "al-qaeda", "no-such-thing"],
               "properties": [{"id": "leaderOf"}, {"id": "skos:altLabel", "settings": {"limit": 1}}]}
    validate(request, "data-extension-query.json")
    response = client.get("/reconcile", query_string={"extend": json.dumps(request)})
    assert response.status_code == 200
    answer = response.get_json()
    validate(answer, "data-extension-response.json")
    assert [m["id"] for m in answer["meta"]] == ["leaderOf", "skos:altLabel"]
    assert {"id": "al-qaeda", "name": "al-Qaeda"} in answer["rows"]["osama-bin-laden"]["leaderOf"]
    assert len(answer["rows"]["al-qaeda"]["skos:altLabel"]) == 1
    assert answer["rows"]["no-such-thing"] == {"leaderOf": [], "skos:altLabel": []}
    bad = client.get("/reconcile", query_string={"extend": json.dumps({"ids": "x", "properties": []})})
    assert bad.status_code == 400


def test_propose_properties_for_a_type(client):
    answer = client.get("/reconcile/propose_properties?type=Person&limit=50").get_json()
    validate(answer, "data-extension-property-proposal.json")
    assert answer["type"] == "Person" and "leaderOf" in [p["id"] for p in answer["properties"]]
    assert client.get("/reconcile/propose_properties?type=Nothing").status_code == 400


# -- a realistic batch on the real data ---------------------------------------------------------------------------

BATCH = batch_rows()


def test_the_batch_is_realistic():
    assert len(BATCH) >= 50
    absent = [r for r in BATCH if r["expected"] == "-"]
    assert len(absent) >= 10 and len(BATCH) - len(absent) >= 30


def test_a_batch_of_names_links_present_ones_and_leaves_absent_ones(real_client):
    queries = {f"q{i}": {"query": row["name"], **({"type": row["type"]} if row["type"] else {})}
               for i, row in enumerate(BATCH)}
    validate(queries, "reconciliation-query-batch.json")
    answer = _batch(real_client, queries)
    wrong = []
    for i, row in enumerate(BATCH):
        results = answer[f"q{i}"]["result"]
        matched = [r for r in results if r["match"]]
        if row["expected"] == "-":
            if matched or any(r["score"] >= MATCH_SCORE for r in results):
                wrong.append((row["name"], "absent but", results[:1]))
        elif not matched or matched[0]["id"] != row["expected"] or len(matched) != 1:
            wrong.append((row["name"], row["expected"], results[:2]))
    assert wrong == []


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
QUERY_FIELDS = st.fixed_dictionaries({}, optional={
    "query": st.text(max_size=40) | JSON_VALUES, "type": st.sampled_from(["Person", "haven:Place", "x y", ""]) | JSON_VALUES,
    "limit": JSON_VALUES, "type_strict": st.sampled_from(["any", "all", "should", "none"]),
    "properties": st.lists(st.fixed_dictionaries({"pid": st.sampled_from(["leaderOf", "skos:altLabel", "<x>", "a b"]) | JSON_VALUES,
                                                  "v": JSON_VALUES}), max_size=3) | JSON_VALUES})


@pytest.mark.slow  # fuzzing
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.dictionaries(st.text(max_size=5), QUERY_FIELDS | JSON_VALUES, max_size=4) | JSON_VALUES)
def test_any_batch_is_answered_or_refused_never_failed(client, batch):
    response = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code in {200, 400}, response.get_data(as_text=True)
    if response.status_code == 200:
        validate(response.get_json(), "reconciliation-result-batch.json")


@pytest.mark.slow  # fuzzing
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=st.fixed_dictionaries({"ids": JSON_VALUES, "properties": JSON_VALUES}) | JSON_VALUES)
def test_any_extension_is_answered_or_refused_never_failed(client, request):
    response = client.get("/reconcile", query_string={"extend": json.dumps(request)})
    assert response.status_code in {200, 400}, response.get_data(as_text=True)
    if response.status_code == 200:
        validate(response.get_json(), "data-extension-response.json")
