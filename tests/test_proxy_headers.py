"""Behind a TLS-terminating proxy: X-Forwarded-Proto/-Host are believed only with `proxy_hops` (issue: links
said http:// behind nginx). With hops=1 the 303 targets, Link headers and HTML links name the URL the client
used; with the default 0 the same headers change nothing, so a client reaching a replica directly cannot
choose the scheme or host of the links it is given. Canonical IRIs stay under the configured base either way.
"""
from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from haven.web.app import create_app
from haven.cli import main
from haven.config import Settings
from plugins.release import settings_for, write_release

CANONICAL = "https://w3id.org/haven/id/al-qaeda"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "haven.example.org"}
PUBLIC = "https://haven.example.org/"
DIRECT = "http://localhost/"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("proxy-build")
    write_release(build_dir)
    return build_dir


def client_for(build, **overrides):
    app = create_app(settings_for(build).with_overrides(**overrides))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def behind_proxy(build):
    return client_for(build, proxy_hops=1, allowed_hosts="haven.example.org, localhost")


@pytest.fixture(scope="module")
def exposed(build):
    return client_for(build)


def hrefs(response) -> list[str]:
    return re.findall(r'href="([^"]+)"', response.get_data(as_text=True))


# -- trusted: hops=1 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept, target", [("text/html", "page/al-qaeda"), ("text/turtle", "data/al-qaeda.ttl")])
def test_see_other_names_the_forwarded_scheme_and_host(behind_proxy, accept, target):
    response = behind_proxy.get("/id/al-qaeda", headers={**FORWARDED, "Accept": accept})
    assert response.status_code == 303
    assert response.headers["Location"] == PUBLIC + target


def test_generic_document_see_other_names_the_forwarded_url(behind_proxy):
    response = behind_proxy.get("/data/al-qaeda", headers={**FORWARDED, "Accept": "application/ld+json"})
    assert response.status_code == 303 and response.headers["Location"] == PUBLIC + "data/al-qaeda.jsonld"


def test_link_header_names_the_forwarded_url_and_keeps_the_canonical_iri(behind_proxy):
    link = behind_proxy.get("/data/al-qaeda.ttl", headers=FORWARDED).headers["Link"]
    assert f'<{PUBLIC}page/al-qaeda>; rel="alternate"; type="text/html"' in link
    assert f'<{PUBLIC}data/al-qaeda.jsonld>; rel="alternate"; type="application/ld+json"' in link
    assert f'<{CANONICAL}>; rel="canonical"' in link
    assert "http://" not in link


def test_html_page_links_name_the_forwarded_url(behind_proxy):
    response = behind_proxy.get("/page/al-qaeda", headers=FORWARDED)
    assert response.status_code == 200
    links = hrefs(response)
    assert f"{PUBLIC}page/taliban" in links
    assert f"{PUBLIC}data/al-qaeda.ttl" in links
    # every absolute link to this server is the forwarded one; none leaks the proxy-to-replica hop
    assert not [href for href in links if href.startswith(DIRECT)]
    # the page still states the thing's canonical IRI, not one on the forwarded host
    assert CANONICAL in response.get_data(as_text=True)


def test_rdf_is_the_same_whatever_url_it_was_asked_at(behind_proxy, exposed):
    forwarded = behind_proxy.get("/data/al-qaeda.ttl", headers=FORWARDED)
    direct = exposed.get("/data/al-qaeda.ttl")
    assert forwarded.status_code == direct.status_code == 200
    assert forwarded.data == direct.data
    assert b"haven.example.org" not in forwarded.data


def test_without_forwarded_headers_a_trusting_server_uses_its_own_url(behind_proxy):
    response = behind_proxy.get("/id/al-qaeda", headers={"Accept": "text/html"})
    assert response.headers["Location"] == DIRECT + "page/al-qaeda"


def test_only_the_last_hop_is_believed(behind_proxy):
    """nginx overwrites -Proto and -Host; a proxy that appends would leave the client's value first."""
    headers = {"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "evil.example, haven.example.org",
               "Accept": "text/html"}
    response = behind_proxy.get("/id/al-qaeda", headers=headers)
    assert response.headers["Location"] == PUBLIC + "page/al-qaeda"


def test_forwarded_port_and_prefix_are_never_believed(behind_proxy):
    """nginx neither sets nor overwrites them: they could only come from the client."""
    headers = {**FORWARDED, "X-Forwarded-Port": "8443", "X-Forwarded-Prefix": "/evil", "Accept": "text/html"}
    response = behind_proxy.get("/id/al-qaeda", headers=headers)
    assert response.headers["Location"] == PUBLIC + "page/al-qaeda"


# -- not trusted: the default ------------------------------------------------------------------------------

def test_proxy_hops_default_to_zero(monkeypatch):
    monkeypatch.delenv("HAVEN_PROXY_HOPS", raising=False)
    assert Settings.from_env().proxy_hops == 0
    monkeypatch.setenv("HAVEN_PROXY_HOPS", "1")
    assert Settings.from_env().proxy_hops == 1


def test_spoofed_headers_change_no_see_other(exposed):
    response = exposed.get("/id/al-qaeda", headers={**FORWARDED, "Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"] == DIRECT + "page/al-qaeda"


def test_spoofed_headers_change_no_link_header(exposed):
    link = exposed.get("/data/al-qaeda.ttl", headers=FORWARDED).headers["Link"]
    assert f'<{DIRECT}page/al-qaeda>; rel="alternate"; type="text/html"' in link
    assert "haven.example.org" not in link


def test_spoofed_headers_change_no_html_link(exposed):
    response = exposed.get("/page/al-qaeda", headers=FORWARDED)
    assert f"{DIRECT}page/taliban" in hrefs(response)
    assert "haven.example.org" not in response.get_data(as_text=True)


# -- the Host header: only the hosts the server is for (issue 14, finding 13) ------------------------------------

@pytest.mark.parametrize("path", ["/id/al-qaeda", "/page/al-qaeda", "/dataset", "/"])
def test_a_foreign_host_is_refused_not_linked_to(exposed, path):
    """Links and 303 targets name the request's host and are cached for an hour: a client choosing the Host
    header would choose where a shared cache sends everyone else."""
    response = exposed.get(path, headers={"Host": "evil.example", "Accept": "text/html"})
    assert response.status_code == 400 and "evil.example" in response.get_data(as_text=True)
    assert "Location" not in response.headers and "public" not in response.headers.get("Cache-Control", "")


def test_a_forwarded_host_outside_the_allowed_ones_is_refused(behind_proxy):
    """nginx forwards whatever Host its client sent (server_name _): the list applies after the proxy too."""
    response = behind_proxy.get("/id/al-qaeda", headers={"X-Forwarded-Host": "evil.example", "Accept": "text/html"})
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost:8080", "localhost"])
def test_loopback_names_work_by_default(exposed, host):
    """`make serve`: the browser may say 127.0.0.1 or localhost, and the links follow it."""
    response = exposed.get("/id/al-qaeda", headers={"Host": host, "Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"] == f"http://{host}/page/al-qaeda"


@pytest.mark.parametrize("host, allowed, expected", [
    ("127.0.0.1", "", ["127.0.0.1", "localhost"]),
    ("10.0.0.11", "", ["127.0.0.1", "localhost", "10.0.0.11"]),
    ("0.0.0.0", "", ["127.0.0.1", "localhost"]),
    ("10.0.0.11", "haven.example.org, .mirror.example", ["haven.example.org", ".mirror.example"]),
])
def test_trusted_hosts(host, allowed, expected):
    assert Settings(host=host, allowed_hosts=allowed).trusted_hosts == expected


def test_a_subdomain_entry_admits_its_subdomains(build):
    client = client_for(build, allowed_hosts=".example.org")
    assert client.get("/id/al-qaeda", headers={"Host": "haven.example.org"}).status_code == 303
    assert client.get("/id/al-qaeda", headers={"Host": "example.org.evil"}).status_code == 400


def test_serve_passes_allowed_hosts_on(build, fake_serve, monkeypatch):
    monkeypatch.delenv("HAVEN_ALLOWED_HOSTS", raising=False)
    result = CliRunner().invoke(main, ["serve", "--build-dir", str(build), "--allowed-hosts", "haven.example.org"])
    assert result.exit_code == 0 and [s.trusted_hosts for s in fake_serve] == [["haven.example.org"]]


def test_negative_hops_are_refused(build):
    with pytest.raises(ValueError, match="proxy_hops"):
        create_app(settings_for(build).with_overrides(proxy_hops=-1))


# -- haven serve --proxy-hops --------------------------------------------------------------------------------

def test_serve_passes_proxy_hops_on(build, fake_serve, monkeypatch):
    monkeypatch.delenv("HAVEN_PROXY_HOPS", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "--build-dir", str(build), "--proxy-hops", "1"]).exit_code == 0
    assert runner.invoke(main, ["serve", "--build-dir", str(build)]).exit_code == 0
    assert [settings.proxy_hops for settings in fake_serve] == [1, 0]


def test_serve_refuses_negative_proxy_hops(build, fake_serve):
    result = CliRunner().invoke(main, ["serve", "--build-dir", str(build), "--proxy-hops", "-1"])
    assert result.exit_code == 2 and fake_serve == []


# -- nginx in front, as scripts/replicas.sh runs it -----------------------------------------------------------

def _get(url: str, path: str, headers: dict) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.live
def test_nginx_forwards_the_client_url_and_replicas_believe_only_it(replicas):
    """Through nginx a client's own X-Forwarded-* are replaced by nginx's (scheme and host:port it was reached
    at); the replicas, started with --proxy-hops 1, build their links from those."""
    nginx = replicas.nginx_url
    through = _get(nginx, "/id/al-qaeda", {**FORWARDED, "Accept": "text/html"})
    assert through.status == 303 and through.headers["Location"] == nginx + "page/al-qaeda"
    link = _get(nginx, "/data/al-qaeda.ttl", FORWARDED).headers["Link"]
    assert f"<{nginx}page/al-qaeda>" in link and "haven.example.org" not in link
    # the replica itself does trust one hop: that is what makes the headers nginx sets take effect
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost:8443", "Accept": "text/html"}
    replica = _get(replicas.replica_urls[0], "/id/al-qaeda", forwarded)
    assert replica.headers["Location"] == "https://localhost:8443/page/al-qaeda"
    # but only for a host it serves: replicas.sh starts them for loopback names alone
    assert _get(replicas.replica_urls[0], "/id/al-qaeda", {**FORWARDED, "Accept": "text/html"}).status == 400


@pytest.mark.live
def test_the_real_server_refuses_a_foreign_host(live_server):
    """The issue's reproduction: `Host: evil.example` gave `Location: http://evil.example/…` for an hour."""
    response = _get(live_server.url, "/id/al-qaeda", {"Host": "evil.example", "Accept": "text/html"})
    assert response.status == 400 and response.headers["Location"] is None


@pytest.mark.live
def test_a_server_trusting_no_proxy_ignores_spoofed_headers(live_server):
    """The production entry point (waitress) with the default proxy_hops: a client cannot pick the links."""
    response = _get(live_server.url, "/id/al-qaeda", {**FORWARDED, "Accept": "text/html"})
    assert response.status == 303 and response.headers["Location"] == live_server.url + "page/al-qaeda"
