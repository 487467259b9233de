"""``similar`` with a mode: keyword and hybrid next to the default (entry vectors)."""

from __future__ import annotations

import pytest

from kb.core.errors import KBError


def test_similar_modes(indexed_kb):
    default = [r.id for r in indexed_kb.similar("laddplatser")]
    assert default == [r.id for r in indexed_kb.similar("laddplatser", mode="semantic")]
    keyword = [r.id for r in indexed_kb.similar("laddplatser", mode="keyword")]
    # the heat-pump lesson shares "elnätet", "kapacitet", "E.ON", "nätägaren"
    assert keyword[0] == "vaermepump-holma"
    assert "laddplatser" not in keyword
    hybrid = [r.id for r in indexed_kb.similar("laddplatser", mode="hybrid", limit=3)]
    assert hybrid[0] == "vaermepump-holma" and len(hybrid) == 3


def test_similar_other_areas_applies_to_every_mode(indexed_kb):
    for mode in ("semantic", "keyword", "hybrid"):
        areas = {r.area for r in indexed_kb.similar("laddplatser", mode=mode, other_areas=True)}
        assert "mobilitet" not in areas


def test_similar_unknown_mode(indexed_kb):
    with pytest.raises(KBError, match="unknown similar mode"):
        indexed_kb.similar("laddplatser", mode="fuzzy")
