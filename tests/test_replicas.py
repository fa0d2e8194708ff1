"""Horizontal read scale: `haven serve` replicas behind nginx with deploy/nginx/haven.conf (issue 4).

The live tests run `scripts/replicas.sh` as an operator would: two replicas of one build on loopback and an
nginx (Debian's, installed by `make system-deps`) in a temporary prefix. They show the cache answering
(HIT, 304 to a conditional request, 303s kept per Accept), the expired entry revalidated with the replica's
validators, failover when a replica is stopped, and a quick 502 once none is left. The first test checks,
through the Flask client, the headers from the app that the nginx configuration relies on.
"""
from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import time
from urllib.parse import quote

import pytest
from rdflib import Graph, URIRef

from plugins.figures import report_line
from plugins.replicas import NGINX, SCRIPT, alive

AL_QAEDA = URIRef("https://w3id.org/haven/id/al-qaeda")
#: entities of the fixture release, for requests the cache has not seen yet
SLUGS = ["al-qaeda", "taliban", "osama-bin-laden", "the-al-qaeda-afghan-taliban-connections",
         "statement/osama-bin-laden-leader-of-al-qaeda"]


# -- what the cache relies on from the app ----------------------------------------------------------------

@pytest.mark.parametrize("path, accept", [
    ("/data/al-qaeda.ttl", "text/turtle"),
    ("/page/al-qaeda", "text/html"),
    ("/id/al-qaeda", "text/turtle"),
    ("/data/al-qaeda", "application/ld+json"),
    ("/ontology", "text/turtle"),
    ("/.well-known/void", "text/turtle"),
    ("/context.jsonld", "application/ld+json"),
    ("/dumps/haven.nq", "application/n-quads"),
    ("/dataset", "text/turtle"),
    ("/static/style.css", "text/css"),
])
def test_release_documents_declare_a_shared_lifetime(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code in {200, 303}, (path, response.status_code)
    directives = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
    assert "public" in directives and "max-age=3600" in directives, (path, response.headers.get("Cache-Control"))
    if response.status_code == 200 and not path.startswith("/static/"):
        assert response.headers.get("ETag") and response.headers.get("Last-Modified"), path


@pytest.mark.parametrize("method, path", [("GET", "/healthz"), ("POST", "/sparql"), ("GET", "/query")])
def test_live_answers_declare_no_lifetime(client, method, path):
    """Without Cache-Control nginx keeps nothing (the config sets no default lifetime for 200s)."""
    response = client.open(path, method=method, data={"query": "ASK {}"} if method == "POST" else None,
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers


# -- the replica set ------------------------------------------------------------------------------------

def test_render_fills_every_placeholder():
    done = subprocess.run([str(SCRIPT), "render", "127.0.0.1:8080", "/var/cache/haven", "10.0.0.1:8081",
                           "10.0.0.2:8081"], capture_output=True, text=True, check=True)
    assert re.findall(r"^\s*server (\S+) max_fails", done.stdout, re.M) == ["10.0.0.1:8081", "10.0.0.2:8081"]
    assert "listen 127.0.0.1:8080;" in done.stdout and "/var/cache/haven/documents" in done.stdout
    assert not re.search(r"@[A-Z_]+@", done.stdout)


def test_start_refuses_a_build_without_a_release(tmp_path):
    done = subprocess.run([str(SCRIPT), "start", "-b", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "no release in" in done.stderr and "haven build" in done.stderr
    assert done.stdout == ""


def _upstreams(log_line: str) -> list[str]:
    match = re.search(r"upstream=(.*?) upstream_status=", log_line)
    return [] if match is None or match.group(1) == "-" else match.group(1).split(", ")


@pytest.mark.live
def test_cache_hits_revalidation_and_failover(replicas, request):
    # an entity document: rendered once by a replica, then served by nginx
    first = replicas.request("/data/al-qaeda.ttl")
    second = replicas.request("/data/al-qaeda.ttl")
    assert (first.status, first.cache) == (200, "MISS")
    assert (second.status, second.cache) == (200, "HIT")
    assert second.body == first.body and second.headers["ETag"] == first.headers["ETag"]
    assert (AL_QAEDA, None, None) in Graph().parse(data=second.body, format="turtle")
    assert _upstreams(replicas.access_log()[-1]) == []

    # a client holding the document revalidates it against nginx alone
    etag = first.headers["ETag"]
    current = replicas.request("/data/al-qaeda.ttl", {"If-None-Match": etag})
    assert (current.status, current.cache, current.body) == (304, "HIT", b"")
    assert current.headers["ETag"] == etag and _upstreams(replicas.access_log()[-1]) == []
    outdated = replicas.request("/data/al-qaeda.ttl", {"If-None-Match": '"another-release"'})
    assert (outdated.status, outdated.body) == (200, first.body)

    # the gzip variant is its own entry with its own validator, shared by every way of asking for gzip
    zipped = [replicas.request("/data/al-qaeda.ttl", {"Accept-Encoding": encoding})
              for encoding in ("gzip, br", "gzip, deflate, br, zstd")]
    assert [z.cache for z in zipped] == ["MISS", "HIT"]
    assert replicas.request("/data/al-qaeda.ttl", {"Accept-Encoding": "identity"}).cache == "HIT"
    assert zipped[1].headers["Content-Encoding"] == "gzip" and zipped[1].headers["ETag"] == etag[:-1] + '-gzip"'
    assert gzip.decompress(zipped[1].body) == first.body

    # the 303 from a thing's IRI is kept per Accept, and points at nginx, not at a replica
    to_turtle = [replicas.request("/id/al-qaeda", {"Accept": "text/turtle"}) for _ in range(2)]
    to_html = replicas.request("/id/al-qaeda", {"Accept": "text/html"})
    assert [(a.status, a.cache) for a in to_turtle] == [(303, "MISS"), (303, "HIT")]
    assert to_turtle[1].headers["Location"] == f"{replicas.nginx_url}data/al-qaeda.ttl"
    assert (to_html.status, to_html.cache, to_html.headers["Location"]) == (
        303, "MISS", f"{replicas.nginx_url}page/al-qaeda")

    # both replicas take uncached requests
    for _ in range(4):
        assert replicas.request("/healthz").status == 200
    used = {u for line in replicas.access_log()[-4:] for u in _upstreams(line)}
    assert len(used) == 2, used

    # one replica stopped: every request still succeeds, the ones sent to it retried on the other
    replicas.stop_replica(0)
    seen = len(replicas.access_log())
    uncached = ["/healthz"] + [f"/data/{slug}.{ext}" for slug in SLUGS for ext in ("nt", "jsonld")]
    uncached += [f"/sparql?query={quote(f'ASK {{ ?s ?p {n} }}')}" for n in range(3)]
    answers = [replicas.request(path, {"Accept": "application/sparql-results+json"} if "sparql" in path else {})
               for path in uncached]
    assert [a.status for a in answers] == [200] * len(uncached)
    after = replicas.access_log()[seen:]
    assert all(_upstreams(line) for line in after), after
    retried = [line for line in after if len(_upstreams(line)) == 2]
    assert retried, "no request was sent to the stopped replica first; the failover was not exercised"

    # none left: an uncached request fails fast with a gateway error, a cached document is still served
    replicas.stop_replica(1)
    down = replicas.request("/data/taliban.ttl")
    assert down.status in {502, 503} and down.seconds < 2.0, (down.status, down.seconds)
    shielded = replicas.request("/data/al-qaeda.ttl")
    assert (shielded.status, shielded.body) == (200, first.body)
    report_line(request.config, f"replicas behind nginx: failover retried {len(retried)} of {len(after)} "
                                f"requests; with no replica left nginx answered {down.status} in "
                                f"{down.seconds * 1000:.0f} ms")


@pytest.mark.live
def test_expired_entries_are_revalidated_with_the_replicas_validators(replicas):
    """The app says max-age=3600; this test shortens the lifetime to 1 s (and logs nginx's background
    requests) by restarting nginx on an edited copy of the rendered config, to see the revalidation: a
    stale entry is served at once while nginx asks a replica with If-None-Match / If-Modified-Since and
    gets a 304, not the document again."""
    conf = replicas.state_dir / "nginx.conf"
    text = conf.read_text()
    text = text.replace("    location / {\n", "    location / {\n        proxy_ignore_headers Cache-Control Expires;\n"
                                             "        proxy_cache_valid 200 1s;\n", 1)
    text = text.replace("http {\n", "http {\n    log_subrequest on;\n", 1)
    conf.write_text(text)
    pid = int((replicas.state_dir / "nginx.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    while alive(pid):
        time.sleep(0.02)
    state = str(replicas.state_dir)
    subprocess.run([NGINX, "-p", state + "/", "-c", str(conf), "-e", f"{state}/nginx-error.log"], check=True)

    assert replicas.request("/page/al-qaeda").cache == "MISS"
    time.sleep(2.1)  # nginx counts lifetimes in whole seconds: 1 s may last up to 2
    stale = replicas.request("/page/al-qaeda")
    assert (stale.status, stale.cache) in {(200, "STALE"), (200, "UPDATING")}
    deadline = time.monotonic() + 5
    while not any("/page/al-qaeda" in line and "upstream_status=304" in line for line in replicas.access_log()):
        assert time.monotonic() < deadline, replicas.access_log()
        time.sleep(0.05)
    fresh = replicas.request("/page/al-qaeda")
    assert (fresh.status, fresh.cache, fresh.body) == (200, "HIT", stale.body)
