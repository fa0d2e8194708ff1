"""The pages in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from plugins.tiers import require_marker

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve_in_thread(app):
    """`app` on a free loopback port, in a thread (no fixed port, no sleep): (base URL, stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture(scope="module")
def live_app(make_app):
    """The fixture release's app, as `app` makes it, served the same way."""
    url, stop = serve_in_thread(make_app())
    yield url
    stop()


@pytest.fixture(scope="module")
def hostile_live(hostile_client):
    """The release with hostile data (tests/test_hardening.py), served the same way."""
    url, stop = serve_in_thread(hostile_client.application)
    yield url
    stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    require_marker("browser", "starts Chromium")

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: recorded in the page, before any of its own scripts: every Content-Security-Policy violation it reports
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    function (e) { window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI); });
"""


@pytest.fixture
def page(browser):
    """A fresh page that records any dialog (alert, confirm: what an injected script would open) and any
    CSP violation; a test that ends with either fails."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    yield page
    violations = page.evaluate("window.__cspViolations || []") if not page.is_closed() else []
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"
    assert violations == [], f"Content-Security-Policy violations: {violations}"


def test_landing_to_entity_page(page, live_app):
    page.goto(live_app + "/")
    assert page.title().startswith("A Linked Data graph")
    page.get_by_role("link", name="al-Qaeda", exact=True).first.click()
    page.wait_for_url(live_app + "/page/al-qaeda")
    assert page.locator("h1").inner_text() == "al-Qaeda"
    assert page.get_by_text("Al Qaida").is_visible()
    assert page.locator("h3", has_text="received sanctuary from").is_visible()
    relation = page.locator("li.relation", has_text="Gretchen Peters")
    assert "bullet 5" in relation.inner_text() and "1996 – 2001" in relation.inner_text()
    summary = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert summary["@context"] == "https://schema.org" and summary["name"] == "al-Qaeda"
    assert page.locator('link[rel="alternate"][type="application/ld+json"]').get_attribute("href") \
        == live_app + "/data/al-qaeda.jsonld"
    # following a relation keeps us on this host
    page.locator("li.relation a", has_text="Taliban").first.click()
    page.wait_for_url(live_app + "/page/taliban")


def test_entity_uri_in_browser_lands_on_page(page, live_app):
    page.goto(live_app + "/id/osama-bin-laden")
    assert page.url == live_app + "/page/osama-bin-laden"
    assert page.locator("h1").inner_text() == "Osama bin Laden"


def test_example_query_runs_in_one_click(page, live_app):
    page.goto(live_app + "/")
    page.locator("a.example-query", has_text="Every spelling").click()
    rows = page.locator("table.results-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3  # AQ, Al Qaida, Taleban
    assert "Taleban" in page.locator("table.results-table").inner_text()


def test_query_page_type_and_run(page, live_app):
    page.goto(live_app + "/query")
    page.locator("#query").fill(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?name WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; skos:prefLabel ?name } ORDER BY ?name")
    page.get_by_role("button", name="Run query").click()
    rows = page.locator("table.results-table tbody tr")
    rows.first.wait_for()
    assert [r.inner_text() for r in rows.all()] == ["Farhan Zahid", "Gretchen Peters", "Osama bin Laden"]
    assert "3 row(s)" in page.locator("#status").inner_text()


def test_query_page_shows_the_error_of_a_malformed_query(page, live_app):
    page.goto(live_app + "/query")
    page.locator("#query").fill("SELECT ?x WHERE { ?x ")
    page.get_by_role("button", name="Run query").click()
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "400" in error.inner_text()
    assert page.locator("table.results-table").count() == 0


# -- hostile clients and data (issue 14, findings 9 and 10) ----------------------------------------------------

XSS_QUERY = 'SELECT (IRI("javascript:alert(document.domain)") AS ?x) (IRI("https://example.org/ok") AS ?y) {}'


def test_a_query_link_cannot_run_a_javascript_iri(page, live_app):
    """The issue's one-click XSS: the query runs on load and its javascript: IRI was a link. Now it is text,
    and clicking it does nothing (the page fixture fails the test on any dialog)."""
    page.goto(live_app + "/query?" + urlencode({"query": XSS_QUERY}))
    cells = page.locator("table.results-table tbody td")
    cells.first.wait_for()
    assert cells.nth(0).inner_text() == "javascript:alert(document.domain)"
    assert cells.nth(0).locator("a").count() == 0
    cells.nth(0).click()
    assert cells.nth(1).locator("a").get_attribute("href") == "https://example.org/ok"
    # a javascript: navigation forced into the page is still refused by the policy (script-src 'self')
    page.evaluate("""() => { const a = document.createElement("a"); a.href = "javascript:alert(1)";
                              document.body.appendChild(a); a.click(); }""")
    blocked = page.evaluate("window.__cspViolations.splice(0)")
    assert blocked and all(v.startswith("script-src") for v in blocked), blocked


def test_hostile_data_neither_runs_nor_blanks_the_entity_page(page, hostile_live):
    page.goto(hostile_live + "/page/al-qaeda")
    assert page.locator("h1").inner_text() == "al-Qaeda"
    assert page.locator("footer.site").is_visible()  # the JSON-LD block no longer swallows the page
    assert page.get_by_text("<!--<script>").is_visible()
    assert page.locator('a[href^="javascript:" i], a[href^="data:" i]').count() == 0
    doc = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert "</script><script>alert(4)</script>" in json.dumps(doc, ensure_ascii=False)


@pytest.mark.parametrize("path", ["/", "/page/al-qaeda", "/ontology.html", "/shapes", "/.well-known/void",
                                  "/id/osama-bin-laden"])
def test_pages_keep_their_look_under_the_policy(page, live_app, path):
    """No CSP violation on the ordinary pages (the fixture checks); the stylesheet, including pyLODE's
    inlined one, is applied."""
    page.goto(live_app + path)
    page.locator("footer, body").first.wait_for()
    assert page.evaluate("document.styleSheets.length") >= 1
