"""kb.toml's ``[sharing]`` table: the default visibility, and who publishes, under what
licence and whom to contact (the open publication and its DCAT-AP-SE description)::

    [sharing]
    visibility = "internal"            # entries, actions and questions without their own
    organisation = "Malmö stad"        # named as the source of everything published
    organisation_number = "2120001124" # optional: the publisher's id at Sveriges dataportal
    licence = "http://creativecommons.org/licenses/by/4.0/"
    contact_name = "Klimatenheten, Malmö stad"
    contact_email = "klimat@malmo.se"
    url = "https://larande.malmo.se/-/kb/open/"   # where the publication is read

Every value is checked when kb.toml is loaded; a wrong one names the file, its line and
what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kb.core.errors import ConfigError
from kb.core.visibility import DEFAULT_VISIBILITY, VISIBILITIES

TABLE = "sharing"
_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s<>\"{}|\\^`]*)?$")
_EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_ORG_NUMBER_RE = re.compile(r"^\d{6}-?\d{4}$")
MAX_TEXT = 200


@dataclass(frozen=True)
class Sharing:
    visibility: str = DEFAULT_VISIBILITY
    organisation: str | None = None
    organisation_number: str | None = None  # ten digits, no dash
    licence: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    url: str | None = None  # the publication's own web address (ends with "/")

    def missing_for_publication(self) -> list[str]:
        """The keys a publication needs and kb.toml does not give."""
        return [key for key in ("organisation", "licence", "contact_email") if not getattr(self, key)]


def read_sharing(data: dict, config_path: Path, source: str = "") -> Sharing:
    """``[sharing]`` from kb.toml's parsed ``data`` (``source`` is its text, for line numbers)."""
    table = data.get(TABLE)
    if table is None:
        return Sharing()

    def fail(key: str, message: str, hint: str) -> ConfigError:
        return ConfigError(f"{config_path}:{_key_line(source, key)}: [sharing] {message}", hint=hint)

    if not isinstance(table, dict):
        raise ConfigError(f"{config_path}:{_key_line(source, None)}: [sharing] must be a table",
                          hint='Write it as\n[sharing]\nvisibility = "internal"')
    values: dict[str, str | None] = {}
    for key in ("visibility", "organisation", "organisation_number", "licence", "contact_name",
                "contact_email", "url"):
        value = table.get(key)
        if value is None:
            values[key] = None
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise fail(key, f"{key} = {value!r} must be a short text",
                       hint=f'Write it in quotes, e.g. {key} = "…" (at most {MAX_TEXT} characters).')
        values[key] = " ".join(value.split())
    visibility = values["visibility"] or DEFAULT_VISIBILITY
    if visibility not in VISIBILITIES:
        raise fail("visibility", f"visibility = {visibility!r} is not a visibility",
                   hint=f"Use one of {', '.join(VISIBILITIES)} (the narrowest, internal, if in doubt).")
    for key in ("licence", "url"):
        if values[key] and not _URL_RE.match(values[key] or ""):
            raise fail(key, f"{key} = {values[key]!r} is not a web address",
                       hint=f'Write the whole address, e.g. {key} = "http://creativecommons.org/licenses/by/4.0/".'
                       if key == "licence" else f'Write the whole address, e.g. {key} = "https://larande.example.se/-/kb/open/".')
    if values["contact_email"] and not _EMAIL_RE.match(values["contact_email"] or ""):
        raise fail("contact_email", f"contact_email = {values['contact_email']!r} is not an e-mail address",
                   hint='For example contact_email = "klimat@malmo.se" (a shared mailbox, not a person).')
    number = values["organisation_number"]
    if number and not _ORG_NUMBER_RE.match(number):
        raise fail("organisation_number", f"organisation_number = {number!r} is not an organisation number",
                   hint='Ten digits, e.g. organisation_number = "212000-1124".')
    url = values["url"]
    return Sharing(
        visibility=visibility,
        organisation=values["organisation"],
        organisation_number=number.replace("-", "") if number else None,
        licence=values["licence"],
        contact_name=values["contact_name"],
        contact_email=values["contact_email"],
        url=(url.rstrip("/") + "/") if url else None,
    )


def _key_line(source: str, key: str | None) -> int:
    """The line of ``key`` in the ``[sharing]`` table of kb.toml's text (the table's own
    line for None; 1 when it cannot be found)."""
    lines = source.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(f"[{TABLE}]")), None)
    if start is None:
        return 1
    if key is None:
        return start + 1
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if re.match(rf"{re.escape(key)}\s*=", stripped):
            return i + 1
    return start + 1
