"""The accessibility statement (tillgänglighetsredogörelse) at ``/-/kb/tillganglighet``, in
Swedish and English: how the service complies with the law on accessibility to digital
public services (WCAG 2.1 AA through EN 301 549), the gaps we know of, how to report a
problem, and the supervisory authority (DIGG).

The contact comes from kb.toml::

    [accessibility]
    contact = "Klimatenheten, Malmö stad"   # who answers, as a reader should see it
    email = "klimat@example.se"             # optional: shown as a mail link
    reviewed = "2026-11-29"                 # optional: when the statement was last reviewed

Without ``contact`` the page says to ask whoever runs the service in one's organisation.
"""

from __future__ import annotations

import datetime as dt

from datasette_plugins.state import get_state
from datasette_plugins.web import STATEMENT_PATH, html_page, no_kb, page_context, request_language
from kb.core.config import KBConfig

DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"  # DIGG's form to report a shortcoming
GAPS = ("statement_gap_sql", "statement_gap_pictures", "statement_gap_language", "statement_gap_downloads",
        "statement_gap_content")


def statement_settings(config: KBConfig) -> dict:
    """``[accessibility]`` of kb.toml: contact, email and the review date (or None each)."""
    section = config.raw.get("accessibility")
    section = section if isinstance(section, dict) else {}

    def value(key: str) -> str | None:
        text = " ".join(str(section.get(key) or "").split())
        return text or None

    reviewed = section.get("reviewed")
    if isinstance(reviewed, dt.date):
        reviewed = reviewed.isoformat()
    return {"contact": value("contact"), "email": value("email"),
            "reviewed": str(reviewed) if reviewed else None}


async def statement_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    context = {
        **page_context(datasette, state, lang),
        **statement_settings(state.config),
        "gaps": GAPS,
        "digg_url": DIGG_REPORT_URL,
    }
    return await html_page(datasette, request, "kb_statement.html", context)


ROUTES = [(r"^" + STATEMENT_PATH + r"$", statement_page)]
