"""Why an analysis suggests something, as data: a catalogue key and its parameters.

The analyses (links, duplicates, conflicts, related lessons) say *why* in codes, never in
sentences, so that a page, a handout or the CLI renders the same reason in its own language
(the catalogue in :mod:`kb.core.texts`, keys ``reason_*`` and ``conflict_reason_*``) and a
program reads it from JSON as ``{"code": "reason_shared_tags", "values": ["elnät"]}``.
Parameters are shown as :func:`kb.core.texts.parameter_text` says: area slugs as the areas'
names, lists joined, numbers formatted by the catalogue text (e.g. ``{similarity:.3f}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kb.core.texts import Message


@dataclass(frozen=True)
class Reason:
    code: str  # a key of kb.core.texts.TEXTS
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"code": self.code, **self.params}

    def render(self, lang: str | None, area_names: Mapping[str, str] | None = None) -> str:
        return Message(self.code, self.params).render(lang, area_names)


def render_reason(reason, lang: str | None, area_names: Mapping[str, str] | None = None) -> str:
    """One reason in ``lang``: a :class:`Reason` or its ``to_dict()`` form (from JSON), or a
    plain string (returned as it is)."""
    if isinstance(reason, str):
        return reason
    if not isinstance(reason, Reason):
        data = dict(reason)
        reason = Reason(data.pop("code"), data)
    return reason.render(lang, area_names)


def render_reasons(reasons: Iterable, lang: str | None, area_names: Mapping[str, str] | None = None) -> list[str]:
    return [render_reason(r, lang, area_names) for r in reasons or ()]
