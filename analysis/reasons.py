"""Why a pair of entries was linked, or an entry flagged: the analyses' reasons as text in
the reader's language, through the text catalogue.

A reason is a catalogue :class:`~kb.core.texts.Message` (key and parameters, area slugs
among them), or the same as a dict (``{"key"|"code": ..., "params": {...}}``, as in JSON).
The reasons of synergies and near-duplicates (:mod:`analysis.links`,
:mod:`analysis.duplicates`) are still English sentences; until they are messages too,
:func:`as_message` reads the sentences those modules write into messages, so no page shows
them in English. A sentence it does not know is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kb.core.texts import Message

# the sentences of analysis.links.explain and analysis.duplicates.find_duplicates
_SENTENCES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^section '(?P<heading_a>.*)' of \S+ matches '(?P<heading_b>.*)' of \S+$"), "reason_sections"),
    (re.compile(r"^mutual best other-area match$"), "reason_mutual_best"),
    (re.compile(r"^mutual top-(?P<k>\d+) \(ranks (?P<rank_a>\d+) and (?P<rank_b>\d+)\)$"), "reason_mutual_top"),
    (re.compile(r"^top-(?P<rank>\d+) other-area match for one side$"), "reason_one_side"),
    (re.compile(r"^shares (?P<shared>.+)$"), "reason_shares"),
    (re.compile(r"^rare words in common: (?P<words>.+)$"), "reason_rare_words"),
    (re.compile(r"^confirmed by a facilitator: (?P<note>.+)$"), "reason_confirmed_note"),
    (re.compile(r"^confirmed by a facilitator$"), "reason_confirmed"),
    (re.compile(r"^similarity (?P<similarity>[\d.]+): (?P<share>\d+)% of the typical distance to a nearest "
                r"neighbour$"), "reason_similarity"),
    (re.compile(r"^each other's nearest entry$"), "reason_nearest"),
    (re.compile(r"^same area$"), "reason_same_area"),
    (re.compile(r"^same sprint \((?P<sprint>.+)\)$"), "reason_same_sprint"),
]
# "shares tag:cykel, actor:e.on, roadmap:mob-2": the kind of each shared value
_SHARED_KINDS = {"tag": "reason_shared_tag", "actor": "reason_shared_actor", "roadmap": "reason_shared_roadmap"}


def as_message(reason) -> Message | str:
    """A reason as a catalogue message when it is one (or one of the known sentences)."""
    if isinstance(reason, Message):
        return reason
    if isinstance(reason, Mapping) and (reason.get("key") or reason.get("code")):
        return Message(str(reason.get("key") or reason.get("code")), dict(reason.get("params") or {}))
    key = getattr(reason, "key", None) or getattr(reason, "code", None)
    if isinstance(key, str) and isinstance(getattr(reason, "params", None), Mapping):
        return Message(key, dict(reason.params))
    text = str(reason)
    for pattern, key in _SENTENCES:
        match = pattern.match(text)
        if match:
            return Message(key, match.groupdict())
    return text


def reason_text(reason, lang: str, area_names: Mapping[str, str] | None = None) -> str:
    """One reason in ``lang``; area slugs in it as the areas' names."""
    message = as_message(reason)
    if not isinstance(message, Message):
        return message
    if message.key == "reason_shares":
        return _shares(message.params.get("shared", ""), lang)
    return message.render(lang, area_names)


def reasons_text(reasons, lang: str, area_names: Mapping[str, str] | None = None) -> list[str]:
    return [reason_text(r, lang, area_names) for r in reasons or ()]


def _shares(shared: str, lang: str) -> str:
    """"tag:cykel, actor:e.on" -> "Gemensam tagg: cykel; gemensam aktör: e.on" (in ``lang``)."""
    parts = []
    for item in (p.strip() for p in shared.split(",")):
        kind, _, value = item.partition(":")
        key = _SHARED_KINDS.get(kind)
        parts.append(Message(key, {"value": value}).render(lang) if key and value else item)
    return Message("reason_shares", {"shared": "; ".join(parts)}).render(lang)
