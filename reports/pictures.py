"""Pictures for learning sessions (matplotlib, Agg, no pyplot state): which areas share
lessons (a network a facilitator reads without statistics), the recurring obstacles over
time, and the map of lessons (for an appendix), as PNG or SVG bytes.

* Colours: each area's one colour (:mod:`kb.core.palette`: kb.toml's, else Okabe–Ito, safe
  for the common colour-vision deficiencies), the same as its badge on the pages; and a
  second cue besides colour (marker shape per area, per type in the map).
* Text: DejaVu Sans (ships with matplotlib; å, ä, ö render correctly). SVG keeps text as
  text (``svg.fonttype = none``), so labels stay searchable and sharp in print.
* Output is deterministic (fixed SVG id salt, no date metadata): the same data gives the
  same bytes, which makes caching per index generation safe.

Figures are built with :class:`matplotlib.figure.Figure` directly, never ``pyplot``, so
Datasette's threads can draw at once without a global figure manager.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from pathlib import Path

import numpy as np

from kb.core.files import atomic_write_bytes
from kb.core.palette import AREA_PALETTE
from kb.core.texts import DEFAULT_LANGUAGE, texts

AREA_MARKERS = ["o", "s", "D", "P", "X", "p", "h", "*"]  # no triangles: the map uses them for obstacles
OUT_OF_SCOPE = "#c8c8c8"
NAMES = ("network", "timeline", "map")
FORMATS = ("png", "svg")
RC = {
    # DejaVu Sans draws the PNGs; in SVG the generic fallback keeps a sans font where it is missing
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 10,
    "svg.fonttype": "none",
    "svg.hashsalt": "malmo-kb",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def area_styles(slugs: list[str], colours: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Area slug -> (colour, marker), in kb.toml order: the area's own colour (``colours``,
    as the pages show it), else the palette's; a marker of its own per area."""
    colours = colours or {}
    return {s: (colours.get(s) or AREA_PALETTE[k % len(AREA_PALETTE)],
                AREA_MARKERS[(k // len(AREA_PALETTE) + k) % len(AREA_MARKERS)])
            for k, s in enumerate(slugs)}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _titles(fig, ax, title: str, subtitle: str) -> None:
    fig.suptitle(title, fontsize=14, fontweight="bold")
    ax.set_title(subtitle, fontsize=9, color="#444444")


def _empty(fig, ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#555555", transform=ax.transAxes)


# --- the three pictures --------------------------------------------------------------------
def lesson_map(corpus, *, scope: set[str] | None = None, area_names: dict[str, str] | None = None,
               groups: list[tuple[str | None, list[str]]] | None = None, colours: dict[str, str] | None = None,
               lang: str = DEFAULT_LANGUAGE):
    """Entries in 2-D (the two main directions of the language-centred entry vectors, by
    PCA), coloured by area; obstacles as triangles; entries outside ``scope`` in grey; the
    members of each obstacle group in ``groups`` ((kept id, entry ids)) joined and marked
    with the group's id, as the brief names it. The axes carry no numbers and no
    statistics: only nearness means something."""
    import matplotlib
    from matplotlib.lines import Line2D

    t = texts(lang)
    area_names = area_names or dict(corpus.area_names)
    with matplotlib.rc_context(RC):
        fig = _figure(9, 6.6)
        ax = fig.add_subplot()
        _titles(fig, ax, t["picture_map"], t["picture_map_subtitle"])
        if corpus.n < 3:
            _empty(fig, ax, t["picture_empty"])
            return fig
        from sklearn.decomposition import PCA

        vectors = corpus.centred(corpus.vectors)
        pca = PCA(n_components=2, random_state=0)
        xy = pca.fit_transform(vectors)
        xy[:, 0] *= np.sign(xy[np.argmax(np.abs(xy[:, 0])), 0]) or 1  # a stable orientation
        slugs = list(area_names) or sorted(set(corpus.areas.tolist()))
        styles = area_styles(slugs, colours)
        scope = set(corpus.ids) if scope is None else scope
        inside = np.array([e in scope for e in corpus.ids])
        obstacle = np.array([corpus.rows[e]["type"] == "obstacle" for e in corpus.ids])
        area = corpus.areas
        for is_obstacle, marker in ((False, "o"), (True, "^")):
            outside = ~inside & (obstacle == is_obstacle)
            ax.scatter(xy[outside, 0], xy[outside, 1], s=28, marker=marker, c=OUT_OF_SCOPE, linewidths=0)
        for slug in slugs:
            colour, _ = styles[slug]
            for is_obstacle, marker, size in ((False, "o", 60), (True, "^", 95)):
                chosen = inside & (area == slug) & (obstacle == is_obstacle)
                if chosen.any():
                    ax.scatter(xy[chosen, 0], xy[chosen, 1], s=size, marker=marker, c=colour,
                               edgecolors="#222222", linewidths=0.7, zorder=3)
        position = {e: k for k, e in enumerate(corpus.ids)}
        for number, (group_id, members) in enumerate(groups or [], start=1):
            points = np.array([xy[position[e]] for e in members if e in position])
            if len(points) < 2:
                continue
            centre = points.mean(axis=0)
            for p in points:
                ax.plot([centre[0], p[0]], [centre[1], p[1]], color="#555555", linewidth=0.8,
                        linestyle=(0, (3, 2)), zorder=2)
            ax.annotate(group_id or str(number), centre, fontsize=9, fontweight="bold", ha="center", va="center",
                        zorder=4, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#555555", "lw": 0.8})
        ax.set_xticks([])
        ax.set_yticks([])
        present = [s for s in slugs if (inside & (area == s)).any()]
        handles = [Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=styles[s][0],
                          markeredgecolor="#222222", label=area_names.get(s, s)) for s in present]
        handles += [
            Line2D([], [], marker="^", linestyle="", markersize=9, markerfacecolor="white",
                   markeredgecolor="#222222", label=t["picture_map_obstacle"]),
            Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor="white",
                   markeredgecolor="#222222", label=t["picture_map_other"]),
        ]
        if (~inside).any():
            handles.append(Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor=OUT_OF_SCOPE,
                                  markeredgecolor=OUT_OF_SCOPE, label=t["picture_map_outside"]))
        fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
        return fig


def area_network(matrix: dict[str, dict[str, int]], area_names: dict[str, str], *,
                 colours: dict[str, str] | None = None, highlight=(), lang: str = DEFAULT_LANGUAGE):
    """Which areas share lessons: the areas on a circle, each in its colour, and a line
    between two areas whose entries carry the same lessons, as thick as there are such
    pairs, with their number on it. Read without statistics: a line means "talk to each
    other", no line between two areas a possible silo. The chosen areas in bold."""
    import matplotlib

    t = texts(lang)
    slugs = [s for s in area_names if s in matrix] or list(matrix)
    styles = area_styles(list(area_names) or slugs, colours)
    with matplotlib.rc_context(RC):
        fig = _figure(8.4, 7.4)
        ax = fig.add_subplot()
        _titles(fig, ax, t["picture_network"], t["picture_network_subtitle"])
        ax.axis("off")
        ax.set_aspect("equal")
        pairs = [(a, b, matrix.get(a, {}).get(b, 0)) for i, a in enumerate(slugs) for b in slugs[i + 1:]]
        pairs = [(a, b, n) for a, b, n in pairs if n > 0]
        if len(slugs) < 2 or not pairs:
            _empty(fig, ax, t["picture_empty"])
            return fig
        angles = np.pi / 2 - 2 * np.pi * np.arange(len(slugs)) / len(slugs)
        where = {s: (float(np.cos(a)), float(np.sin(a))) for s, a in zip(slugs, angles, strict=True)}
        top = max(n for _, _, n in pairs)
        for a, b, n in sorted(pairs, key=lambda p: p[2]):
            (x1, y1), (x2, y2) = where[a], where[b]
            ax.plot([x1, x2], [y1, y2], color="#4d4d4d", linewidth=1.2 + 8 * n / top, alpha=0.55,
                    solid_capstyle="round", zorder=1)
            ax.text((x1 + x2) / 2, (y1 + y2) / 2, str(n), ha="center", va="center", fontsize=10,
                    fontweight="bold", zorder=3,
                    bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "#4d4d4d", "lw": 0.8})
        for slug in slugs:
            x, y = where[slug]
            colour, marker = styles.get(slug, ("#777777", "o"))
            ax.scatter([x], [y], s=900, c=colour, marker=marker, edgecolors="#222222", linewidths=1.2, zorder=4)
            ax.text(1.28 * x, 1.22 * y, _wrap(area_names.get(slug, slug), 18), ha="center", va="center",
                    fontsize=10, fontweight="bold" if slug in highlight else "normal", zorder=5)
        ax.set_xlim(-1.75, 1.75)
        ax.set_ylim(-1.5, 1.5)
        return fig


def obstacle_timeline(groups, area_names: dict[str, str], *, colours: dict[str, str] | None = None,
                      since: str | None = None, until: str | None = None, lang: str = DEFAULT_LANGUAGE):
    """One row per obstacle group (the brief's first at the top, named by its kept id), a dot
    per entry at its date, coloured and shaped by area, a line from the first to the last
    time it was met; with ``since``, the period shaded, so the cases met again in it stand
    out from the earlier ones."""
    import matplotlib
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = texts(lang)
    styles = area_styles(list(area_names), colours)
    height = 2.2 + 0.62 * max(1, len(groups))
    with matplotlib.rc_context(RC):
        fig = _figure(10, height)
        ax = fig.add_subplot()
        _titles(fig, ax, t["picture_timeline"], t["picture_timeline_subtitle"])
        if not groups:
            _empty(fig, ax, t["picture_empty"])
            return fig
        used: list[str] = []
        labels = []
        for row, group in enumerate(groups):
            y = len(groups) - 1 - row
            dates = [dt.date.fromisoformat(e.date) for e in group.entries]
            ax.plot([min(dates), max(dates)], [y, y], color="#999999", linewidth=2, zorder=1,
                    solid_capstyle="round")
            last_day, last_below, last_sprint = None, False, None
            for e, day in zip(group.entries, dates, strict=True):
                colour, marker = styles.get(e.area, ("#777777", "o"))
                ax.scatter([day], [y], s=80, c=colour, marker=marker, edgecolors="#222222",
                           linewidths=0.7, zorder=3)
                if e.area not in used:
                    used.append(e.area)
                if e.sprint and e.sprint != last_sprint:
                    # close neighbours alternate above/below so their labels do not overlap
                    below = last_day is not None and (day - last_day).days < 60 and not last_below
                    ax.annotate(e.sprint, (day, y), xytext=(0, -14 if below else 8), textcoords="offset points",
                                ha="center", fontsize=7, color="#444444")
                    last_day, last_below, last_sprint = day, below, e.sprint
            name = getattr(group, "id", None) or str(row + 1)
            labels.append((y, f"{name} · " + _wrap(_shorten(group.label, 44), 26)))
        ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize=9)
        ax.set_ylim(-0.7, len(groups) - 0.3)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))  # ISO, like the dates in the brief
        ax.grid(axis="x", color="#e5e5e5")
        ax.set_axisbelow(True)
        order = [s for s in area_names if s in used] + [s for s in used if s not in area_names]
        handles = [Line2D([], [], marker=styles.get(s, ("#777777", "o"))[1], linestyle="", markersize=8,
                          markerfacecolor=styles.get(s, ("#777777", "o"))[0], markeredgecolor="#222222",
                          label=area_names.get(s, s)) for s in order]
        if since:
            first = min(dt.date.fromisoformat(e.date) for g in groups for e in g.entries)
            start = max(dt.date.fromisoformat(since), first - dt.timedelta(days=30))
            end = dt.date.fromisoformat(until) if until else dt.date.today()
            ax.axvspan(start, end, color="#e3ecf7", zorder=0)
            handles.append(Patch(facecolor="#e3ecf7", edgecolor="#9fb3cc", label=t["picture_timeline_period"]))
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), frameon=False,
                   fontsize=9)
        return fig


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0].rstrip(",") + "…"


# --- output ------------------------------------------------------------------------------------
def figure_bytes(fig, fmt: str) -> bytes:
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown picture format {fmt!r}")
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buffer, format=fmt, dpi=150 if fmt == "png" else None, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def brief_figures(brief, corpus) -> dict[str, object]:
    """The three pictures for a composed :class:`reports.brief.Brief`."""
    groups = [(o.id, [e.id for e in o.entries]) for o in brief.obstacles]
    colours = brief.area_colours
    return {
        "network": area_network(brief.matrix, brief.area_names, colours=colours, highlight=brief.areas,
                                lang=brief.lang),
        "timeline": obstacle_timeline(brief.obstacles, brief.area_names, colours=colours, since=brief.since,
                                      until=brief.until, lang=brief.lang),
        "map": lesson_map(corpus, scope=set(brief.scope_ids), area_names=brief.area_names, groups=groups,
                          colours=colours, lang=brief.lang),
    }


def write_pictures(figures: dict, out_dir: Path, formats=FORMATS) -> list[Path]:
    """Each figure as ``<out_dir>/<name>.<fmt>``, written atomically."""
    written = []
    for name, fig in figures.items():
        for fmt in formats:
            path = Path(out_dir) / f"{name}.{fmt}"
            atomic_write_bytes(path, figure_bytes(fig, fmt))
            written.append(path)
    return written


__all__ = ["lesson_map", "area_network", "obstacle_timeline", "figure_bytes", "brief_figures",
           "write_pictures", "NAMES", "FORMATS"]
