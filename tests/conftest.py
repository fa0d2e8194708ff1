"""The suite's shared fixtures live in plugin modules (tests/plugins/), registered here; test modules import
helpers from there, never from one another.

Tiers (tests/plugins/tiers.py): a test with none of the markers `live`, `browser`, `slow` is in the fast tier
(`make test-fast`: unit and Flask test-client tests, each under ~2 s); a test that starts a server process,
nginx, an Oxigraph server or Chromium must be marked `live`/`browser` (the helpers refuse otherwise), and one
that takes longer in-process `slow`. `make test` runs everything.

* plugins/release.py: `release_dir`, `build_dir` (the one fixture release, tests/resources/release/),
  `shared_store`, `make_app`, `app`, `client` (Flask apps over one store loaded once per session),
  `write_release` (the same release in another build folder or base), `hostile_client`;
* plugins/servers.py: `live_server`, `start_live_server` (the production entry point as a process), `fake_serve`;
* plugins/stores.py: `oxigraph_server` (a real Oxigraph server with the release published into it);
* plugins/replicas.py: `replicas` (two `haven serve` behind nginx, by scripts/replicas.sh);
* plugins/shacl.py: `shapes`, `background`, `validated` (the SHACL fixtures, pySHACL once per fixture);
* plugins/clients.py: `conformance_server`, `self_based_server` and the third-party clients (rapper,
  Comunica) of tests/test_client_conformance.py; plugins/jsonld.py reads JSON-LD with rdflib and PyLD;
* plugins/builds.py: `project_build` (the project's own release, built once per run), source trees for builds;
* plugins/history.py: `history_builds` (three differing releases built with the CLI: the release history);
* plugins/figures.py: `report_line`, the figures printed at the end of the run;
* plugins/search.py: `real_index`, `real_client` (search and reconciliation on the real data), `validate`
  (an answer against the Reconciliation API's JSON Schemas), the rows of tests/resources/search/;
* plugins/pictures.py: `pictures_build`, `pictures_app`, `pictures_client` (the fixture release with hedged,
  dated and variously precise statements, for the pictures), `pictures_json`;
* helpers without fixtures: plugins/rawhttp.py (raw sockets), plugins/pending.py (waiting for a 503 to end),
  plugins/crawl.py (a crawl of the whole site through a test client: broken addresses and anchors),
  plugins/procmem.py (peak memory of a server and its workers, sampled from /proc).
"""
# plugins.builds before plugins.history, which imports it: a plugin imported before pytest registers it keeps
# plain asserts (PytestAssertRewriteWarning)
pytest_plugins = ["plugins.tiers", "plugins.figures", "plugins.release", "plugins.servers", "plugins.builds",
                  "plugins.history", "plugins.stores", "plugins.replicas", "plugins.shacl", "plugins.search",
                  "plugins.clients", "plugins.pictures"]
