"""The HTTP API description (/openapi.json, /openapi.yaml): valid OpenAPI 3.1 by a published validator
(openapi-spec-validator), covering exactly the routes the Flask app has, its media types those of
haven.formats. The fuzzing of the real server against it is tests/test_openapi_fuzz.py."""
from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from haven.formats import GRAPH_FORMATS, HTML, OPENAPI_JSON, OPENAPI_YAML, PLAIN_TEXT, RESULT_FORMATS
from haven.web.fragments.pattern import MAX_PAGE
from haven.web.fragments.routes import FRAGMENT_OFFERS
from haven.web.search.routes import DEFAULT_LIMIT, MAX_LIMIT
from haven.web.openapi import description as openapi

#: methods every route answers without being described: HEAD wherever GET (Werkzeug), OPTIONS (CORS preflight)
IMPLIED = {"HEAD", "OPTIONS"}


def app_operations(app) -> set[tuple[str, str]]:
    return {(openapi.rule_path(rule.rule), method) for rule in app.url_map.iter_rules()
            for method in rule.methods - IMPLIED}


def test_the_description_is_valid_openapi_3_1(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == OPENAPI_JSON.media_type
    spec = response.get_json(force=True)
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema or a dangling $ref


def test_the_validator_rejects_a_broken_description():
    """The validation above can fail: a response without a description, a $ref to nowhere."""
    broken = json.loads(json.dumps(openapi.for_server("http://localhost/")))
    broken["paths"]["/healthz"]["get"]["responses"]["200"].pop("description")
    with pytest.raises(OpenAPIValidationError):
        validate(broken)
    dangling = json.loads(json.dumps(openapi.for_server("http://localhost/")))
    dangling["paths"]["/search"]["get"]["responses"]["400"] = {"$ref": "#/components/responses/Nowhere"}
    with pytest.raises(Exception):
        validate(dangling)


def test_every_route_is_described_and_every_description_is_a_route(app):
    described = openapi.operations(openapi.description())
    routes = app_operations(app)
    assert routes - described == set(), "routes the description does not cover (server/haven/web/openapi/openapi.yaml)"
    assert described - routes == set(), "operations described that the server does not have"


def test_the_coverage_check_sees_a_new_route(make_app):
    """A route added to the app and not described makes the comparison above fail."""
    app = make_app()
    described = openapi.operations(openapi.description())
    before = app_operations(app) - described
    app.add_url_rule("/undescribed/<path:thing>", "undescribed", lambda thing: "", methods=["GET", "POST"])
    assert app_operations(app) - described - before == {("/undescribed/{thing}", "GET"), ("/undescribed/{thing}", "POST")}


def test_media_types_come_from_the_formats_table():
    spec = openapi.description()
    sparql = spec["components"]["responses"]["SparqlAnswer"]["content"]
    assert set(sparql) == {f.media_type for f in (*RESULT_FORMATS, *GRAPH_FORMATS, HTML)}
    fragments = spec["paths"]["/fragments"]["get"]["responses"]["200"]["content"]
    assert list(fragments) == [f.media_type for f in FRAGMENT_OFFERS]
    assert list(spec["components"]["responses"]["NotFound"]["content"]) == [PLAIN_TEXT.media_type]
    # no key of the source is left unexpanded
    assert "haven." not in json.dumps([list(c) for c in _contents(spec)])
    assert openapi.media_types("haven.formats:GRAPH_FORMATS") == [f.media_type for f in GRAPH_FORMATS]
    with pytest.raises(ValueError):
        openapi.media_types("haven.formats:by_name")


def test_limits_come_from_the_code():
    spec = openapi.description()
    limit = next(p for p in spec["paths"]["/search"]["get"]["parameters"] if p.get("name") == "limit")
    assert (limit["schema"]["maximum"], limit["schema"]["default"]) == (MAX_LIMIT, DEFAULT_LIMIT)
    page = next(p for p in spec["paths"]["/fragments"]["get"]["parameters"] if p.get("name") == "page")
    assert page["schema"]["oneOf"][0]["maximum"] == MAX_PAGE


def _contents(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "content" and isinstance(value, dict):
                yield value
            yield from _contents(value)
    elif isinstance(node, list):
        for item in node:
            yield from _contents(item)


def test_yaml_and_json_are_the_same_description_for_the_host_asked(client):
    as_json = client.get("/openapi.json", base_url="http://127.0.0.1:8080").get_json(force=True)
    answer = client.get("/openapi.yaml", base_url="http://127.0.0.1:8080")
    assert answer.mimetype == OPENAPI_YAML.media_type
    assert yaml.safe_load(answer.get_data(as_text=True)) == as_json
    assert as_json["servers"] == [{"url": "http://127.0.0.1:8080"}]


def test_the_landing_page_links_the_description(client):
    response = client.get("/")
    assert '<http://localhost/openapi.json>; rel="service-desc"' in response.headers["Link"]
    assert 'href="/openapi.json"' in response.get_data(as_text=True)
