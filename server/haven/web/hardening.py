"""What keeps a Haven page from running a stranger's script: response headers and JSON inside HTML.

Pages show text and IRIs from the data and, on the query page, from the URL; a link or a string that
escapes its context would run in Haven's origin. Three layers, each enough on its own for what it covers:
only http(s) IRIs become links (`haven.iris.UrlMap.served`, and query.js), JSON embedded in a page cannot
end its element (`json_for_script`), and the Content-Security-Policy lets a browser run only Haven's own
script files, so neither an inline script nor a ``javascript:`` link runs even if one got through.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re

from flask import Response
from markupsafe import Markup

#: Haven's pages: their own scripts, styles and images, fetches only to this origin (the query page's
#: POST to /sparql), forms only to it, never framed. No inline script and no javascript: URL can run.
_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}

HEADERS = {
    # a text/plain error or a Turtle document is never sniffed into HTML or script
    "X-Content-Type-Options": "nosniff",
    # frame-ancestors says it for browsers that read CSP; this for those that do not
    "X-Frame-Options": "DENY",
    # the query page's URL carries the query: other sites get no Referer from Haven's links
    "Referrer-Policy": "same-origin",
}


def content_security_policy(inline_styles: tuple[str, ...] = (), framable: bool = False) -> str:
    """The policy, allowing in addition the `<style>` elements whose exact texts are given (by hash);
    `framable`: any site may show the page in a frame (the reconciliation preview, which OpenRefine frames)."""
    policy = dict(_POLICY)
    if framable:
        policy["frame-ancestors"] = "*"
    if inline_styles:
        policy["style-src"] += "".join(f" '{_hash(text)}'" for text in inline_styles)
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def inline_styles(html: str) -> tuple[str, ...]:
    """The texts of a generated page's `<style>` elements (pyLODE inlines its CSS), to allow by hash."""
    return tuple(_STYLE_ELEMENT.findall(html))


def add_security_headers(response: Response) -> Response:
    """Every answer gets them (an error page or a document opened in a browser is a page too); a view that
    needs a wider policy sets its own Content-Security-Policy first."""
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    framable = "frame-ancestors *" in response.headers["Content-Security-Policy"]
    for name, value in HEADERS.items():
        if not (framable and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    return response


#: characters that could end or reinterpret a <script> element's text in any HTML parser state (`</script`,
#: `<!--` which makes a later `</script>` part of a comment, `]]>`, `&` in foreign content), and the line
#: separators that end a JavaScript string; inside a JSON string each may be written as a \u escape
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_for_script(json_text: str) -> str:
    """JSON text that is safe as the content of a `<script type="application/…json">` element and parses
    to the same value. In JSON those characters can only occur inside strings, where the escape means the
    same character."""
    return json_text.translate(_JSON_IN_HTML)


def script_json(value) -> Markup:
    """Jinja filter: `value` as JSON for a `<script type="application/json">` element, already inert
    (json_for_script), so the template needs no `| safe`."""
    return Markup(json_for_script(json.dumps(value, ensure_ascii=False)))
