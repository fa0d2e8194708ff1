"""The Flask application factory.

`create_app` builds the store once per process (loading a release is the expensive part) and shares it
through ``app.extensions["haven"]`` (a `haven.store.base.Store`, whose `release_dir` is the release folder it
pinned at start-up); the settings are ``app.config["HAVEN_SETTINGS"]``. Blueprints read both through
`haven.web.current` and never open stores themselves.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from haven.config import Settings, normalise_base
from haven.web.current import STORE_KEY
from haven.web.errors import register_error_handlers
from haven.web.caching import cache_see_other
from haven.web.hardening import add_security_headers, script_json
from haven.web import metrics
from haven.store import open_store
from haven.store.base import Store, WrongRelease
from haven.web.dataset import routes as dataset_routes
from haven.web.entities import routes as entity_routes
from haven.web.search import reconcile as reconcile_routes, routes as search_routes
from haven.web.fragments import routes as fragment_routes
from haven.web.releases import routes as release_routes
from haven.web.pictures import routes as picture_routes
from haven.web.openapi import routes as openapi_routes
from haven.web.sparql import routes as sparql_routes

CORS_ALLOW_METHODS = "GET, POST, OPTIONS"
CORS_ALLOW_HEADERS = "Content-Type, Accept"


def create_app(config: Settings | dict | None = None, *, store: Store | None = None) -> Flask:
    """Build the app. `config` is a Settings, or a dict of Settings fields (lowercase) and Flask config keys
    (uppercase, e.g. TESTING) applied over the HAVEN_* environment. `store` lets tests share one loaded store
    between apps; otherwise the store is opened from the settings."""
    settings, flask_config = _settings_from(config)
    if settings.proxy_hops < 0:
        raise ValueError(f"proxy_hops must be 0 or more, not {settings.proxy_hops}")
    metrics_from = settings.metrics_networks  # a bad value stops start-up here, before a store is opened
    # no Flask-level /static route: it would shadow the dataset blueprint's static_file, which sends a lifetime (max_age)
    app = Flask(__name__, static_folder=None)
    # Links, Link headers and 303 targets name the host the request arrived at (or, with proxy_hops, the one
    # nginx forwards), so the Host header is client input that ends up in cached answers: Flask refuses (400)
    # any request whose host is not one of these, before it reaches a view
    app.config["TRUSTED_HOSTS"] = settings.trusted_hosts
    app.config.update(flask_config)
    app.config["HAVEN_SETTINGS"] = settings
    # Werkzeug enforces it while reading a body: larger requests are answered 413 before any parsing
    app.config["MAX_CONTENT_LENGTH"] = settings.max_query_bytes
    opened = store is None
    store = open_store(settings) if opened else store
    try:
        _check_release_base(store, settings)
    except WrongRelease:
        if opened:
            store.close()
        raise
    app.extensions[STORE_KEY] = store
    admission = app.extensions[sparql_routes.ADMISSION_KEY] = sparql_routes.new_admission(settings)
    metrics.install(app, metrics.Sources(store=store, admission_stats=admission.stats), metrics_from)

    for blueprint in (sparql_routes.bp, entity_routes.bp, dataset_routes.bp, search_routes.bp, reconcile_routes.bp,
                      fragment_routes.bp, release_routes.bp, picture_routes.bp,
                      openapi_routes.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.after_request(cache_see_other)
    app.after_request(add_security_headers)
    app.add_template_filter(script_json)
    if settings.cors:
        app.after_request(_cors)
    if settings.proxy_hops:
        _trust_proxies(app, settings.proxy_hops)
    return app


def _check_release_base(store: Store, settings: Settings) -> None:
    """Refuse to serve a release built for another base, whatever the entry point (`haven serve`,
    ``python -m haven.web.serve``, a WSGI server calling create_app): every entity IRI is built from the
    configured base, so each would answer 404 without a word."""
    built_for = store.manifest.get("base")
    if built_for and normalise_base(str(built_for)) != settings.base:
        raise WrongRelease(
            f"the release {store.release_id} was built for the base {built_for}, but this server is configured "
            f"for {settings.base}: build it for this base (`haven build --base {settings.base}`), or serve it "
            f"with HAVEN_BASE={built_for}")


def _trust_proxies(app: Flask, hops: int) -> None:
    """Take scheme, host and client address from the last `hops` proxies' X-Forwarded-* headers, so that the
    303 targets, Link headers and HTML links built from ``request.url_root`` name the URL the client used
    (``https://haven.example.org/``), not nginx's plain-HTTP hop. Canonical IRIs come from Settings.base and
    do not move.

    Here rather than waitress's ``trusted_proxy`` options, and never both (the headers would be applied
    twice): the app then behaves the same under any WSGI server and in the Flask test client, and is tested
    there. waitress would also check the peer address, but a replica is bound to an interface only nginx
    reaches (docs/deployment.md); what guards against spoofing is that `hops` defaults to 0.
    X-Forwarded-Port and -Prefix stay ignored: nginx neither sends nor overwrites them (the forwarded host
    keeps the port), so trusting them would believe whatever the client put there.
    """
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=0, x_prefix=0)


def _settings_from(config: Settings | dict | None) -> tuple[Settings, dict]:
    if isinstance(config, Settings):
        return config, {}
    config = dict(config or {})
    defaults = {f.name: f.default for f in fields(Settings)}
    # a dict may carry strings (paths from a CLI or a test); give them the field's type
    overrides = {
        k: Path(v) if isinstance(defaults[k], Path) and v is not None else v
        for k, v in config.items()
        if k in defaults
    }
    names = set(defaults)
    unknown = [k for k in config if k not in names and not k.isupper()]
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    flask_config = {k: v for k, v in config.items() if k.isupper()}
    return Settings.from_env(**overrides), flask_config


def _healthz() -> Response:
    store = current_app.extensions[STORE_KEY]
    return jsonify(status="ok", release=store.release_id)


def _cors(response: Response) -> Response:
    """Every answer is public, read-only data: any origin may read it (YASGUI, browser apps)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and response.status_code == 200 and request.url_rule is not None:
        # Flask's automatic OPTIONS answer, turned into a CORS preflight answer
        response.status_code = 204
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
        response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
