"""Lookup by any spelling: name keys (haven.search.names), the index on the real data against the table of
spellings (tests/resources/search/spelling-variants.tsv), the index file the build writes, and /search."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from haven import buildfolder, terms
from haven.config import DEFAULT_BASE
from haven.iris import iris_for
from haven.pipeline.search import search_index
from haven.search import names
from haven.search.index import SearchIndex, extract, one_line
from haven.search.reconciliation import MATCH_SCORE, Ids, reconcile

from plugins.search import real_app, spelling_rows

HID = iris_for(DEFAULT_BASE).hid
ROWS = spelling_rows()
IDS = Ids(iris_for(DEFAULT_BASE), iris_for(DEFAULT_BASE).prefixes())


# -- name keys ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Qaeda", "Qa'ida"), ("Qaida", "Qa‘idah"), ("Usama", "Osama"), ("bin Laden", "ibn Ladin"),
    ("al-Zawahiri", "az-Zawahri"), ("Massoud", "Masood"), ("Massoud", "Mas'ud"), ("Mohammed", "Muhammad"),
    ("Lashkar-e-Taiba", "Lashkar-i-Tayyiba"), ("Jemaah", "Jamaa"), ("Mullah", "Mulla"), ("Abd al-Rahman", "Abdurrahman"),
    ("Abdul Rahman", "Abd ar-Rahman"), ("Abu'l-Yazid", "Abou el-Yazid"), ("Mazār-i-Šarīf", "Mazar-e-Sharif"),
    ("Jhangvi", "Jhangwi"), ("Kabul", "Kaboul"), ("Tehrik", "Tehreek"), ("Riyadh", "Riyad"),
])
def test_transliteration_variants_have_the_same_keys(a, b):
    assert names.token_keys(a) == names.token_keys(b)


@pytest.mark.parametrize("a, b", [
    ("Chechnya", "China"),  # the same consonant on both sides of a vowel is two letters, not a doubled one
    ("ISI", "IS"), ("ISIS", "IS"),  # acronyms keep their letters
    ("Omar", "Mar"),  # an initial vowel is kept as a mark
    ("Sayyaf", "Sayed"),
])
def test_different_names_keep_different_keys(a, b):
    assert names.token_keys(a) != names.token_keys(b)


def test_particles_alone_are_still_a_name():
    assert names.significant_words("US") == ["us"]
    assert names.significant_words("al-Qaeda") == ["qaeda"]


def test_one_line_keeps_the_first_sentence_cut_at_a_word():
    assert one_line("First sentence. Second one.") == "First sentence."
    long = "word " * 60
    assert one_line(long).endswith("…") and len(one_line(long)) <= 161


# -- the spelling table on the real data ------------------------------------------------------------------------

@pytest.mark.parametrize("row", ROWS, ids=[r["spelling"] for r in ROWS])
def test_each_spelling_finds_its_entity_first(row, real_index):
    hits = real_index.search(row["spelling"], limit=5)
    results = reconcile(real_index, row["spelling"], IDS, lambda iris, p: {})
    if row["expected"] == "-":
        # absent from Haven: nothing may be a certain match
        assert not any(r["match"] for r in results), results[:1]
        return
    assert hits, f"nothing found for {row['spelling']!r}"
    assert hits[0].entity.iri == HID + row["expected"], [(h.entity.iri, h.score, h.name) for h in hits]
    assert results[0]["id"] == row["expected"] and results[0]["match"], results[:2]


def test_the_table_holds_spellings_of_both_origins_and_absent_names():
    origins = [r["origin"] for r in ROWS]
    assert origins.count("common") >= 30 and origins.count("data") >= 30
    assert sum(r["expected"] == "-" for r in ROWS) >= 4


def test_common_spellings_are_nowhere_in_the_data(real_index):
    """What the table calls common usage is not a label or alias of any entity: the lookup finds it, not the data."""
    in_data = {name.casefold() for entity in real_index.entities for name, _ in entity.names}
    misplaced = [r["spelling"] for r in ROWS if r["origin"] == "common" and r["spelling"].casefold() in in_data]
    assert misplaced == []


def test_data_spellings_are_names_of_their_entity(real_index):
    wrong = [r["spelling"] for r in ROWS if r["origin"] == "data"
             and r["spelling"] not in {n for n, _ in real_index.by_iri[HID + r["expected"]].names}]
    assert wrong == []


def test_a_type_filter_keeps_subclasses(real_index):
    haven = str(iris_for(DEFAULT_BASE).haven)
    assert [h.entity.iri for h in real_index.search("Kabul", types=[haven + "Place"])][:1] == [HID + "kabul"]
    assert HID + "kabul" not in [h.entity.iri for h in real_index.search("Kabul", types=[haven + "Person"])]
    organisations = real_index.search("Lashkar", types=[haven + "Organization"], limit=5)
    assert organisations and all(haven + "Organization" in h.entity.all_types for h in organisations)


def test_prefix_search_completes_the_last_word(real_index):
    assert real_index.search("zawa", prefix=True)[0].entity.iri == HID + "ayman-al-zawahiri"
    assert real_index.search("lashkar-e-t", prefix=True)[0].entity.iri == HID + "lashkar-e-taiba"
    assert real_index.search("zawa") == []  # a whole-word search does not complete


@pytest.mark.parametrize("text", ["", "   ", "-", "'", "الْقَاعِدَة", "a" * 5000, "x " * 500, "\x00\u2028"])
def test_odd_queries_answer_without_error(text, real_index):
    assert isinstance(real_index.search(text, prefix=True), list)


# -- the index file: the build's stage and the server's extraction agree --------------------------------------

def test_the_build_stage_and_a_store_extract_the_same_index(release_dir, shared_store):
    """The file a build writes (pipeline.search over its pyoxigraph store) and what a server without the file
    extracts through the Store interface (rdflib terms over the default graph) are the same content."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / buildfolder.NQUADS), format=ox.RdfFormat.N_QUADS)
    built = search_index(store, DEFAULT_BASE)
    extracted = extract(lambda q: ({k: str(v) for k, v in row.items()} for row in shared_store.rows(q)),
                        iris_for(DEFAULT_BASE))
    assert built == extracted
    assert HID + "al-qaeda" in {e["iri"] for e in built["entities"]}


def test_hedged_triples_name_nothing(release_dir):
    """The index reads the default graph: a label only in hg:hedged is not a name."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / buildfolder.NQUADS), format=ox.RdfFormat.N_QUADS)
    hedged = ox.NamedNode(str(iris_for(DEFAULT_BASE).graphs["hedged"]))
    store.add(ox.Quad(ox.NamedNode(HID + "al-qaeda"), ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"),
                      ox.Literal("Hedged Only Name", language="en"), hedged))
    index = SearchIndex(search_index(store, DEFAULT_BASE))
    assert index.search("Hedged Only Name") == [] or index.search("Hedged Only Name")[0].name != "Hedged Only Name"


@pytest.mark.slow  # a whole `haven build`
def test_a_build_writes_the_index_into_the_release(tmp_path):
    from plugins.builds import build, make_tree

    root = make_tree(tmp_path / "src")
    result = build(root, tmp_path / "build", "--skip-reasoner")
    assert result.exit_code == 0, result.output
    assert "[search]" in result.output
    release = (tmp_path / "build" / "current").resolve()
    content = json.loads((release / buildfolder.SEARCH_INDEX).read_text("utf-8"))
    manifest = buildfolder.read_manifest(release)
    assert buildfolder.SEARCH_INDEX in manifest["sha256"]
    assert content["entities"] and all(e["names"] and e["label"] for e in content["entities"])


# -- GET /search ------------------------------------------------------------------------------------------------

def test_search_answers_json_by_default(client):
    response = client.get("/search?q=Usama bin Ladin")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["query"] == "Usama bin Ladin"
    top = answer["results"][0]
    assert top["iri"] == HID + "osama-bin-laden" and top["id"] == "osama-bin-laden"
    assert top["label"] == "Osama bin Laden" and top["type"][0]["label"]
    assert top["url"].endswith("/page/osama-bin-laden")
    assert "Accept" in response.headers["Vary"]


def test_search_answers_a_page_of_links_to_a_browser(client):
    response = client.get("/search?q=al-Qa'ida", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'href="http://localhost/page/al-qaeda"' in page
    assert 'value="al-Qa&#39;ida"' in page  # the query stays in the box, escaped


def test_search_with_format_json_in_a_browser(client):
    response = client.get("/search?q=Kaboul&format=json", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.mimetype == "application/json"
    assert response.get_json()["results"][0]["id"] == "kabul"


def test_search_refuses_what_it_cannot_answer(client):
    assert client.get("/search?q=x", headers={"Accept": "text/turtle"}).status_code == 406
    assert client.get("/search?q=x&limit=0").status_code == 400
    assert client.get("/search?q=x&limit=lots").status_code == 400
    assert client.get("/search?q=x&type=NoSuchClass").status_code == 400


def test_search_filters_by_type(client):
    places = client.get("/search?q=Kabul&type=Place").get_json()["results"]
    assert places[0]["id"] == "kabul"
    assert all(r["id"] != "kabul" for r in client.get("/search?q=Kabul&type=Person").get_json()["results"])


def test_search_without_a_name_lists_nothing(client):
    assert client.get("/search?q=").get_json()["results"] == []
    page = client.get("/search", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "search-results" not in page and "Nothing in Haven" not in page


def test_search_says_when_nothing_matches(client):
    page = client.get("/search?q=Hezbollah", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nothing in Haven goes by a name like" in page


def test_each_query_has_its_own_validator(client):
    one, other = client.get("/search?q=Kabul"), client.get("/search?q=Taliban")
    assert one.headers["ETag"] != other.headers["ETag"]
    again = client.get("/search?q=Kabul", headers={"If-None-Match": one.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/", "/page/al-qaeda", "/query", "/search?q=x"])
def test_every_page_has_a_search_box_that_works_without_javascript(client, path):
    page = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<form class="site-search" action="/search" method="get" role="search">' in page
    assert 'name="q"' in page
    assert 'src="/static/search.js"' in page


def test_the_suggestion_script_is_served_under_the_policy(client):
    script = client.get("/static/search.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    text = script.get_data(as_text=True)
    assert "innerHTML" not in text and "prefix" in text
    policy = client.get("/", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


def test_a_server_without_the_index_file_extracts_it_from_its_store(client, release_dir):
    """The fixture release holds no search.json (a release built before releases held one, or a remote
    store's): the index is made from the store, and finds what the file would."""
    assert not (release_dir / buildfolder.SEARCH_INDEX).exists()
    assert client.get("/search?q=Taleban").get_json()["results"][0]["id"] == "taliban"


def test_a_server_reads_the_index_file_of_its_release(real_release, real_store, monkeypatch):
    """With the release's search.json there, nothing is extracted from the store."""
    from haven.web.search import index as web_index

    def no_extraction(*args):
        raise AssertionError("the index was extracted from the store although the release has its file")

    monkeypatch.setattr(web_index, "extract", no_extraction)
    assert (real_release / buildfolder.SEARCH_INDEX).is_file()
    client = real_app(real_release, real_store).test_client()
    results = client.get("/search?q=Tehreek-e-Taliban Pakistan").get_json()["results"]
    assert results[0]["id"] == "tehrik-i-taliban-pakistan"


@pytest.mark.slow  # starts a store and times a few hundred lookups
def test_the_search_benchmark_prints_its_figures(tmp_path, release_dir):
    """bench/search.py on a copy of the fixture release: it makes the missing index with the build's stage,
    writes it beside the release, and prints the latency tables."""
    import shutil
    import subprocess
    import sys

    from haven.config import PROJECT_ROOT

    release = tmp_path / "build" / "releases" / "fixture"
    shutil.copytree(release_dir, release)
    out = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "search.py"), "--release", str(release),
                          "--names", "5"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "index made by pipeline.search" in out.stdout and (release / buildfolder.SEARCH_INDEX).is_file()
    assert "| **all** |" in out.stdout and "GET /search through the Flask test client" in out.stdout


def test_the_index_can_be_made_before_the_first_search(make_app, monkeypatch):
    """`haven serve` makes it at start-up (web.search.index.warm_up); the first search then extracts nothing."""
    from haven.web.search import index as web_index

    app = make_app()
    web_index.warm_up(app).join(timeout=60)
    monkeypatch.setattr(web_index, "extract", lambda *a: (_ for _ in ()).throw(AssertionError("extracted again")))
    assert app.test_client().get("/search?q=Taleban").get_json()["results"][0]["id"] == "taliban"


@pytest.mark.slow  # fuzzing
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), prefix=st.booleans())
def test_any_text_is_searched_without_failing(client, text, prefix):
    response = client.get("/search", query_string={"q": text, "prefix": "1" if prefix else ""})
    assert response.status_code == 200
    assert isinstance(response.get_json()["results"], list)


def test_a_dated_name_is_a_name(release_dir):
    """A haven:NameUsage's haven:name (a name borne in a period) finds its subject, as the kind "dated"."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / buildfolder.NQUADS), format=ox.RdfFormat.N_QUADS)
    ns = iris_for(DEFAULT_BASE)
    data = ox.NamedNode(str(ns.graphs["data"]))
    usage = ox.NamedNode(str(ns.hst) + "al-qaeda-name-maktab-al-khidamat")
    for p, o in ((terms.RDF_TYPE, ox.NamedNode(str(ns.haven) + "NameUsage")),
                 (str(ns.haven) + "subject", ox.NamedNode(HID + "al-qaeda")),
                 (str(ns.haven) + "name", ox.Literal("Maktab al-Khidamat", language="en"))):
        store.add(ox.Quad(usage, ox.NamedNode(p), o, data))
    index = SearchIndex(search_index(store, DEFAULT_BASE))
    hit = index.search("Maktab al-Khidmat")[0]
    assert hit.entity.iri == HID + "al-qaeda" and hit.name == "Maktab al-Khidamat"
    assert ["Maktab al-Khidamat", "dated"] in [list(n) for n in hit.entity.names]
    assert str(ns.hst) not in " ".join(e.iri for e in index.entities)  # the statement itself is no entity
