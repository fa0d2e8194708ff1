"""No Haven page runs a stranger's script (issue 14, findings 9 and 10).

A release holding hostile data (a `javascript:` IRI as skos:exactMatch and as an ordinary fact, literals
that try to end the page's JSON-LD block) is served here as any store could serve it: the build refuses
such data (tests/resources/broken/link-not-http), but the server must not rely on that. Every HTML route
sends a Content-Security-Policy that forbids inline script, and the usual hardening headers.
tests/test_browser.py drives the same pages in Chromium.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from haven.iris import UrlMap, is_web_url
from haven.web.app import create_app
from haven.web.hardening import json_for_script
from plugins.release import HOSTILE_LITERALS, HOSTILE_TRIG, settings_for, write_release


@pytest.fixture(scope="module")
def hostile_remote_client(tmp_path_factory):
    """The same hostile release published into a real Oxigraph server, served with `--store URL` from a
    replica that holds no build: what a remote store gives back is as untrusted as the build's input."""
    from haven.publish import publish
    from haven.store.remote import RemoteStore
    from plugins.stores import start_oxigraph_server

    release = write_release(tmp_path_factory.mktemp("hostile-release"), extra_trig=HOSTILE_TRIG)
    server = start_oxigraph_server(tmp_path_factory.mktemp("hostile-oxigraph"))
    try:
        publish(release, server.query_url)
        settings = settings_for(tmp_path_factory.mktemp("hostile-replica")).with_overrides(store=server.query_url)
        store = RemoteStore(server.query_url, settings)
        app = create_app(settings, store=store)
        app.config["TESTING"] = True
        yield app.test_client()
        store.close()
    finally:
        server.stop()


class Page(HTMLParser):
    """What matters for script injection: links, script elements (with their text), style, handlers."""

    def __init__(self, text: str):
        super().__init__()
        self.hrefs, self.scripts, self.styles, self.handlers, self.style_attributes = [], [], [], [], []
        self._script = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs and tag in {"a", "area"}:
            self.hrefs.append(attrs["href"])
        self.handlers += [name for name in attrs if name.startswith("on")]
        if "style" in attrs:
            self.style_attributes.append(attrs["style"])
        if tag == "script":
            self._script = {"type": attrs.get("type"), "src": attrs.get("src"), "text": ""}
            self.scripts.append(self._script)
        if tag == "style":
            self.styles.append(tag)

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


# -- links: only http(s) ------------------------------------------------------------------------------------

@pytest.fixture(params=["embedded", pytest.param("remote", marks=pytest.mark.live)])
def hostile(request):
    """A test client over the hostile release: in-process, or over a real Oxigraph server."""
    return request.getfixturevalue("hostile_client" if request.param == "embedded" else "hostile_remote_client")


def test_entity_page_links_only_http_iris(hostile):
    page = hostile.get("/page/al-qaeda")
    assert page.status_code == 200
    parsed = Page(page.get_data(as_text=True))
    # absolute http(s), or a path on this site (the navigation's url_for links)
    assert parsed.hrefs and all(is_web_url(href) or re.match(r"/(?!/)", href) for href in parsed.hrefs), parsed.hrefs
    # the hostile IRIs are still shown, as text, so a reader sees what the data says
    assert "javascript:alert(document.domain)" in page.get_data(as_text=True)


@pytest.mark.parametrize("iri, expected", [
    ("https://www.wikidata.org/entity/Q34490", "https://www.wikidata.org/entity/Q34490"),
    ("HTTP://example.org/x", "HTTP://example.org/x"),
    ("https://w3id.org/haven/id/al-qaeda", "http://127.0.0.1:8080/page/al-qaeda"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None), ("data:text/html,x", None), ("urn:isbn:123", None), ("//evil.example/", None),
])
def test_only_http_iris_get_a_link(iri, expected):
    assert UrlMap("https://w3id.org/haven/", "http://127.0.0.1:8080/").link(iri) == expected


# -- JSON inside the page -----------------------------------------------------------------------------------

def test_hostile_literals_cannot_end_the_json_ld_block(hostile):
    """`<!--<script>` in a literal used to put the HTML parser in a state where the block's own `</script>`
    no longer ended it, and the rest of the page became script text: a blank page."""
    response = hostile.get("/page/al-qaeda")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    text = response.get_data(as_text=True)
    parsed = Page(text)
    (block,) = [s for s in parsed.scripts if s["type"] == "application/ld+json"]
    assert not re.search(r"[<>&\u2028\u2029]", block["text"])
    doc = json.dumps(json.loads(block["text"]), ensure_ascii=False)
    assert all(json.dumps(literal, ensure_ascii=False)[1:-1] in doc for literal in HOSTILE_LITERALS)
    # the page after the block is still markup: the relations and the footer are there
    assert "<footer class=\"site\">" in text.split(block["text"], 1)[1]


@pytest.mark.parametrize("value", ["</script><script>alert(1)</script>", "<!--<script>", "]]>", "a&b", "\u2028\u2029",
                                   {"k<": ["<\u2029>"]}])
def test_json_for_script_is_inert_and_means_the_same(value):
    text = json_for_script(json.dumps(value, ensure_ascii=False))
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == value


def test_query_page_examples_are_escaped_json(client):
    parsed = Page(client.get("/query").get_data(as_text=True))
    (block,) = [s for s in parsed.scripts if s["type"] == "application/json"]
    assert isinstance(json.loads(block["text"])["examples"], list)
    assert "<" not in block["text"]


# -- headers on every page ----------------------------------------------------------------------------------

HTML_ROUTES = ["/", "/query", "/sparql", "/page/al-qaeda", "/ontology", "/ontology.html", "/shapes",
               "/.well-known/void", "/page/no-such-thing", "/id/no-such-thing"]


@pytest.mark.parametrize("path", HTML_ROUTES)
def test_every_html_route_sends_a_strict_policy(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/query", "/page/al-qaeda", "/ontology.html", "/shapes", "/.well-known/void"])
def test_pages_need_nothing_the_policy_forbids(client, path):
    """No inline script (only JSON data blocks and script files), no event handler attributes, no style
    attributes; an inline <style> only where the policy names its hash (pyLODE's ontology page)."""
    response = client.get(path, headers={"Accept": "text/html"})
    parsed = Page(response.get_data(as_text=True))
    for script in parsed.scripts:
        assert script["src"] or script["type"] in {"application/json", "application/ld+json"}, script
    assert not parsed.handlers and not parsed.style_attributes
    styles = re.findall(r"<style[^>]*>(.*?)</style>", response.get_data(as_text=True), re.DOTALL)
    policy = response.headers["Content-Security-Policy"]
    style_src = re.search(r"style-src ([^;]*)", policy).group(1).split()
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in style_src, path


def test_documents_are_not_sniffed(client):
    response = client.get("/data/al-qaeda.ttl")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
