"""`/network`: the dataset's allegiance and sanctuary network, a picture with its plain table beside it.

`?kind=SanctuaryProvision&kind=…` draws other statement classes instead (their local names, as the legend and
the entity pages' JSON name them); an unknown one is a 400 that lists the known ones.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from haven.formats import HTML
from haven.iris import NETWORK_PATH, route
from haven.web.caching import document_response
from haven.web.current import current_store, release_modified, url_map
from haven.web.entities.page import vocabulary
from haven.web.errors import plain
from haven.web.pictures.data import NETWORK_KINDS, dataset_network, in_legend_order, statement_kinds
from haven.web.release_cache import cached_body, cached_gzipped

bp = Blueprint("pictures", __name__)


@bp.route(route(NETWORK_PATH), methods=["GET", "HEAD"])
def network():
    store, urls, kinds = current_store(), url_map(), statement_kinds()
    asked = tuple(sorted(set(request.args.getlist("kind")))) or NETWORK_KINDS
    known = sorted({k.id for k in kinds.by_class.values()})
    unknown = [k for k in asked if k not in known]
    if unknown and asked != NETWORK_KINDS:
        return plain(400, f"Unknown kind: {', '.join(unknown)}. Known kinds (statement classes): {', '.join(known)}")
    key = ("network", asked, urls.host_root)

    def render():
        picture = dataset_network(store, urls, vocabulary(), kinds, asked)
        names = {k["id"]: k["label"] for k in picture["kinds"]}
        nodes = {n["id"]: n for n in picture["nodes"]}
        # every statement class of the served ontology, families together, each a link to its own network
        choices = in_legend_order(kinds.by_class.values())
        return render_template("network.html", picture=picture, kind_names=names, nodes=nodes, choices=choices,
                               default=asked == NETWORK_KINDS)

    return document_response(lambda: cached_body(key, render), HTML.media_type, release_id=store.release_id,
                             modified=release_modified(), varies_by_query=True,
                             build_gzipped=lambda: cached_gzipped(key, render))
