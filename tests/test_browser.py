"""The pages in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from ld_release import ld_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def ld_live(ld_app):
    """The LD test app on a free loopback port, in a thread (no fixed port, no sleep)."""
    server = make_server("127.0.0.1", 0, ld_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_landing_to_entity_page(page, ld_live):
    page.goto(ld_live + "/")
    assert page.title().startswith("A Linked Data graph")
    page.get_by_role("link", name="al-Qaeda", exact=True).first.click()
    page.wait_for_url(ld_live + "/page/al-qaeda")
    assert page.locator("h1").inner_text() == "al-Qaeda"
    assert page.get_by_text("Al Qaida").is_visible()
    assert page.locator("h3", has_text="received sanctuary from").is_visible()
    relation = page.locator("li.relation", has_text="Gretchen Peters")
    assert "bullet 5" in relation.inner_text() and "1996 – 2001" in relation.inner_text()
    doc = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert doc["@context"] == ld_live + "/context.jsonld"
    assert any(node.get("id") == "hid:al-qaeda" and node.get("prefLabel") == "al-Qaeda" for node in doc["@graph"])
    # following a relation keeps us on this host
    page.locator("li.relation a", has_text="Taliban").first.click()
    page.wait_for_url(ld_live + "/page/taliban")


def test_entity_uri_in_browser_lands_on_page(page, ld_live):
    page.goto(ld_live + "/id/osama-bin-laden")
    assert page.url == ld_live + "/page/osama-bin-laden"
    assert page.locator("h1").inner_text() == "Osama bin Laden"


def test_example_query_runs_in_one_click(page, ld_live):
    page.goto(ld_live + "/")
    page.locator("a.example-query", has_text="Every spelling").click()
    rows = page.locator("table.results-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3  # AQ, Al Qaida, Taleban
    assert "Taleban" in page.locator("table.results-table").inner_text()


def test_query_page_type_and_run(page, ld_live):
    page.goto(ld_live + "/query")
    page.locator("#query").fill(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?name WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; skos:prefLabel ?name } ORDER BY ?name")
    page.get_by_role("button", name="Run query").click()
    rows = page.locator("table.results-table tbody tr")
    rows.first.wait_for()
    assert [r.inner_text() for r in rows.all()] == ["Farhan Zahid", "Gretchen Peters", "Osama bin Laden"]
    assert "3 row(s)" in page.locator("#status").inner_text()


def test_query_page_shows_the_error_of_a_malformed_query(page, ld_live):
    page.goto(ld_live + "/query")
    page.locator("#query").fill("SELECT ?x WHERE { ?x ")
    page.get_by_role("button", name="Run query").click()
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "400" in error.inner_text()
    assert page.locator("table.results-table").count() == 0
