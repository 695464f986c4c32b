"""The touchpoint catalog drawn as a journey map.

Stages run left to right as columns; under each stage its top-level
touchpoints, each followed by its sub-touchpoints, indented.  Boxes can be
coloured by a per-touchpoint value: a category (coverage status) or a number
(respondents, mean score).

``journey_layout`` computes the positions (a tidy table, testable);
``journey_map`` draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cxlib.data.catalog import LANGUAGES, Catalog
from cxlib.errors import ParameterError
from cxlib.plots.labels import column_label, number_ticks

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "STATUS_COLORS", "STATUS_LABELS", "coverage_bars", "coverage_heatmap", "journey_layout",
    "journey_map",
]

#: Colours of the coverage statuses: Okabe–Ito sky blue / yellow / vermillion,
#: apart for colour-blind readers too (cxlib.plots.palette; the legend names them).
STATUS_COLORS = {"covered": "#56B4E9", "low_base": "#F0E442", "blind_spot": "#D55E00"}
#: Legend labels of the coverage statuses by language.
STATUS_LABELS = {
    "en": {"covered": "covered", "low_base": "low base", "blind_spot": "blind spot",
           "none": "no value"},
    "tr": {"covered": "yeterli", "low_base": "düşük taban", "blind_spot": "kör nokta",
           "none": "değer yok"},
    "az": {"covered": "əhatə olunub", "low_base": "az baza", "blind_spot": "kor nöqtə",
           "none": "dəyər yoxdur"},
}

_INDENT = 0.07      # horizontal indent per depth level (stage column width = 1)
_GAP = 0.06         # gap between stage columns
_HEADER_ROWS = 1.3  # rows reserved for the stage header


def journey_layout(
    catalog: Catalog,
    *,
    values: pd.DataFrame | None = None,
    color: str | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Positions of every touchpoint box on the journey map.

    Parameters
    ----------
    catalog
        The touchpoint catalog.
    values
        Optional table with ``touchpoint_id`` and the ``color`` column, at most
        one row per touchpoint (filter segments first).
    color
        Column of ``values`` to colour by.
    language
        Language of the labels (``en``, ``tr``, ``az``).

    Returns
    -------
    DataFrame
        One row per touchpoint, journey order: ``touchpoint_id``, ``label``,
        ``stage``, ``stage_label``, ``stage_order``, ``depth``, ``row``
        (0 = first line under the stage header), ``x`` (left edge of the box),
        ``width``, and ``value`` (the colour value, missing when not given).
    """
    if language not in LANGUAGES:
        raise ParameterError([f"language={language!r}: use one of {list(LANGUAGES)}"])
    f = catalog.frame
    lay = pd.DataFrame({
        "touchpoint_id": f["touchpoint_id"],
        "label": f[f"name_{language}"],
        "stage": f["stage"],
        "stage_label": [catalog.name(s, language) for s in f["stage"]],
        "stage_order": f["stage_order"],
        "depth": f["depth"],
    })
    lay["row"] = lay.groupby("stage_order").cumcount().astype("int64")
    lay["x"] = lay["stage_order"] * (1 + _GAP) + 0.02 + lay["depth"] * _INDENT
    lay["width"] = 0.96 - lay["depth"] * _INDENT
    if values is not None:
        if color is None or color not in values.columns or "touchpoint_id" not in values.columns:
            raise ParameterError([
                f"values needs columns 'touchpoint_id' and color={color!r}; "
                f"it has {list(values.columns)}"
            ])
        if values["touchpoint_id"].duplicated().any():
            raise ParameterError([
                "values has several rows per touchpoint (segments?); keep one row per "
                "touchpoint, e.g. filter to one segment first"
            ])
        v = values.set_index("touchpoint_id")[color]
        lay["value"] = lay["touchpoint_id"].map(v)
    else:
        lay["value"] = pd.Series([pd.NA] * len(lay), dtype=object)
    return lay


def journey_map(
    catalog: Catalog,
    *,
    values: pd.DataFrame | None = None,
    color: str | None = None,
    language: str = "en",
    palette: dict[str, Any] | str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the catalog as a journey map, optionally coloured by a value.

    Parameters
    ----------
    catalog
        The touchpoint catalog.
    values, color
        Optional per-touchpoint table and the column to colour by (see
        :func:`journey_layout`).  A text/categorical column (``status`` from
        :func:`cxlib.analysis.coverage.coverage`) gets discrete colours and a legend; a
        numeric column gets a sequential colour map and a colour bar.
        Touchpoints without a value are drawn hatched grey.
    language
        Language of every label (``en``, ``tr``, ``az``).
    palette
        Category -> colour mapping, or a seaborn palette / colormap name.
        Default: :data:`STATUS_COLORS` for coverage statuses, seaborn ``"crest"``
        for numbers.
    title
        Axes title (default: the catalog's name).
    ax
        Axes to draw on; a new figure sized to the catalog when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.colors import Normalize, to_rgb
    from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

    lay = journey_layout(catalog, values=values, color=color, language=language)
    n_stages = len(catalog.stages)
    n_rows = int(lay["row"].max()) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(4.3 * n_stages, 0.3 * (n_rows + _HEADER_ROWS) + 0.8))

    # colours
    has_values = values is not None
    vals = lay["value"]
    present = vals.notna()
    numeric = (has_values and pd.api.types.is_numeric_dtype(values[color])
               and not pd.api.types.is_bool_dtype(values[color]))
    legend_handles: list[Any] = []
    labels = STATUS_LABELS[language]
    if not has_values:
        fills = [sns.light_palette("#5b7fa6", 4)[min(2, 2 - int(d))] for d in lay["depth"]]
    elif numeric:
        num = pd.to_numeric(vals, errors="coerce")
        cmap = sns.color_palette(palette if isinstance(palette, str) else "crest", as_cmap=True)
        lo, hi = float(num.min()), float(num.max())
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        fills = [cmap(norm(x)) if pd.notna(x) else "#eeeeee" for x in num]
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        cb = ax.figure.colorbar(sm, ax=ax, fraction=0.025, pad=0.01)
        cb.set_label(str(color))
    else:
        cats = [c for c in (values[color].cat.categories
                            if isinstance(values[color].dtype, pd.CategoricalDtype)
                            else pd.unique(values[color].dropna()))]
        if isinstance(palette, dict):
            pal = dict(palette)
        elif set(cats) <= set(STATUS_COLORS) and palette is None:
            pal = dict(STATUS_COLORS)
        else:
            pal = dict(zip(cats, sns.color_palette(palette or "Set2", len(cats)), strict=True))
        fills = [pal.get(x, "#eeeeee") if pd.notna(x) else "#eeeeee" for x in vals]
        legend_handles = [Patch(facecolor=pal[c], edgecolor="#555555", label=labels.get(c, c))
                          for c in cats if c in pal]
    if has_values and (~present).any():
        legend_handles.append(Patch(facecolor="#eeeeee", edgecolor="#999999", hatch="///",
                                    label=labels["none"]))

    # stage bands and headers
    for i, sid in enumerate(catalog.stages):
        x0 = i * (1 + _GAP)
        ax.add_patch(Rectangle((x0, -_HEADER_ROWS - 0.1), 1, n_rows + _HEADER_ROWS + 0.2,
                               facecolor="#f3f4f6", edgecolor="none", zorder=0))
        ax.text(x0 + 0.5, -_HEADER_ROWS / 2 - 0.2, catalog.name(sid, language), ha="center",
                va="center", fontsize=11, fontweight="bold", zorder=3)
        if i < n_stages - 1:
            ax.annotate("", xy=(x0 + 1 + _GAP, -_HEADER_ROWS / 2 - 0.2),
                        xytext=(x0 + 1, -_HEADER_ROWS / 2 - 0.2),
                        arrowprops={"arrowstyle": "->", "color": "#888888"})

    # touchpoint boxes
    for (_, r), fill, has in zip(lay.iterrows(), fills, present, strict=True):
        box = FancyBboxPatch(
            (r["x"], r["row"] - 0.4), r["width"], 0.8,
            boxstyle="round,pad=0,rounding_size=0.12", facecolor=fill,
            edgecolor="#555555" if r["depth"] == 0 else "#999999",
            linewidth=0.8 if r["depth"] == 0 else 0.5,
            hatch="///" if (has_values and not has) else None, zorder=2,
            mutation_aspect=1 / 0.3,
        )
        ax.add_patch(box)
        rgb = to_rgb(fill)
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.5
        text = r["label"] if len(r["label"]) <= 48 else r["label"][:46] + "…"
        ax.text(r["x"] + 0.025, r["row"], text, ha="left", va="center",
                fontsize=8.5 if r["depth"] == 0 else 7.5,
                fontweight="bold" if r["depth"] == 0 else "normal",
                color="white" if dark else "#222222", zorder=3)

    ax.set_xlim(-0.02, n_stages * (1 + _GAP) - _GAP + 0.02)
    ax.set_ylim(n_rows - 0.4, -_HEADER_ROWS - 0.15)
    ax.set_axis_off()
    ax.set_title(title if title is not None else catalog.names.get(language, catalog.catalog_id),
                 fontsize=13, loc="left")
    if legend_handles:
        ax.legend(handles=legend_handles, loc="upper left", bbox_to_anchor=(0, 0), ncol=4,
                  frameon=False, fontsize=9)
    return ax


def coverage_bars(
    cov: pd.DataFrame,
    *,
    min_base: int | None = None,
    count: str = "n_respondents_all",
    palette: dict[str, Any] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of respondents per touchpoint, coloured by coverage status.

    Parameters
    ----------
    cov
        Output of :func:`cxlib.analysis.coverage.coverage` (one row per touchpoint: no ``by``).
    min_base
        Draw the minimum base as a dashed line (None: no line).
    count
        Count column to draw (``n_respondents_all`` or ``n_respondents``).
    palette
        Status -> colour (default :data:`STATUS_COLORS`).
    language
        Language of the legend (the ``name`` column is already in a language).
    ax
        Axes to draw on; a new figure sized to the number of touchpoints when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if cov["touchpoint_id"].duplicated().any():
        raise ParameterError(["coverage_bars: one row per touchpoint (compute coverage "
                              "without by=, or filter to one segment)"])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.2 * len(cov) + 1))
    labels = STATUS_LABELS[language if language in STATUS_LABELS else "en"]
    pal = dict(palette or STATUS_COLORS)
    status = cov["status"].astype(str).tolist()
    y = list(range(len(cov)))
    colors = [pal.get(st, "#999999") for st in status]
    ax.barh(y, cov[count], color=colors, edgecolor="none", height=0.75)
    # a blind spot has no bar: mark it at zero so it is seen, not missed
    blind = [i for i, st in enumerate(status) if st == "blind_spot"]
    ax.scatter([0] * len(blind), blind, marker="x", color=pal.get("blind_spot", "#D55E00"),
               s=18, zorder=3, clip_on=False)
    # names indented by depth, so sub-touchpoints read under their parent
    ax.set_yticks(y, ["   " * int(d) + str(n)
                      for d, n in zip(cov["depth"], cov["name"], strict=True)],
                  fontsize=7.5, ha="left")
    ax.tick_params(axis="y", pad=max(len(str(n)) + 3 * int(d)
                                     for d, n in zip(cov["depth"], cov["name"], strict=True)) * 4.2)
    ax.set_ylim(len(cov) - 0.5, -0.5)
    if min_base is not None:
        ax.axvline(min_base, color="#555555", linestyle="--", linewidth=1)
    stage_change = cov["stage"].ne(cov["stage"].shift()).to_numpy().nonzero()[0]
    for i in stage_change[1:]:  # a thin rule between journey stages
        ax.axhline(i - 0.5, color="#bbbbbb", linewidth=0.8)
    ax.set_xlabel(column_label(count, language))
    number_ticks(ax.xaxis, language, 0)
    present = [st for st in pal if st in set(status)]
    # outside the axes (right, top): never over a bar
    ax.legend(handles=[Patch(color=pal[st], label=labels.get(st, st)) for st in present],
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    sns_despine(ax)
    return ax


def sns_despine(ax: Axes) -> None:
    """Remove the top and right spines (seaborn's despine on one Axes)."""
    import seaborn as sns

    sns.despine(ax=ax)


def coverage_heatmap(
    cov: pd.DataFrame,
    *,
    by: str,
    count: str = "n_respondents_all",
    palette: dict[str, Any] | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Touchpoints (rows, journey order) x segments (columns): cells coloured by
    coverage status and annotated with the respondent count.

    Parameters
    ----------
    cov
        Output of :func:`cxlib.analysis.coverage.coverage` with ``by=[by]``.
    by
        The segment column.
    count
        Count column printed in the cells.
    palette
        Status -> colour (default :data:`STATUS_COLORS`).
    language
        Language of the legend.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if by not in cov.columns:
        raise ParameterError([f"coverage_heatmap: column {by!r} not in the coverage table; "
                              "compute coverage(..., by=[by]) first"])
    pal = dict(palette or STATUS_COLORS)
    statuses = list(STATUS_COLORS)
    order = cov.drop_duplicates("touchpoint_id")
    code = cov.assign(_code=cov["status"].astype(str).map(statuses.index))
    grid = code.pivot(index="touchpoint_id", columns=by, values="_code").reindex(
        order["touchpoint_id"])
    counts = cov.pivot(index="touchpoint_id", columns=by, values=count).reindex(
        order["touchpoint_id"])
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.55 * grid.shape[1], 0.2 * len(grid) + 1.2))
    sns.heatmap(grid, ax=ax, cmap=ListedColormap([pal[s] for s in statuses]), vmin=-0.5,
                vmax=len(statuses) - 0.5, cbar=False, annot=counts, fmt="d",
                annot_kws={"fontsize": 6.5}, linewidths=0.4, linecolor="white")
    ax.set_yticks([i + 0.5 for i in range(len(order))],
                  ["   " * int(d) + str(n) for d, n in zip(order["depth"], order["name"],
                                                          strict=True)],
                  fontsize=7.5)
    ax.set_ylabel("")
    ax.set_xlabel(column_label(by, language))
    ax.tick_params(axis="x", labelsize=8, rotation=90)
    labels = STATUS_LABELS[language if language in STATUS_LABELS else "en"]
    present = [s for s in statuses if s in set(cov["status"].astype(str))]
    ax.legend(handles=[Patch(color=pal[s], label=labels[s]) for s in present],
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return ax
