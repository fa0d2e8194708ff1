"""The SPARQL 1.1 Protocol endpoint, ``/sparql`` (query operation only: the service is read-only).

Request forms (Protocol §2.1): GET ``?query=``; POST ``application/x-www-form-urlencoded`` with ``query=``;
POST ``application/sparql-query`` with the query as the UTF-8 body. Any other POST body type is 415, other
methods 405. ``default-graph-uri`` / ``named-graph-uri`` (repeatable, in the URL or the form) replace the
query's FROM / FROM NAMED; graphs the store does not hold are empty, never fetched. Without a query the
endpoint describes itself (Service Description, or the HTML query page for browsers).

Status codes: 400 malformed request or query (with the parser's message), a dataset parameter that is no
absolute IRI, or a query nested deeper than `safety.MAX_NESTING`; 403 update or SERVICE (refused by policy,
before evaluation), 406 no acceptable format, 413 query too large, 415 wrong body type or charset,
429 when the client already has its share of queries running or waiting, 503 past the time limit or when no
query slot came free within the queue's wait (both with Retry-After; see `admission`).
"""
from __future__ import annotations

from urllib.parse import urlencode
import time

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.datastructures import MultiDict

from haven.formats import FORM, GRAPH_FORMATS, HTML, RESULT_FORMATS, SPARQL_QUERY, SPARQL_UPDATE
from haven.iris import QUERY_PAGE_PATH, SPARQL_PATH, route
from haven.web import negotiation
from haven.web.sparql import page, safety, service_description
from haven.web.current import current_store, settings, url_map
from haven.web.dataset.catalogue import competency_questions, example_queries
from haven.web.errors import busy, plain, store_failure, too_many
from haven.web.sparql.admission import Admission, ClientOverLimit, QueueTimeout
from haven.web.hardening import content_security_policy
from haven.web.metrics import count_query_client_error, timed_query
from haven.store.base import QueryRefused, QuerySyntaxError, QueryTooComplex, SerializedResult, StoreError

bp = Blueprint("sparql", __name__)

DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
CAPPED_HEADER = "Haven-Result-Capped"
#: the longest query link the page makes: nginx's default buffer for a request line is 8 KiB
MAX_LINK_LENGTH = 8000

#: Service Description formats, then HTML for people; Turtle first so that */* gets Turtle
DESCRIPTION_OFFERS = GRAPH_FORMATS + (HTML,)


class ProtocolError(Exception):
    def __init__(self, response: Response):
        super().__init__(response.get_data(as_text=True))
        self.response = response


ADMISSION_KEY = "haven.admission"


def query_admission(app) -> Admission:
    """The app's query slots and their queue (Settings.max_concurrent_queries, query_queue_timeout,
    max_client_queries); `stats()` is what a metrics endpoint reads."""
    return app.extensions[ADMISSION_KEY]


def new_admission(settings) -> Admission:
    return Admission(settings.max_concurrent_queries, max_wait=settings.query_queue_timeout,
                     client_limit=settings.max_client_queries)


@bp.route(route(SPARQL_PATH), methods=["GET", "POST"])
def endpoint() -> Response:
    try:
        params, direct_query = _read_request()
        queries = params.getlist("query") + ([direct_query] if direct_query is not None else [])
        if any(name in params for name in UPDATE_PARAMS):
            return plain(403, safety.UPDATE_MESSAGE)
        if len(queries) > 1:
            return plain(400, "Exactly one query is allowed per request (the 'query' parameter was repeated).")
        if not queries:
            return _service_description_response()
        return _answer(queries[0], params)
    except ProtocolError as error:
        return error.response


def _read_request() -> tuple[MultiDict, str | None]:
    """Protocol parameters (URL and form merged) and the body of a direct POST, or a ProtocolError."""
    settings = current_app.config["HAVEN_SETTINGS"]
    if request.method in {"GET", "HEAD"}:
        if request.content_length:
            raise ProtocolError(plain(400, "A GET request to the SPARQL endpoint must not have a body."))
        return MultiDict(request.args), None
    mimetype = request.mimetype
    if mimetype == FORM.media_type:
        params = MultiDict(request.args)
        for key, values in request.form.lists():
            params.setlist(key, params.getlist(key) + values)
        return params, None
    if mimetype == SPARQL_UPDATE.media_type:
        raise ProtocolError(plain(403, safety.UPDATE_MESSAGE))
    if mimetype == SPARQL_QUERY.media_type:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in {"utf-8", "utf8"}:
            raise ProtocolError(plain(415, "A application/sparql-query body must be UTF-8 (SPARQL 1.1 Protocol §2.1.3)."))
        raw = request.get_data(cache=False)
        if len(raw) > settings.max_query_bytes:
            raise ProtocolError(_too_large(settings))
        try:
            return MultiDict(request.args), raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(plain(400, "The query body is not valid UTF-8.")) from None
    sent = mimetype or "no Content-Type"
    raise ProtocolError(plain(
        415,
        f"Unsupported request body ({sent}). Send the query as {SPARQL_QUERY.media_type}, as {FORM.media_type} "
        "with a 'query' field, or with GET ?query=.",
    ))


def _answer(query: str, params: MultiDict) -> Response:
    settings = current_app.config["HAVEN_SETTINGS"]
    try:
        info = admit(query)
        dataset = requested_dataset(params)
        offers, other_form = ((GRAPH_FORMATS, RESULT_FORMATS) if info.form in {"CONSTRUCT", "DESCRIBE"}
                              else (RESULT_FORMATS, GRAPH_FORMATS))
        accept = request.headers.get("Accept")
        chosen = negotiation.choose(accept, negotiation.format_values(params), offers)
        if chosen is None and negotiation.negotiate(accept, other_form) is not None:
            # an Accept header for the other query forms (rdflib's SPARQLStore sends one header, e.g. SPARQL JSON
            # results, whatever the query): the form's default answer, as Fuseki gives it, not a refusal
            chosen = offers[0]
        if chosen is None:
            return plain(406, "None of the requested formats can be produced. " + negotiation.offers_message(offers))
        result, _ = run_client_query(query, info, chosen.media_type, dataset, request.base_url)
    except ProtocolError as error:
        return error.response
    response = Response(result.body, status=200, content_type=result.media_type)
    if result.capped:
        response.headers[CAPPED_HEADER] = f"true; limit={settings.result_limit}"
    response.headers.update(result.extra_headers)
    return response


def admit(query: str) -> safety.QueryInfo:
    """The checks on client text before anything evaluates it (size, then `safety.inspect`), or a
    ProtocolError with the answer."""
    settings = current_app.config["HAVEN_SETTINGS"]
    if len(query.encode("utf-8")) > settings.max_query_bytes:
        raise ProtocolError(_too_large(settings))
    try:
        return safety.inspect(query)
    except QueryRefused as refusal:
        raise ProtocolError(plain(403, str(refusal))) from None
    except QueryTooComplex as limit:
        raise ProtocolError(plain(400, str(limit))) from None


def requested_dataset(params: MultiDict) -> dict[str, list[str]]:
    """The protocol's dataset parameters, each value checked to be an absolute IRI."""
    dataset = {name: params.getlist(name) for name in DATASET_PARAMS}
    for name, iris in dataset.items():
        for iri in iris:
            problem = _not_an_iri(iri)
            if problem:
                raise ProtocolError(plain(400, f"The {name} parameter must be an absolute IRI ({problem}): {iri[:200]}"))
    return dataset


def run_client_query(query: str, info: safety.QueryInfo, media_type: str, dataset: dict[str, list[str]],
                     endpoint: str) -> tuple[SerializedResult, float]:
    """An admitted client query through the store, under the endpoint's limits (a query slot, the time
    limit, the result and answer-size caps): the answer and the seconds it took, or a ProtocolError with
    the answer `/sparql` gives (400 with the parser's message, 503 past a limit). `endpoint` is the
    `/sparql` URL: relative IRIs resolve against it, and a capped answer links to its description."""
    settings = current_app.config["HAVEN_SETTINGS"]
    admission = query_admission(current_app)
    # the client as the proxy-header settings define it: ProxyFix has put X-Forwarded-For's trusted value here
    client = request.remote_addr or "unknown"
    try:
        admission.acquire(client)
    except ClientOverLimit:
        raise ProtocolError(too_many(settings.max_client_queries)) from None
    except QueueTimeout:
        raise ProtocolError(busy()) from None
    started = time.perf_counter()
    try:
        store = current_store()
        with timed_query():
            result = store.execute(
                query,
                media_type,
                default_graph_uris=dataset["default-graph-uri"] or None,
                named_graph_uris=dataset["named-graph-uri"] or None,
                timeout=settings.query_timeout,
                result_limit=settings.result_limit,
                base_iri=endpoint,
                cap_link=str(service_description.result_limit_iri(endpoint)),
                max_bytes=settings.max_answer_bytes,
                scanned=info.scanned,
            )
    except QuerySyntaxError as error:
        raise ProtocolError(plain(400, f"The query is not valid SPARQL 1.1:\n{error}")) from None
    except QueryTooComplex as limit:
        raise ProtocolError(plain(400, str(limit))) from None
    except StoreError as error:
        raise ProtocolError(store_failure(error)) from None
    finally:
        admission.release(client)
    return result, time.perf_counter() - started


def _not_an_iri(text: str) -> str | None:
    """Why `text` is no absolute IRI (the store's own IRI rules), or None when it is one."""
    try:
        ox.NamedNode(text)
    except ValueError as error:
        return str(error)
    return None


def _too_large(settings) -> Response:
    return plain(413, f"The query is larger than the {settings.max_query_bytes} bytes this endpoint accepts.")


def _service_description_response() -> Response:
    chosen = negotiation.choose(request.headers.get("Accept"), negotiation.format_values(request.args),
                                DESCRIPTION_OFFERS)
    if chosen is None:
        return plain(406, "None of the requested formats can be produced. " + negotiation.offers_message(DESCRIPTION_OFFERS))
    if chosen is HTML:
        return render_query_page()
    settings = current_app.config["HAVEN_SETTINGS"]
    graph = service_description.build(
        current_store(),
        request.base_url,
        result_limit=settings.result_limit,
        query_timeout=settings.query_timeout,
    )
    body = graph.serialize(format=chosen.rdflib, encoding="utf-8")
    return Response(body, status=200, content_type=chosen.content_type)


def url_for_query(query: str) -> str:
    """A link that runs `query` in one click: the query page, prefilled, which runs it on load."""
    return f"{request.url_root}{QUERY_PAGE_PATH}?{urlencode({'query': query})}"


@bp.route(route(QUERY_PAGE_PATH), methods=["GET", "HEAD", "POST"])
def query_page():
    """The query page. With a query (`?query=` from a link, or the page's form POSTed: a long query fits
    no URL) the server runs it as `/sparql` would and renders the answer into the page, so the page works
    without JavaScript; with JavaScript, YASGUI takes over the form (static/query.js). POST is this page's
    form, never the SPARQL protocol: that stays at /sparql."""
    params = MultiDict(request.args)
    if request.method == "POST":
        for key, values in request.form.lists():
            params.setlist(key, params.getlist(key) + values)
    query = params.get("query")
    if query is None or not query.strip():
        return render_query_page()
    if request.method == "POST" and set(params) == {"query"} and len(url_for_query(query)) <= MAX_LINK_LENGTH:
        # a query that fits a link is sent on to it (POST, then GET): the address bar then holds a URL that
        # runs it again, to reload, bookmark or share; a longer one is answered here
        return redirect(url_for_query(query), 303)
    endpoint = request.url_root + SPARQL_PATH
    try:
        info = admit(query)
        result, seconds = run_client_query(query, info, page.media_type_for(info.form),
                                           requested_dataset(params), endpoint)
    except ProtocolError as error:
        failure = error.response
        response = render_query_page(query, failure=failure.get_data(as_text=True).strip())
        response.status_code = failure.status_code
        if "Retry-After" in failure.headers:
            response.headers["Retry-After"] = failure.headers["Retry-After"]
        return response
    view = page.answer_view(result, seconds, settings().result_limit, url_map())
    view.downloads = _downloads(query, GRAPH_FORMATS if page.is_graph_form(info.form) else RESULT_FORMATS)
    return render_query_page(query, answer=view)


def _downloads(query: str, formats) -> list[tuple[str, str]]:
    """The query at /sparql in each of `formats`, as links (none when the URLs would be too long)."""
    links = [(fmt.label, f"{request.url_root}{SPARQL_PATH}?{urlencode({'query': query, 'format': fmt.name})}")
             for fmt in formats]
    return links if all(len(url) <= MAX_LINK_LENGTH for _, url in links) else []


def render_query_page(query: str = "", *, answer: page.AnswerView | None = None,
                      failure: str | None = None) -> Response:
    """The query page (also what `GET /sparql` answers to a browser), with an answer or a failure message
    when a query was run. The competency questions are its examples, each a link that runs it."""
    questions = [dict(q, href=url_for_query(q["query"])) for q in competency_questions(settings())]
    # what static/query.js needs: the example texts, the prefixes YASGUI compacts IRIs with
    config = {"examples": [q["query"] for q in questions], "prefixes": url_map().prefixes()}
    body = render_template("query.html", query=query or example_queries(settings().base)[0]["query"],
                           answer=answer, failure=failure, examples=questions, config=config,
                           endpoint=request.url_root + SPARQL_PATH, base=settings().base, root=request.url_root,
                           limit=settings().result_limit)
    response = current_app.make_response(body)
    response.headers["Content-Security-Policy"] = content_security_policy(page.YASGUI_INLINE_STYLES)
    return response


@bp.after_request
def _count_refusal(response: Response) -> Response:
    # the endpoint's own 400/403/413; its 503s and 429s are counted where they are decided (store failures,
    # the admission queue)
    count_query_client_error(response.status_code)
    return response


@bp.after_request
def _vary(response: Response) -> Response:
    # the same URL answers in several formats depending on Accept; caches must key on it
    response.vary.add("Accept")
    response.headers.setdefault("Access-Control-Expose-Headers", CAPPED_HEADER)
    return response
