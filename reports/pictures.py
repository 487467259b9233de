"""Pictures for learning sessions (matplotlib, Agg, no pyplot state): the map of lessons,
the synergy heatmap and the obstacle timeline, as PNG or SVG bytes.

* Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies), and a
  second cue besides colour (marker shape per area in the timeline, per type in the map).
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
from kb.core.texts import DEFAULT_LANGUAGE, texts

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
AREA_MARKERS = ["o", "s", "D", "P", "X", "p", "h", "*"]  # no triangles: the map uses them for obstacles
OUT_OF_SCOPE = "#c8c8c8"
NAMES = ("map", "heatmap", "timeline")
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


def area_styles(slugs: list[str]) -> dict[str, tuple[str, str]]:
    """Area slug -> (colour, marker), in kb.toml order; marker changes when colours repeat."""
    return {s: (OKABE_ITO[k % len(OKABE_ITO)], AREA_MARKERS[(k // len(OKABE_ITO) + k) % len(AREA_MARKERS)])
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
               groups: list[tuple[str | None, list[str]]] | None = None, lang: str = DEFAULT_LANGUAGE):
    """Entries in 2-D (PCA of the language-centred entry vectors), coloured by area;
    obstacles as triangles; entries outside ``scope`` in grey; the members of each obstacle
    group in ``groups`` ((kept id, entry ids)) joined and marked with the group's id, as the
    brief names it."""
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
        styles = area_styles(slugs)
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
        share = pca.explained_variance_ratio_ * 100
        ax.set_xlabel(t["picture_map_axis"].format(k=1, share=share[0]))
        ax.set_ylabel(t["picture_map_axis"].format(k=2, share=share[1]))
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


def synergy_heatmap(matrix: dict[str, dict[str, int]], area_names: dict[str, str], *,
                    highlight=(), lang: str = DEFAULT_LANGUAGE):
    """Area x area counts of strong links; numbers in the cells; the chosen areas in bold."""
    import matplotlib

    t = texts(lang)
    slugs = [s for s in area_names if s in matrix] or list(matrix)
    with matplotlib.rc_context(RC):
        fig = _figure(8.4, 7)
        ax = fig.add_subplot()
        _titles(fig, ax, t["picture_heatmap"], t["picture_heatmap_subtitle"])
        if not slugs:
            _empty(fig, ax, t["picture_empty"])
            return fig
        values = np.array([[matrix.get(a, {}).get(b, 0) for b in slugs] for a in slugs], dtype=float)
        top = max(1.0, float(values.max()))
        image = ax.imshow(values, cmap="cividis", vmin=0, vmax=top)
        labels = [_wrap(area_names.get(s, s), 18) for s in slugs]
        ax.set_xticks(range(len(slugs)), labels, rotation=35, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(slugs)), labels)
        for tick_x, tick_y, slug in zip(ax.get_xticklabels(), ax.get_yticklabels(), slugs, strict=True):
            if slug in highlight:
                tick_x.set_fontweight("bold")
                tick_y.set_fontweight("bold")
        for i in range(len(slugs)):
            for j in range(len(slugs)):
                value = int(values[i, j])
                colour = "black" if value > top * 0.55 else "white"
                ax.text(j, i, str(value), ha="center", va="center", color=colour, fontsize=10,
                        fontweight="bold" if i != j else "normal", fontstyle="italic" if i == j else "normal")
        from matplotlib.patches import Rectangle

        for k in range(len(slugs)):  # within-area cells framed: they are not synergies
            ax.add_patch(Rectangle((k - 0.5, k - 0.5), 1, 1, fill=False, hatch="//", edgecolor="#ffffff80",
                                   linewidth=0))
        ax.set_xticks(np.arange(len(slugs) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(slugs) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        colourbar = fig.colorbar(image, ax=ax, shrink=0.75)
        colourbar.set_label(t["picture_heatmap_links"])
        return fig


def obstacle_timeline(groups, area_names: dict[str, str], *, lang: str = DEFAULT_LANGUAGE):
    """One row per obstacle group (the brief's first at the top, named by its kept id), a dot
    per entry at its date, coloured and shaped by area, a line from the first to the last
    time it was met."""
    import matplotlib
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    t = texts(lang)
    styles = area_styles(list(area_names))
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
    """The three pictures for a composed :class:`search.brief.Brief`."""
    groups = [(o.id, [e.id for e in o.entries]) for o in brief.obstacles]
    return {
        "map": lesson_map(corpus, scope=set(brief.scope_ids), area_names=brief.area_names, groups=groups,
                          lang=brief.lang),
        "heatmap": synergy_heatmap(brief.matrix, brief.area_names, highlight=brief.areas, lang=brief.lang),
        "timeline": obstacle_timeline(brief.obstacles, brief.area_names, lang=brief.lang),
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


__all__ = ["lesson_map", "synergy_heatmap", "obstacle_timeline", "figure_bytes", "brief_figures",
           "write_pictures", "NAMES", "FORMATS"]
