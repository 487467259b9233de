"""What every page shows around its content, ours and Datasette's own alike: the navigation,
the footer's links, and the words Datasette's table, row and database pages use for our
tables, columns, values and filters (templates/base.html and the templates that replace
Datasette's). All of it in the reader's language, from the text catalogue."""

from __future__ import annotations

from urllib.parse import quote

from datasette.filters import Filters as DatasetteFilters

from datasette_plugins import roles
from datasette_plugins.metadata import COLUMN_KEYS, FACET_TYPE_KEYS, LOOKUP_KEYS, TABLE_KEYS
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import STATEMENT_PATH, lang_suffix, request_language, static_url
from kb.core.config import ENTRY_TYPES, POLICY_LEVELS
from kb.core.texts import texts
from kb.core.visibility import VISIBILITIES

# the navigation of every page after "Start": (path, text key); then "Logga en reflektion" for
# writers, or "Logga in" (back to the page) for visitors not signed in
NAV = (
    ("/-/kb/search", "nav_search"),
    ("/-/kb/synergies", "nav_synergies"),
    ("/-/kb/obstacles", "nav_obstacles"),
    ("/-/kb/conflicts", "nav_conflicts"),
    ("/-/kb/cities", "nav_cities"),
    ("/-/kb/roadmaps", "nav_roadmaps"),
    ("/-/kb/policy", "nav_policy"),
    ("/-/kb/actions", "nav_actions"),
    ("/-/kb/agenda", "nav_agenda"),
    ("/-/kb/brief", "nav_brief"),
)
LOOKUP_SIGNS = {key: display for key, display, _ in DatasetteFilters([]).lookups()}


def reader_language(request, state: KBState) -> str:
    # request is None when Datasette renders a page outside a request: the KB's language
    return request_language(request, state) if request is not None else state.config.language


def nav_links(datasette, actor, request) -> list[dict]:
    """The navigation (Datasette's ``menu_links``) in the reader's language; base.html shows
    it on every page, after a link to the front page."""
    state = get_state(datasette)
    if state is None:
        return []
    lang = reader_language(request, state)
    t, suffix, path = texts(lang), lang_suffix(lang, state), datasette.urls.path
    links = [{"href": path(p) + suffix, "label": t[key]} for p, key in NAV]
    who = roles.viewer(datasette, request, lang)
    if who.may("writer"):
        links.append({"href": path("/-/kb/new") + suffix, "label": t["nav_new"]})
    elif not who.signed_in:  # back to this page once signed in
        links.append({"href": who.login_url, "label": t["nav_sign_in"]})
    return links


def number(value, lang: str) -> str:
    """A count as the language writes it: 1 234 (a no-break space) or 1,234."""
    text = f"{int(value):,}"
    return text.replace(",", "\u00a0") if lang == "sv" else text


def chrome_defaults(datasette) -> dict:
    """Jinja globals for the pages rendered without ``chrome_vars`` (Datasette's error pages)."""
    state = get_state(datasette)
    lang = "en" if state is None else state.config.language
    out = {"kbt": texts(lang), "kb_lang": lang}
    if state is not None:
        out["kb_fallback_css"] = static_url(datasette, "kb.css")
    return out


def value_words(lang: str, state: KBState | None) -> dict[str, dict[str, str]]:
    """Column -> stored value -> the word a reader sees (an area's name, a type's label)."""
    t = texts(lang)
    return {
        "area": {} if state is None else {slug: a.name for slug, a in state.config.areas.items()},
        "type": {ty: t[f"entry_type_{ty}"] for ty in ENTRY_TYPES},
        "policy": {level: t[f"policy_level_{level}"] for level in POLICY_LEVELS},
        "lang": {"sv": t["language_sv"], "en": t["language_en"]},
        "visibility": {v: t[f"visibility_{v}"] for v in VISIBILITIES},
    }


def value_label(column: str, value, lang: str, state: KBState | None):
    """The word for one stored value (the value itself when there is none)."""
    return value_words(lang, state).get(column, {}).get(value, value)


def chrome_vars(datasette, request) -> dict:
    """What base.html and the templates that replace Datasette's need: the chrome's texts
    (``kbt``) and language (``kb_lang``), the footer's and sign-out's URLs, and the words
    for tables, columns, values and filters (``kb_*_label``, ``kb_rows``, ``kb_number``)."""
    state = get_state(datasette)
    lang = "en" if state is None else reader_language(request, state)  # no KB: Datasette's English
    t = texts(lang)
    values = value_words(lang, state)

    def rows(count) -> str:
        return (t["table_row"] if count == 1 else t["table_rows"]).format(count=number(count, lang))

    out = {
        "kbt": t, "kb_lang": lang,
        "kb_table_label": lambda name: t[TABLE_KEYS[name]] if name in TABLE_KEYS else name,
        "kb_column_label": lambda name: t[COLUMN_KEYS[name]] if name in COLUMN_KEYS else name,
        "kb_lookup_label": lambda key: t[LOOKUP_KEYS[key]] if key in LOOKUP_KEYS else LOOKUP_SIGNS.get(key, key),
        "kb_facet_type": lambda kind: t[FACET_TYPE_KEYS[kind]] if kind in FACET_TYPE_KEYS else kind,
        "kb_value_label": lambda column, value: values.get(column, {}).get(value, value),
        "kb_rows": rows,
        "kb_number": lambda count: number(count, lang),
        "kb_db_label": lambda name: name,
        "kb_crumb_labels": {},
    }
    if state is None:
        return out
    suffix, path = lang_suffix(lang, state), datasette.urls.path
    out.update({
        "kb_db_label": lambda name: t["crumb_database"] if name == state.database else name,
        "kb_crumb_labels": {state.database: t["crumb_database"],
                            **{name: t[key] for name, key in TABLE_KEYS.items()}},
        "kb_statement_url": path(STATEMENT_PATH) + suffix,
        "kb_sql_url": datasette.urls.database(state.database),
        "kb_logout_url": path("/-/kb/logout"),
        "kb_entry_page": lambda entry_id: path("/-/kb/entry/" + quote(str(entry_id), safe="")) + suffix,
        **roles.template_vars(datasette, request, lang),
    })
    return out
