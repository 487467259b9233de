"""What Datasette shows about the KB: title, description, licence, facets, hidden tables,
and the canned queries. Built from kb.toml, so no metadata.json is needed.

``kb serve`` passes :func:`build_metadata` to ``Datasette(metadata=...)``; for a plain
``datasette <root>/.kb/kb.db`` the ``startup`` hook merges the same defaults under
whatever metadata the user gave (the user's values win). Metadata is one per instance,
so its texts are in the knowledge base's own language (kb.toml ``language``).
"""

from __future__ import annotations

import copy
import html
from urllib.parse import urlencode

from kb.core.config import KBConfig
from kb.core.texts import DEFAULT_LANGUAGE, texts

FACETS = [
    "area",
    "type",
    {"array": "tags"},
    "sprint",
    {"date": "date"},
    {"array": "roadmap"},
    {"array": "actors"},
    {"array": "policy"},
    "visibility",
]
HIDDEN_TABLES = ("meta", "_sqlite_migrations", "chunks_fts")
# the words for the columns of our tables on Datasette's pages (text catalogue keys)
COLUMN_KEYS = {
    "id": "column_id", "title": "capture_title", "area": "filter_area", "date": "field_date",
    "sprint": "field_sprint", "type": "filter_type", "tags": "field_tags", "actors": "field_actors",
    "roadmap": "field_roadmap", "policy": "field_policy", "related": "column_related", "extra": "column_extra",
    "path": "field_path", "body": "column_body", "content_hash": "column_content_hash",
    "embedding": "column_embedding", "lang": "column_lang", "author": "field_author",
    "entry_id": "column_entry_id", "seq": "column_seq", "kind": "column_kind", "heading": "column_heading",
    "text": "column_text", "line": "column_line", "tokens": "column_tokens",
    "visibility": "field_visibility", "source": "filter_source",
}
TABLE_KEYS = {"entries": "table_title_entries", "chunks": "table_title_chunks",
              "followed_entries": "table_title_followed_entries", "followed_sources": "table_title_followed_sources"}
# Datasette's filter operators that are words (the others are signs: =, !=, >, ...)
LOOKUP_KEYS = {
    "contains": "lookup_contains", "endswith": "lookup_endswith", "startswith": "lookup_startswith",
    "notlike": "lookup_notlike", "in": "lookup_in", "notin": "lookup_notin",
    "arraycontains": "lookup_arraycontains", "arraynotcontains": "lookup_arraynotcontains",
    "date": "lookup_date", "isnull": "lookup_isnull", "notnull": "lookup_notnull",
    "isblank": "lookup_isblank", "notblank": "lookup_notblank",
}
FACET_TYPE_KEYS = {"array": "facet_type_array", "date": "facet_type_date"}
HIDDEN_COLUMNS = ("embedding", "content_hash", "source")  # source: a followed lesson's city (empty for our own)


def entries_browse_query(publish_authors: bool = False) -> str:
    """Query string for the entries table: facets on, internal columns off (and the
    writers' user names, which read as empty unless kb.toml publishes them)."""
    params: list[tuple[str, str]] = [("_sort_desc", "date")]
    params += [("_nocol", c) for c in (*HIDDEN_COLUMNS, *(() if publish_authors else ("author",)))]
    return urlencode(params)


def build_metadata(config: KBConfig, database: str, search_path: str = "/-/kb/search",
                   plugin: dict | None = None) -> dict:
    t = texts(config.language)
    description = config.description or ""
    link = f'<a href="{html.escape(search_path)}">{html.escape(t["search_title"])} →</a>'
    metadata: dict = {
        "title": config.title,
        "description_html": (f"<p>{html.escape(description)}</p>" if description else "") + f"<p>{link}</p>",
        "databases": {
            database: {
                "title": config.title,
                "description": description,
                "tables": {
                    "entries": {
                        "title": t["metadata_entries_title"],
                        "description": t["metadata_entries_description"],
                        "facets": copy.deepcopy(FACETS),
                        "sort_desc": "date",
                        "label_column": "title",
                    },
                    **{name: {"hidden": True} for name in HIDDEN_TABLES},
                },
            }
        },
    }
    license_name = config.raw.get("license")
    if license_name:
        metadata["license"] = str(license_name)
        if config.raw.get("license_url"):
            metadata["license_url"] = str(config.raw["license_url"])
    if plugin:
        metadata["plugins"] = {"kb": plugin}
    return metadata


def merge_defaults(defaults: dict, given: dict) -> dict:
    """``defaults`` deep-merged under ``given``: keys the user set are kept as they are."""
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_defaults(out[key], value)
        else:
            out[key] = value
    return out


def apply_default_metadata(datasette, defaults: dict) -> bool:
    """Put ``defaults`` under the instance's metadata (Datasette 0.6x keeps it in
    ``_metadata_local``). Returns False where that is not possible (then the KB pages
    still work, only titles and table settings stay Datasette's defaults)."""
    current = getattr(datasette, "_metadata_local", None)
    if not isinstance(current, dict):
        return False
    datasette._metadata_local = merge_defaults(defaults, current)
    return True


def canned_queries(lang: str = DEFAULT_LANGUAGE) -> dict[str, dict]:
    t = texts(lang)
    return {
        "latest_obstacles_per_area": {
            "title": t["query_latest_obstacles_title"],
            "description": t["query_latest_obstacles_description"],
            "sql": (
                "select area, date, id, title, tags from (\n"
                "  select area, date, id, title, tags,\n"
                "    row_number() over (partition by area order by date desc, id) as rank\n"
                "  from entries where type = 'obstacle'\n"
                ") where rank <= 3\norder by area, date desc"
            ),
        },
        "entries_per_area_and_month": {
            "title": t["query_entries_per_month_title"],
            "description": t["query_entries_per_month_description"],
            "sql": (
                "select substr(date, 1, 7) as month, area, count(*) as entries,\n"
                "  sum(type = 'obstacle') as obstacles, sum(type = 'goal-conflict') as goal_conflicts\n"
                "from entries group by month, area order by month desc, area"
            ),
        },
        "most_linked_entries": {
            "title": t["query_most_linked_title"],
            "description": t["query_most_linked_description"],
            "sql": (
                "select target.id, target.title, target.area, target.type,\n"
                "  count(*) as cited_by, group_concat(source.id, ', ') as cited_in\n"
                "from entries as source, json_each(source.related) as link\n"
                "join entries as target on target.id = link.value\n"
                "group by target.id order by cited_by desc, target.id limit 50"
            ),
        },
        "search": {
            "title": t["query_search_title"],
            "description": t["query_search_description"],
            "sql": (
                "select e.id, e.title, e.area, e.type, e.date,\n"
                "  json_extract(hit.value, '$.score') as score\n"
                "from json_each(kb_search(:q, 20)) as hit\n"
                "join entries as e on e.id = json_extract(hit.value, '$.id')\n"
                "order by score desc"
            ),
        },
    }
