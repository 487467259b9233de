"""The knowledge base's configuration: kb.toml, where things live, and which model to use.

One loader, one path resolver: every command goes through :func:`load`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kb.core import palette
from kb.core.errors import ConfigError
from kb.core.sharing import Sharing, read_sharing

CONFIG_NAME = "kb.toml"
STATE_DIR = ".kb"
ENTRY_TYPES = ("lesson", "obstacle", "enabler", "goal-conflict", "idea")
POLICY_LEVELS = ("regional", "national", "eu")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")  # each fullmatched: "$" would let a final newline in
_BASE_URL_RE = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#]*)?")


@dataclass(frozen=True)
class Area:
    slug: str
    name: str
    colour: str | None = None  # "#RRGGBB" from kb.toml; else the palette's (kb.core.palette)


SQL_ACCESS = ("all", "signed-in", "off")  # who may run SQL of their own on the web (README)
VISITOR_AUDIENCES = ("public", "partner", "staff")  # whom a visitor who has not signed in reads as
AUDIENCE_DIR = "audience"  # .kb/audience/<audience>.db: what each audience may see (indexer.audience)


@dataclass(frozen=True)
class WebSettings:
    """kb.toml ``[web]``: what the web pages publish.

    ``sql``: who may run SQL of their own in Datasette's SQL editor and through ``?sql=``
    (``all``, ``signed-in``: the default, or ``off``); the tables, their facets and the
    saved queries stay open to everyone. ``publish_authors``: whether the user names of the
    writers (``author:`` of an entry, an e-mail address under single sign-on) are shown in
    the feeds, on the entry pages and to SQL (default: not). ``visitors``: whom a visitor who
    has not signed in reads as (kb.core.visibility): ``public`` (the default, for a site on the
    open web), ``partner``, or ``staff`` (an intranet that only the city's staff can reach)."""
    sql: str = "signed-in"
    publish_authors: bool = False
    visitors: str = "public"


@dataclass
class KBConfig:
    """A loaded knowledge base: its root folder, areas and settings."""
    root: Path
    title: str = "Kunskapsbank"
    description: str = ""
    language: str = "sv"
    areas: dict[str, Area] = field(default_factory=dict)
    model: str | None = None
    # the default model's encoders, forced (indexer/encoder_choice.py); None: measured on the machine
    passage_encoder: str | None = None
    query_encoder: str | None = None
    base_url: str | None = None  # where the web pages are published, for links in downloads
    sharing: Sharing = field(default_factory=Sharing)  # [sharing]: default visibility, publisher, licence
    web: WebSettings = field(default_factory=WebSettings)
    raw: dict = field(default_factory=dict)

    @property
    def default_visibility(self) -> str:
        """What an entry, action or question without its own ``visibility:`` gets."""
        return self.sharing.visibility

    @property
    def entries_dir(self) -> Path:
        return self.root / "entries"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def db_path(self) -> Path:
        return self.state_dir / "kb.db"

    @property
    def faiss_path(self) -> Path:
        return self.state_dir / "vectors.faiss"

    def audience_db_path(self, audience: str) -> Path:
        """The index ``audience`` reads (kb.core.visibility): ``kb.db`` for staff, else the
        database made from it with only what that audience may see (indexer.audience)."""
        if audience == "staff":
            return self.db_path
        return self.state_dir / AUDIENCE_DIR / f"{audience}.db"

    def audience_faiss_path(self, audience: str) -> Path:
        if audience == "staff":
            return self.faiss_path
        return self.state_dir / AUDIENCE_DIR / f"{audience}.faiss"

    def area_name(self, slug: str) -> str:
        area = self.areas.get(slug)
        return area.name if area else slug

    def area_names(self) -> dict[str, str]:
        """Slug -> name of every area."""
        return {slug: area.name for slug, area in self.areas.items()}

    def area_colours(self) -> dict[str, palette.AreaColour]:
        """Slug -> the area's one colour (badges, charts, maps), in kb.toml's order."""
        return palette.area_colours(list(self.areas), {slug: a.colour for slug, a in self.areas.items()})


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """``--root`` wins, then ``KB_ROOT``, then the current directory."""
    chosen = root or os.environ.get("KB_ROOT") or os.getcwd()
    return Path(chosen).expanduser().resolve()


def load(root: str | os.PathLike | None = None, *, require_areas: bool = True) -> KBConfig:
    """Read ``kb.toml`` from the knowledge base root.

    ``require_areas=False`` accepts a kb.toml without areas (``kb import --add-areas``
    into a new knowledge base creates them).
    """
    root_path = resolve_root(root)
    if not root_path.is_dir():
        raise ConfigError(
            f"{root_path}: no such folder",
            hint="Pass --root DIR (or set KB_ROOT) to a knowledge base folder.",
        )
    config_path = root_path / CONFIG_NAME
    if not config_path.is_file():
        raise ConfigError(
            f"{config_path}: not found; {root_path} is not a knowledge base",
            hint="Create kb.toml with at least one [[areas]] table (slug, name), "
            "or pass --root DIR (or set KB_ROOT) to a knowledge base folder.",
        )
    try:
        source = config_path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}:1: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(
            f"{config_path}:{line}: {exc}", hint="Fix the TOML syntax in kb.toml."
        ) from None
    areas: dict[str, Area] = {}
    for i, item in enumerate(data.get("areas", []) or []):
        if not isinstance(item, dict) or "slug" not in item:
            raise ConfigError(
                f"{config_path}: [[areas]] number {i + 1} has no slug",
                hint='Each area needs slug = "..." and name = "...".',
            )
        slug = str(item["slug"])
        if not _SLUG_RE.fullmatch(slug):
            raise ConfigError(
                f"{config_path}: area slug {slug!r} must be lowercase letters, digits and '-'"
            )
        if slug in areas:
            raise ConfigError(f"{config_path}: area slug {slug!r} appears twice")
        colour = item.get("colour")
        if colour is not None and not (isinstance(colour, str) and palette.HEX_RE.match(colour)):
            raise ConfigError(
                f"{config_path}: area {slug!r}: colour {colour!r} is not a colour",
                hint='Write it as colour = "#0072B2" (a # and six hexadecimal digits), or leave it out.',
            )
        areas[slug] = Area(slug=slug, name=str(item.get("name") or slug), colour=colour)
    if not areas and require_areas:
        raise ConfigError(
            f"{config_path}: no [[areas]] defined",
            hint='Add at least one:\n[[areas]]\nslug = "mobilitet"\nname = "Mobilitet och transporter"',
        )
    base_url = data.get("base_url")
    if base_url is not None and not (isinstance(base_url, str) and _BASE_URL_RE.fullmatch(base_url)):
        raise ConfigError(
            f"{config_path}: base_url {base_url!r} is not a web address",
            hint='Write it as base_url = "https://larande.example.se" (http or https, no query).',
        )
    return KBConfig(
        web=_web_settings(data.get("web"), config_path),
        root=root_path,
        title=str(data.get("title") or "Kunskapsbank"),
        description=str(data.get("description") or ""),
        language=str(data.get("language") or "sv"),
        areas=areas,
        model=data.get("model"),
        passage_encoder=_optional_text(data, "passage_encoder", config_path),
        query_encoder=_optional_text(data, "query_encoder", config_path),
        base_url=base_url.rstrip("/") if base_url else None,
        sharing=read_sharing(data, config_path, source),
        raw=data,
    )


def _web_settings(table, config_path: Path) -> WebSettings:
    if table is None:
        return WebSettings()
    if not isinstance(table, dict):
        raise ConfigError(f"{config_path}: [web] must be a table", hint='For example:\n[web]\nsql = "signed-in"')
    sql = table.get("sql", WebSettings.sql)
    if sql not in SQL_ACCESS:
        raise ConfigError(f"{config_path}: [web] sql = {sql!r} is not one of {', '.join(SQL_ACCESS)}",
                          hint='"signed-in" (the default): SQL of one\'s own for people who signed in; '
                          '"all": for every visitor; "off": for no one.')
    authors = table.get("publish_authors", WebSettings.publish_authors)
    if not isinstance(authors, bool):
        raise ConfigError(f"{config_path}: [web] publish_authors = {authors!r} must be true or false")
    visitors = table.get("visitors", WebSettings.visitors)
    if visitors not in VISITOR_AUDIENCES:
        raise ConfigError(f"{config_path}: [web] visitors = {visitors!r} is not one of {', '.join(VISITOR_AUDIENCES)}",
                          hint='"public" (the default): visitors who have not signed in read the public lessons '
                          'only; "partner": also what is shared with partners; "staff": everything (an intranet '
                          "only the city's staff can reach).")
    return WebSettings(sql=sql, publish_authors=authors, visitors=visitors)


def _optional_text(data: dict, key: str, config_path: Path) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config_path}: {key} must be a text, e.g. {key} = \"auto\"")
    return value


def _line_from_message(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1


def cache_dir() -> Path:
    """Where converted models live: ``KB_CACHE_DIR``, else the user's cache folder."""
    explicit = os.environ.get("KB_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "malmo-kb"
