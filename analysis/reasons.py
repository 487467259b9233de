"""Why an analysis suggests something, as data: a catalogue key and its parameters.

The analyses (links, duplicates, conflicts) say *why* in codes, never in sentences, so that
a page, a handout or the CLI renders the same reason in its own language (the catalogue in
:mod:`kb.core.texts`, keys ``reason_*``) and a program reads it from JSON as
``{"code": "reason_shared_tags", "values": ["elnät"]}``.

Parameter conventions the renderer relies on:

- ``area``, ``area_a``, ``area_b``: an area slug, shown as the area's name;
- a list: shown comma-separated;
- anything else as written (numbers are formatted by the catalogue text, e.g. ``{similarity:.3f}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kb.core.texts import text

AREA_PARAMS = frozenset({"area", "area_a", "area_b"})


@dataclass(frozen=True)
class Reason:
    code: str  # a key of kb.core.texts.TEXTS
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"code": self.code, **self.params}

    def render(self, lang: str | None, area_names: Mapping[str, str] | None = None) -> str:
        return render_reason(self.to_dict(), lang, area_names)


def render_reason(reason, lang: str | None, area_names: Mapping[str, str] | None = None) -> str:
    """One reason in ``lang``: a :class:`Reason`, its ``to_dict()`` form (from JSON), or a
    plain string (an analysis that does not speak in codes yet), returned as it is."""
    if isinstance(reason, str):
        return reason
    data = reason.to_dict() if isinstance(reason, Reason) else dict(reason)
    code = data.pop("code")
    names = area_names or {}
    values = {}
    for key, value in data.items():
        if key in AREA_PARAMS:
            value = names.get(value, value)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        values[key] = value
    return text(code, lang, **values)


def render_reasons(reasons: Iterable, lang: str | None, area_names: Mapping[str, str] | None = None) -> list[str]:
    return [render_reason(r, lang, area_names) for r in reasons]


__all__ = ["Reason", "render_reason", "render_reasons"]
