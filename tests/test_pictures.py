"""Pictures: valid, non-trivial PNG and SVG files with readable Swedish labels."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.palette import AREA_PALETTE, area_colours, contrast_ratio
from reports.brief import brief_with_pictures
from reports.pictures import area_network, figure_bytes, obstacle_timeline, write_pictures

AREA_NAMES = ["Gång, cykel och kollektivtrafik", "Energi och värme", "Byggnader och återbruk"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def svg_text(data: bytes) -> str:
    root = ET.fromstring(data)  # raises if the SVG is not well-formed XML
    assert root.tag.endswith("svg")
    return " ".join(t for t in root.itertext())


def distinct_colours(path) -> int:
    import matplotlib.image

    pixels = matplotlib.image.imread(str(path))[..., :3].reshape(-1, 3)
    return len(np.unique((pixels * 255).round().astype(np.uint8), axis=0))


@pytest.mark.slow
def test_all_pictures_written_valid_and_non_trivial(brief_kb, tmp_path):
    brief, figures = brief_with_pictures(brief_kb)
    written = write_pictures(figures, tmp_path / "pics")
    assert sorted(p.name for p in written) == sorted(
        f"{n}.{f}" for n in ("map", "network", "timeline") for f in ("png", "svg"))
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".png":
            width, height = png_size(data)
            assert width >= 600 and height >= 300
            assert distinct_colours(path) > 10  # coloured markers, not a blank canvas
        else:
            text = svg_text(data)
            assert "<script" not in data.decode("utf-8")
            if path.stem == "map":
                assert all(name in text for name in AREA_NAMES)  # the legend, with å/ä/ö
                assert "Karta över lärdomar" in text and "hinder" in text
                for jargon in ("PCA", "Komponent", "variationen", "vektorer"):  # plain words only
                    assert jargon not in text, jargon
            if path.stem == "timeline":
                assert "Återkommande hinder över tid" in text
                assert "hinder-" in text and any(name in text for name in AREA_NAMES)
            if path.stem == "network":
                words = " ".join(text.split())  # long names are wrapped over two lines
                assert "Vilka områden delar lärdomar" in words and all(name in words for name in AREA_NAMES)


def test_pictures_are_deterministic(brief_kb):
    _, first = brief_with_pictures(brief_kb, today="2026-07-01")
    _, second = brief_with_pictures(brief_kb, today="2026-07-01")
    assert figure_bytes(first["network"], "svg") == figure_bytes(second["network"], "svg")


def test_area_scope_greys_out_the_rest_of_the_map(brief_kb):
    _, figures = brief_with_pictures(brief_kb, areas=["bygg"], lang="en")
    text = svg_text(figure_bytes(figures["map"], "svg"))
    assert "Byggnader och återbruk" in text and "outside the selection" in text
    assert "Energi och värme" not in text  # only the chosen area is coloured and in the legend


def test_empty_selection_still_draws(tmp_path):
    fig = obstacle_timeline([], {"a": "Åre"}, lang="sv")
    assert "Inget att visa" in svg_text(figure_bytes(fig, "svg"))
    network = area_network({}, {}, lang="en")
    assert "Nothing to show" in svg_text(figure_bytes(network, "svg"))
    with pytest.raises(ValueError):
        figure_bytes(fig, "gif")


def test_cli_pictures(brief_root, tmp_path):
    out = tmp_path / "pictures"
    result = CliRunner().invoke(cli, ["pictures", "--root", str(brief_root), "-o", str(out), "--format", "svg",
                                      "--since", "2025-06"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["map.svg", "network.svg", "timeline.svg"]
    assert result.stdout.count("\n") == 3


def test_an_area_has_one_colour_in_badges_charts_and_maps(brief_kb, tmp_path):
    """The badge's colour (kb.toml's, else the palette's) is the colour of the area's markers."""
    toml = brief_kb.config.root / "kb.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'name = "Energi och värme"', 'name = "Energi och värme"\ncolour = "#8C1C13"'), encoding="utf-8")
    kb = KnowledgeBase.open(brief_kb.config.root)
    colours = kb.config.area_colours()
    assert colours["energi"].background == "#8C1C13" and colours["mobilitet"].background == AREA_PALETTE[0]
    brief, figures = brief_with_pictures(kb)
    assert brief.area_colours == {slug: c.background for slug, c in colours.items()}
    for name in ("network", "timeline", "map"):
        svg = figure_bytes(figures[name], "svg").decode("utf-8").lower()
        assert "#8c1c13" in svg, name  # energi's own colour in every picture
        assert AREA_PALETTE[1].lower() not in svg, name  # not the palette's second colour


def test_every_badge_colour_reads_at_wcag_aa():
    for colour in [*AREA_PALETTE, "#777777", "#FFFF00", "#1D4E89"]:
        chosen = area_colours(["x"], {"x": colour})["x"]
        assert contrast_ratio(chosen.background, chosen.text) >= 4.5, colour
    assert round(contrast_ratio("#000000", "#FFFFFF"), 1) == 21.0
