"""One filter reader for the command line and the pages: the same values, the same problems."""

from __future__ import annotations

from click.testing import CliRunner

from kb.cli import cli
from kb.core.config import load
from search.filters import Filters, read_filters

from .helpers import datasette_get


def test_read_filters_keeps_good_values_and_names_each_bad_one(kb_root):
    config = load(kb_root)
    filters, problems = read_filters(config, areas=["mobilitet", "hav"], types=["obstacle", "lärdom"],
                                     tags=["Elnät"], since="2026-02", until="2026")
    assert filters == Filters(areas=("mobilitet",), types=("obstacle",), tags=("elnät",),
                              since="2026-02-01", until="2026-12-31")
    assert [(p.key, p.option, p.value) for p in problems] == [
        ("filter_unknown_area", "area", "hav"), ("filter_unknown_type", "type", "lärdom")]
    _, problems = read_filters(config, since="igår", until="2026-13")
    assert [(p.key, p.option) for p in problems] == [("filter_bad_date", "since"), ("filter_bad_date", "until")]


def test_cli_and_pages_refuse_the_same_values_each_in_its_language(indexed_kb):
    root = indexed_kb.config.root
    cli_result = CliRunner().invoke(cli, ["synergies", "--area", "hav", "--root", str(root)])
    assert cli_result.exit_code == 2 and "unknown area 'hav'" in cli_result.stderr
    sv, en = datasette_get(root, "/-/kb/synergies?area=hav&since=igår", "/-/kb/synergies?area=hav&lang=en")
    assert sv.status_code == 400 and "Okänt område: hav" in sv.text and "Ogiltigt datum: igår" in sv.text
    assert "unknown area" not in sv.text  # no English on a Swedish page
    assert en.status_code == 400 and "Unknown area: hav" in en.text
