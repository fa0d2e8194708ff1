"""The pages in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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


# -- the query page with JavaScript: YASGUI over this server's /sparql (issue 10) ------------------------------

PERSON_NAMES = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                "SELECT ?name WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; skos:prefLabel ?name } ORDER BY ?name")


@pytest.fixture
def watched(page):
    """The page, with every request it makes, every failed response and every console error or uncaught
    exception recorded; the test fails if a request went to another origin or anything went wrong."""
    requests, failed, errors = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    # the browser asks for /favicon.ico by itself; whether it exists is not the query page's business
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    # a failed load is logged without its URL; `failed` has it
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.expected_failures = []  # a test that provokes an error answer lists it ("400 /sparql")
    yield page
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    elsewhere = [url for url in requests if not url.startswith(origin + "/") and not url.startswith("data:")]
    assert requests and elsewhere == [], f"requests left the server's origin {origin}: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
    unexpected = [f for f in failed if f.replace(origin, "") not in page.expected_failures]
    assert unexpected == [], f"failed responses: {unexpected}"


def run_in_yasgui(page, query: str) -> None:
    """Type `query` into YASGUI's editor (CodeMirror) and press its query button."""
    page.locator(".yasqe .CodeMirror").wait_for()
    page.evaluate("(q) => document.querySelector('.yasqe .CodeMirror').CodeMirror.setValue(q)", query)
    page.locator(".yasqe_queryButton").click()


def test_query_page_runs_a_select_in_yasgui(watched, live_app):
    watched.goto(live_app + "/query")
    assert watched.locator("#query-form").is_hidden()  # YASGUI replaced the plain form
    run_in_yasgui(watched, PERSON_NAMES)
    rows = watched.locator(".yasr table.dataTable tbody tr")
    rows.first.wait_for()
    assert [r.locator("td").nth(1).inner_text() for r in rows.all()] == [
        '"Farhan Zahid"@en', '"Gretchen Peters"@en', '"Osama bin Laden"@en']
    assert "3 results" in watched.locator(".yasr_response_chip, .yasr_header").first.inner_text()
    # no query, answer or tab is kept in the browser (what the page shows comes from its URL and the server);
    # Yasqe caches its bundled prefix list for completion, nothing of the user's
    assert watched.evaluate("Object.keys(localStorage)") in ([], ["prefixes"])


def test_query_page_runs_a_construct_in_yasgui(watched, live_app):
    watched.goto(live_app + "/query")
    run_in_yasgui(watched, "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t ; <http://www.w3.org/2004/02/skos/core#prefLabel> "
                           "\"al-Qaeda\"@en }")
    rows = watched.locator(".yasr table.dataTable tbody tr")
    rows.first.wait_for()
    text = watched.locator(".yasr").inner_text()
    assert "hid:al-qaeda" in text and "haven:MilitantOrganization" in text


def test_query_page_runs_an_ask_in_yasgui(watched, live_app):
    watched.goto(live_app + "/query")
    run_in_yasgui(watched, "ASK { ?s a <https://w3id.org/haven/ontology#Person> }")
    answer = watched.locator(".yasr .booleanResult")
    answer.wait_for()
    assert answer.inner_text().strip() == "True"
    run_in_yasgui(watched, "ASK { ?s a <https://w3id.org/haven/ontology#NoSuchClass> }")
    watched.locator(".yasr .booleanResult", has_text="False").wait_for()


def test_query_page_shows_the_error_of_a_malformed_query(watched, live_app):
    watched.expected_failures.append("400 /sparql")
    watched.goto(live_app + "/query")
    run_in_yasgui(watched, "SELECT ?x WHERE { ?x ")
    error = watched.locator(".yasr .errorResult, .yasr .errorMessage").first
    error.wait_for()
    assert "not valid SPARQL" in watched.locator(".yasr").inner_text()


def test_yasgui_completes_from_what_it_bundles_and_asks_no_other_host(watched, live_app):
    """Prefixes complete from YASGUI's bundled list (not prefix.cc); classes and properties, which YASGUI
    would look up at LOV (lov.linkeddata.es), do not complete at all. The fixture fails on any request
    to another origin."""
    watched.goto(live_app + "/query")
    editor = watched.locator(".yasqe .CodeMirror")
    editor.wait_for()
    watched.evaluate("document.querySelector('.yasqe .CodeMirror').CodeMirror.setValue('')")
    editor.click()
    watched.keyboard.type("PREFIX skos")
    watched.keyboard.press("Control+Space")
    hints = watched.locator(".CodeMirror-hints")
    hints.wait_for()
    assert "skos: <http://www.w3.org/2004/02/skos/core#>" in hints.inner_text()
    watched.keyboard.press("Escape")
    watched.evaluate("""() => { const cm = document.querySelector('.yasqe .CodeMirror').CodeMirror;
        cm.setValue('PREFIX foaf: <http://xmlns.com/foaf/0.1/>\\n'); cm.setCursor(cm.lineCount(), 0); }""")
    # YASGUI's class and property completers would look these up at LOV (the mutation of query.js that
    # enables them fails this test: connect-src refuses the fetch, which the page reports as a violation)
    watched.keyboard.type("SELECT * WHERE { ?s a foaf:Pe")
    watched.keyboard.press("Control+Space")
    watched.keyboard.type("rson ; foaf:na")
    watched.keyboard.press("Control+Space")
    watched.wait_for_timeout(1000)


@pytest.fixture(scope="module")
def capped_live(make_app):
    """The fixture release served with a result limit of 2, so that a three-row answer is capped."""
    url, stop = serve_in_thread(make_app(result_limit=2))
    yield url
    stop()


def test_query_page_says_when_the_answer_was_capped(watched, capped_live):
    watched.goto(capped_live + "/query")
    note = watched.locator("#cap-note")
    run_in_yasgui(watched, PERSON_NAMES)
    note.wait_for()
    assert "cut at 2 rows," in note.inner_text()
    assert watched.locator(".yasr table.dataTable tbody tr").count() == 2
    run_in_yasgui(watched, "ASK {}")  # an answer within the limit takes the note away
    watched.locator(".yasr .booleanResult").wait_for()
    assert note.is_hidden()


def test_an_example_runs_in_yasgui_without_leaving_the_page(watched, live_app):
    watched.goto(live_app + "/query")
    watched.locator(".yasqe .CodeMirror").wait_for()
    example = watched.locator("a.example-query").first
    assert example.inner_text().startswith("CQ1.")
    example.click()
    watched.locator(".yasr .yasr_response_chip, .yasr .dataTable").first.wait_for()
    assert watched.url.startswith(live_app + "/query?query=%23+CQ1.")
    editor_text = watched.evaluate("document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()")
    assert editor_text.startswith("# CQ1.") and "SanctuaryProvision" in editor_text


def test_yasgui_links_our_iris_to_this_host_and_no_other_scheme(watched, live_app):
    watched.goto(live_app + "/query")
    run_in_yasgui(watched, 'SELECT (IRI("javascript:alert(document.domain)") AS ?x) '
                           '(<https://w3id.org/haven/id/al-qaeda> AS ?y) (IRI("https://example.org/ok") AS ?z) {}')
    watched.locator(".yasr table.dataTable tbody tr").first.wait_for()
    hrefs = watched.eval_on_selector_all(".yasr_results a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert live_app + "/id/al-qaeda" in hrefs and "https://example.org/ok" in hrefs
    assert not [h for h in hrefs if not h.startswith(("http://", "https://"))], hrefs
    assert "javascript:alert(document.domain)" in watched.locator(".yasr_results").inner_text()


def test_query_page_without_javascript_is_a_form_the_server_answers(browser, live_app):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_app + "/query")
    page.locator("#query").fill("CONSTRUCT { ?s a ?t } WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; a ?t }")
    page.get_by_role("button", name="Run query").click()
    # the form was POSTed to the page (not to /sparql), which sent it on to the query's own link
    page.wait_for_url(live_app + "/query?query=CONSTRUCT*")
    assert "CONSTRUCT:" in page.locator("p.summary").inner_text()
    assert page.locator("table.results-table tbody tr").count() >= 3
    assert page.locator("details.turtle pre").text_content().count("hid:") >= 3
    context.close()


@pytest.mark.parametrize("width,height,name", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_query_page_fits_the_screen(browser, live_app, tmp_path, width, height, name):
    """The page with YASGUI and an answer, at desktop and phone width: nothing wider than the screen, the
    editor inside it. The screenshots go to $HAVEN_SCREENSHOT_DIR when set (to look at), else the tmp dir."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(live_app + "/query")
    run_in_yasgui(page, PERSON_NAMES)
    page.locator(".yasr table.dataTable tbody tr").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    editor = page.locator(".yasqe .CodeMirror").bounding_box()
    assert editor["x"] >= 0 and editor["x"] + editor["width"] <= width
    shots = Path(os.environ.get("HAVEN_SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(shots / f"query-{name}.png"), full_page=True)
    context.close()


# -- hostile clients and data (issue 14, findings 9 and 10) ----------------------------------------------------

XSS_QUERY = 'SELECT (IRI("javascript:alert(document.domain)") AS ?x) (IRI("https://example.org/ok") AS ?y) {}'


def test_a_query_link_cannot_run_a_javascript_iri(page, live_app):
    """The issue's one-click XSS: the query runs on load and its javascript: IRI was a link. Now it is text,
    and clicking it does nothing (the page fixture fails the test on any dialog)."""
    page.goto(live_app + "/query?" + urlencode({"query": XSS_QUERY}))
    cells = page.locator("table.results-table tbody td")
    cells.first.wait_for()
    assert cells.nth(0).inner_text() == "<javascript:alert(document.domain)>"
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


# -- the ontology page (issue 10, item 2) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def ontology_live(tmp_path_factory):
    """The fixture release with the real ontology file (ontology/haven.ttl) as its ontology.ttl, which the page
    is rendered from: the page as long as it really is."""
    import shutil
    from pathlib import Path

    from haven.web.app import create_app
    from plugins.release import settings_for, write_release

    build = tmp_path_factory.mktemp("ontology-page")
    release = write_release(build)
    shutil.copyfile(Path(__file__).resolve().parent.parent / "ontology" / "haven.ttl", release / "ontology.ttl")
    app = create_app(settings_for(build))
    url, stop = serve_in_thread(app)
    yield url
    stop()
    app.extensions["haven"].close()


#: where the contents and the text are (viewport coordinates), whether the page scrolls sideways, and which
#: element a reader's tap at the middle of the #Stated heading would reach
ONTOLOGY_LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const toc = document.querySelector("nav.toc"), text = document.querySelector(".ontology-text");
  const heading = document.querySelector("#Stated h4, #Stated h3");
  const h = heading.getBoundingClientRect();
  const hit = document.elementFromPoint(h.left + Math.min(h.width, 200) / 2, h.top + h.height / 2);
  return {toc: box(toc), text: box(text), stated: box(document.getElementById("Stated")),
          scrollY: window.scrollY, innerWidth: window.innerWidth, innerHeight: window.innerHeight,
          pageWidth: document.documentElement.scrollWidth,
          statedReached: hit !== null && document.getElementById("Stated").contains(hit)};
}"""


def _overlap(a, b) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("device, width, height", [("desktop", 1366, 900), ("phone", 390, 844)])
def test_ontology_page_opens_at_stated_and_its_contents_never_cover_the_text(page, ontology_live, tmp_path_factory,
                                                                               request, device, width, height):
    from plugins.figures import report_line

    shots = tmp_path_factory.mktemp(f"ontology-{device}")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(ontology_live + "/ontology")
    assert page.title() == "Haven ontology 2.0.0 · Haven"
    assert page.locator("header.site nav a", has_text="Ontology").is_visible()
    top = page.evaluate(ONTOLOGY_LAYOUT)
    page.screenshot(path=str(shots / "top.png"))
    assert not _overlap(top["toc"], top["text"]), top
    assert top["pageWidth"] <= top["innerWidth"], "the page scrolls sideways"

    page.goto(ontology_live + "/ontology#Stated")
    page.wait_for_function("() => window.scrollY > 0")
    at = page.evaluate(ONTOLOGY_LAYOUT)
    page.screenshot(path=str(shots / "stated.png"))
    assert at["scrollY"] > at["innerHeight"], "the link did not leave the top of the page"
    assert 0 <= at["stated"]["top"] < at["innerHeight"] / 2, at["stated"]
    assert at["statedReached"], "something covers the entry"
    assert not _overlap(at["toc"], at["stated"]), (at["toc"], at["stated"])
    assert at["pageWidth"] <= at["innerWidth"]

    page.goto(ontology_live + "/ontology#statement-pairs")
    page.wait_for_function("() => window.scrollY > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(shots / "pairs.png"))
    report_line(request.config, f"ontology page screenshots ({device}, {width}x{height}): {shots}")


# -- the search box of every page (issue 13) ------------------------------------------------------------------

def test_search_box_suggests_names_as_you_type(watched, live_app):
    watched.goto(live_app + "/page/taliban")
    box = watched.locator("form.site-search input[name=q]")
    box.press_sequentially("usama bin lad", delay=30)
    suggestion = watched.locator(".suggestions a", has_text="Osama bin Laden")
    suggestion.wait_for()
    assert "Person" in suggestion.inner_text()
    box.press("ArrowDown")
    watched.keyboard.press("Enter")
    watched.wait_for_url(live_app + "/page/osama-bin-laden")


def test_search_box_works_without_javascript(browser, live_app):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_app + "/")
        page.locator("form.site-search input[name=q]").fill("Al Qa'ida")
        page.locator("form.site-search input[name=q]").press("Enter")
        page.wait_for_url(live_app + "/search?q=Al+Qa%27ida")
        page.locator("ol.search-results a").first.click()  # the best hit first
        page.wait_for_url(live_app + "/page/al-qaeda")
    finally:
        context.close()


# -- pictures: an entity's network and timeline, the dataset network (issue 13, item 4) -------------------------

@pytest.fixture(scope="module")
def pictures_live(pictures_app):
    """The pictures release (tests/plugins/pictures.py: hedged, dated, open-ended statements), served."""
    url, stop = serve_in_thread(pictures_app)
    yield url
    stop()


def drawn_network(page) -> dict:
    """What Cytoscape holds, read through the page, beside the JSON the server put in it."""
    page.locator("#network[data-edges]").wait_for()
    return page.evaluate("""() => {
        const cy = window.havenPictures.network, data = JSON.parse(document.getElementById('pictures-data').textContent);
        return {data, nodes: cy.nodes().map(n => n.id()).sort(), edges: cy.edges().map(e => e.id()).sort(),
                dashed: cy.edges().filter(e => e.style('line-style') === 'dashed').map(e => e.id()).sort(),
                colours: Object.fromEntries(cy.edges().map(e => [e.id(), e.style('line-color')])),
                counted: [document.getElementById('network').dataset.nodes, document.getElementById('network').dataset.edges],
                canvases: document.querySelectorAll('#network canvas').length,
                legend: [...document.querySelectorAll('.legend-kinds li')].map(li => li.textContent.trim())};
    }""")


def check_network(drawn: dict) -> None:
    data = drawn["data"]
    assert drawn["canvases"] >= 1
    assert drawn["nodes"] == sorted(n["id"] for n in data["nodes"])
    assert drawn["edges"] == sorted(e["id"] for e in data["edges"])
    assert drawn["counted"] == [str(len(data["nodes"])), str(len(data["edges"]))]
    assert drawn["dashed"] == sorted(e["id"] for e in data["edges"] if e["hedged"])
    # one colour per kind, different kinds different colours, and the legend names each kind once
    by_kind = {}
    for edge in data["edges"]:
        by_kind.setdefault(edge["kind"], set()).add(drawn["colours"][edge["id"]])
    assert all(len(colours) == 1 for colours in by_kind.values())
    assert len({c for colours in by_kind.values() for c in colours}) == len(by_kind)
    assert [line.split(" (")[0] for line in drawn["legend"]] == [k["label"] for k in data["kinds"]]


def screenshot(page, locator: str, name: str, tmp_path) -> None:
    shots = Path(os.environ.get("HAVEN_SCREENSHOT_DIR") or tmp_path)
    page.locator(locator).screenshot(path=str(shots / f"{name}.png"))


@pytest.mark.parametrize("width,height,name", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_entity_page_draws_its_network_and_timeline(watched, pictures_live, pictures_app, tmp_path, width, height,
                                                   name):
    watched.set_viewport_size({"width": width, "height": height})
    watched.goto(pictures_live + "/page/taliban")
    drawn = drawn_network(watched)
    check_network(drawn)
    # what Cytoscape drew is what the store says: one edge per statement node the Taliban is a party of
    taliban, haven = "https://w3id.org/haven/id/taliban", "https://w3id.org/haven/ontology#"
    rows = pictures_app.extensions["haven"].rows(
        f"SELECT ?st ?s ?o WHERE {{ ?st <{haven}subject> ?s ; <{haven}object> ?o . FILTER(?s = <{taliban}> || ?o = <{taliban}>) }}")
    assert drawn["edges"] == sorted(str(r["st"]) for r in rows)
    assert drawn["nodes"] == sorted({str(r[v]) for r in rows for v in ("s", "o")})
    assert len(drawn["edges"]) == 4 and len(drawn["dashed"]) == 2
    items = drawn["data"]["timeline"]
    watched.locator(".vis-item.vis-range").first.wait_for()
    assert watched.locator(".vis-item.vis-range").count() == len(items) == 3
    assert watched.locator("#timeline").get_attribute("data-items") == "3"
    # precision and certainty as classes the legend explains: the month-precise pledge runs on (believed), the
    # funding's start is unknown and its end precise to the day (alleged), the sanctuary is years (reported)
    classes = {i: watched.locator(".vis-item.vis-range", has_text=text).get_attribute("class")
               for i, text in (("pledge", "received allegiance from"), ("funding", "provided funding to"),
                               ("sanctuary", "provided sanctuary to"))}
    assert {"certainty-believed", "hedged", "start-month", "open-end"} <= set(classes["pledge"].split())
    assert {"certainty-alleged", "hedged", "open-start", "end-day"} <= set(classes["funding"].split())
    assert {"certainty-reported", "start-year", "end-year"} <= set(classes["sanctuary"].split())
    assert "1998-05 –" in watched.locator(".vis-item", has_text="received allegiance from").inner_text()
    # the list of relations is still there, below the pictures
    assert watched.locator("li.relation").count() == 4
    assert watched.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(watched, "section.pictures", f"entity-pictures-{name}", tmp_path)


@pytest.mark.live  # an Oxigraph server
def test_pictures_drawn_over_a_remote_store(watched, browser, remote_pictures_app, pictures_live):
    """Haven serving from an Oxigraph server draws what it draws from the embedded store (the watched page stays
    on the remote-backed server's origin; the embedded drawing is read in a context of its own)."""
    def drawing(page, base):
        page.goto(base + "/page/taliban")
        drawn = drawn_network(page)
        check_network(drawn)
        page.locator(".vis-item.vis-range").first.wait_for()
        drawn["items"] = page.locator(".vis-item.vis-range").count()
        del drawn["data"]  # its links name the host
        return drawn

    context = browser.new_context()
    try:
        embedded = drawing(context.new_page(), pictures_live)
    finally:
        context.close()
    url, stop = serve_in_thread(remote_pictures_app)
    try:
        remote = drawing(watched, url)
        assert remote == embedded and remote["items"] == 3
        watched.goto(url + "/network")
        check_network(drawn_network(watched))
    finally:
        stop()


def test_clicking_a_node_goes_to_its_page(watched, pictures_live):
    watched.goto(pictures_live + "/page/taliban")
    drawn_network(watched)
    box = watched.locator("#network").bounding_box()
    at = watched.evaluate("() => window.havenPictures.network.getElementById('https://w3id.org/haven/id/al-qaeda')"
                          ".renderedPosition()")
    watched.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    watched.wait_for_url(pictures_live + "/page/al-qaeda")
    check_network(drawn_network(watched))


@pytest.mark.parametrize("width,height,name", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_dataset_network_draws_allegiance_and_sanctuary(watched, pictures_live, tmp_path, width, height, name):
    watched.set_viewport_size({"width": width, "height": height})
    watched.goto(pictures_live + "/")
    watched.locator("header.site nav a", has_text="Network").click()
    watched.wait_for_url(pictures_live + "/network")
    drawn = drawn_network(watched)
    check_network(drawn)
    assert {e["kind"] for e in drawn["data"]["edges"]} == {"AllegiancePledge", "SanctuaryProvision"}
    assert watched.locator(".network-table tbody tr").count() == len(drawn["data"]["edges"])
    assert watched.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(watched, "section.pictures", f"network-{name}", tmp_path)


def test_pictures_stay_out_of_the_way_without_javascript(browser, pictures_live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(pictures_live + "/page/taliban")
    assert not page.locator("section.pictures").is_visible()
    assert page.locator("li.relation").count() == 4 and page.locator("li.relation.hedged").count() == 2
    page.goto(pictures_live + "/network")
    assert page.locator(".network-table tbody tr").count() == 3
    context.close()
