"""The areas' colours as a stylesheet, ``/-/kb/areas.css``: one rule per area (``.kb-area-<slug>``:
its colour and the text colour that reads on it, from :mod:`kb.core.palette`), on every page,
so a badge, a chart and a map show an area in the same colour. Served as a file because the
pages' Content-Security-Policy allows no inline styles."""

from __future__ import annotations

import hashlib

from datasette.utils.asgi import Response

from datasette_plugins.state import get_state
from datasette_plugins.web import SECURITY_HEADERS, no_kb
from kb.core.palette import area_css

CSS_PATH = "/-/kb/areas.css"


def stylesheet(config) -> str:
    return area_css(config.area_colours())


def stylesheet_url(datasette, config) -> str:
    """The stylesheet's URL with a hash of its content, so a changed colour is fetched anew."""
    version = hashlib.sha256(stylesheet(config).encode()).hexdigest()[:10]
    return datasette.urls.path(CSS_PATH) + "?v=" + version


async def areas_css(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    return Response(stylesheet(state.config), content_type="text/css; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"})


ROUTES = [(r"^/-/kb/areas\.css$", areas_css)]
