"""Pictures: valid, non-trivial PNG and SVG files with readable Swedish labels."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import cli
from reports.brief import brief_with_pictures
from reports.pictures import figure_bytes, obstacle_timeline, synergy_heatmap, write_pictures

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
        f"{n}.{f}" for n in ("map", "heatmap", "timeline") for f in ("png", "svg"))
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
            if path.stem == "timeline":
                assert "Återkommande hinder över tid" in text
                assert "hinder-" in text and any(name in text for name in AREA_NAMES)  # the groups by id
            if path.stem == "heatmap":
                assert "Starka länkar mellan områden" in text and "värme" in text


def test_pictures_are_deterministic(brief_kb):
    _, first = brief_with_pictures(brief_kb, today="2026-07-01")
    _, second = brief_with_pictures(brief_kb, today="2026-07-01")
    assert figure_bytes(first["heatmap"], "svg") == figure_bytes(second["heatmap"], "svg")


def test_area_scope_greys_out_the_rest_of_the_map(brief_kb):
    _, figures = brief_with_pictures(brief_kb, areas=["bygg"], lang="en")
    text = svg_text(figure_bytes(figures["map"], "svg"))
    assert "Byggnader och återbruk" in text and "outside the selection" in text
    assert "Energi och värme" not in text  # only the chosen area is coloured and in the legend


def test_empty_selection_still_draws(tmp_path):
    fig = obstacle_timeline([], {"a": "Åre"}, lang="sv")
    assert "Inget att visa" in svg_text(figure_bytes(fig, "svg"))
    heat = synergy_heatmap({}, {}, lang="en")
    png_size(figure_bytes(heat, "png"))
    with pytest.raises(ValueError):
        figure_bytes(fig, "gif")


def test_cli_pictures(brief_root, tmp_path):
    out = tmp_path / "pictures"
    result = CliRunner().invoke(cli, ["pictures", "--root", str(brief_root), "-o", str(out), "--format", "svg",
                                      "--since", "2025-06"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["heatmap.svg", "map.svg", "timeline.svg"]
    assert result.stdout.count("\n") == 3
