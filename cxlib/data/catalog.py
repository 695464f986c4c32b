"""The touchpoint catalog: every place a customer meets the company.

A catalog is a YAML file in ``data/touchpoints/`` (``config.CATALOG_DIR``)::

    catalog: retail
    names: {en: Retail company, tr: Perakende şirketi, az: Pərakəndə şirkəti}
    stages:            # journey order, left to right (optional: default below)
      - {id: pre_sale,  names: {en: Before the sale, tr: Satış öncesi, az: Satışdan əvvəl}}
      - {id: sale,      names: {en: During the sale, tr: Satış sırasında, az: Satış zamanı}}
      - {id: post_sale, names: {en: After the sale, tr: Satış sonrası, az: Satışdan sonra}}
    touchpoints:
      - {id: store, names: {en: Store, tr: Mağaza, az: Mağaza},
         stage: sale, parent: null, channel: physical, owner: own}
      - {id: store_cleanliness, names: {en: Cleanliness, tr: Temizlik, az: Təmizlik},
         stage: sale, parent: store, channel: physical, owner: own}

Rules the loader enforces (each broken rule is one line of a :class:`CatalogError`
naming the file and the touchpoint):

* ``id``: snake_case (``[a-z][a-z0-9_]*``), unique, not a stage id and not the
  reserved ``"journey"`` (a whole-journey question in the responses).
* ``names``: a non-empty ``en`` name (catalog, stages, touchpoints); ``tr`` and ``az``
  may be left out: the English name is used and one :class:`UntranslatedNamesWarning`
  per load lists everything still to translate.
* ``stage``: one of the catalog's stages.  A sub-touchpoint **must lie in its
  parent's stage**; it may omit ``stage`` and inherit it.  Rationale: a
  roll-up to stage must count each answer once, and the journey map draws a
  sub-touchpoint under its parent.  A concept met in two stages (the customer
  service centre before and after the sale) gets one id per stage.
* ``parent``: null or the id of another touchpoint; no cycles; any depth.
* ``owner``: ``own`` (default) or ``partner``.  A partner's touchpoint (an ad
  agency, a ground handler) is still charged to the brand: it stays in every
  roll-up, the column only says who must fix it.
* ``channel``: free text (``physical``, ``digital``, ``phone``...), optional.
* no other keys (a typo such as ``parnet`` is an error, not silently ignored).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config
from cxlib.errors import CatalogError, DataError
from cxlib.i18n import LANGUAGES  # one definition, in i18n; re-exported here
from cxlib.io import read_yaml

__all__ = [
    "DEFAULT_STAGES",
    "JOURNEY_ID",
    "LANGUAGES",
    "OWNERS",
    "Catalog",
    "UntranslatedNamesWarning",
    "load_catalog",
    "rollup",
]

#: Allowed owners of a touchpoint.
OWNERS: tuple[str, ...] = ("own", "partner")
#: Reserved touchpoint id of a whole-journey question (overall satisfaction, NPS).
JOURNEY_ID = "journey"
JOURNEY_NAMES = {"en": "Whole journey", "tr": "Yolculuğun tamamı", "az": "Bütün müştəri səyahəti"}

#: Stages used when a catalog does not declare its own.
DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"id": "pre_sale", "names": {"en": "Before the sale", "tr": "Satış öncesi",
                                 "az": "Satışdan əvvəl"}},
    {"id": "sale", "names": {"en": "During the sale", "tr": "Satış sırasında",
                             "az": "Satış zamanı"}},
    {"id": "post_sale", "names": {"en": "After the sale", "tr": "Satış sonrası",
                                  "az": "Satışdan sonra"}},
)

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TP_KEYS = {"id", "names", "stage", "parent", "channel", "owner", "description"}
_TOP_KEYS = {"catalog", "names", "stages", "touchpoints", "description"}

FRAME_COLUMNS = [
    "touchpoint_id", "name_en", "name_tr", "name_az", "stage", "stage_order",
    "parent", "depth", "channel", "owner", "is_leaf", "top_level_id",
]


@dataclass(frozen=True, eq=False)
class Catalog:
    """A validated touchpoint catalog (build it with :func:`load_catalog`).

    Attributes
    ----------
    catalog_id : str
        Short name (``"retail"``); display names via ``names`` or ``name(catalog_id)``.
    names : dict
        The catalog's display names by language.
    stages : tuple of str
        Stage ids in journey order.
    frame : DataFrame
        One row per touchpoint in journey order (stage, then depth-first: a parent
        is followed by its sub-touchpoints), columns:

        - ``touchpoint_id``: the id.
        - ``name_en``, ``name_tr``, ``name_az``: display names.
        - ``stage``: stage id; ``stage_order``: 0-based position of the stage.
        - ``parent``: parent id, missing for a top-level touchpoint.
        - ``depth``: 0 for top level, 1 for its sub-touchpoints, ...
        - ``channel``: as declared (missing when not given).
        - ``owner``: ``"own"`` or ``"partner"``.
        - ``is_leaf``: True when the touchpoint has no sub-touchpoints.
        - ``top_level_id``: the top-level touchpoint it belongs to (itself at depth 0).
    path : Path or None
        The YAML file it was read from.
    """

    catalog_id: str
    names: dict[str, str]
    stages: tuple[str, ...]
    stage_names: dict[str, dict[str, str]]
    _frame: pd.DataFrame = field(repr=False)
    path: Path | None = None
    _parent: dict[str, str | None] = field(default_factory=dict, repr=False)
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ basics
    @property
    def frame(self) -> pd.DataFrame:
        """The touchpoint table (a copy: catalogs are cached and shared)."""
        return self._frame.copy()

    @property
    def ids(self) -> list[str]:
        """All touchpoint ids in journey order."""
        return self._frame["touchpoint_id"].tolist()

    def __len__(self) -> int:
        return len(self._frame)

    def __contains__(self, tp_id: object) -> bool:
        return tp_id in self._parent

    def __repr__(self) -> str:
        return (f"Catalog({self.catalog_id!r}, {len(self)} touchpoints, "
                f"stages={list(self.stages)}, path={str(self.path) if self.path else None!r})")

    def name(self, tp_id: str, lang: str = "en") -> str:
        """Display name of a touchpoint, a stage, ``"journey"`` or the catalog itself.

        Raises
        ------
        CatalogError
            Unknown id (with the closest known ids) or unsupported language.
        """
        _check_lang(lang)
        if tp_id in self._parent:
            row = self._frame.loc[self._frame["touchpoint_id"] == tp_id].iloc[0]
            return str(row[f"name_{lang}"])
        if tp_id in self.stage_names:
            return self.stage_names[tp_id][lang]
        if tp_id == JOURNEY_ID:
            return JOURNEY_NAMES[lang]
        if tp_id == self.catalog_id:
            return self.names[lang]
        raise CatalogError(self._unknown(tp_id))

    def stage_of(self, tp_id: str) -> str:
        """The stage id of a touchpoint."""
        self._require(tp_id)
        return str(self._frame.loc[self._frame["touchpoint_id"] == tp_id, "stage"].iloc[0])

    def parent(self, tp_id: str) -> str | None:
        """The parent id of a touchpoint (None at top level)."""
        self._require(tp_id)
        return self._parent[tp_id]

    # ------------------------------------------------------------------ walking
    def children(self, tp_id: str) -> list[str]:
        """Direct sub-touchpoints of ``tp_id``, in catalog order."""
        self._require(tp_id)
        return list(self._children.get(tp_id, []))

    def descendants(self, tp_id: str) -> list[str]:
        """All sub-touchpoints below ``tp_id`` at any depth (depth-first, itself excluded)."""
        self._require(tp_id)
        out: list[str] = []
        stack = list(reversed(self._children.get(tp_id, [])))
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(reversed(self._children.get(cur, [])))
        return out

    def ancestors(self, tp_id: str) -> list[str]:
        """Ancestors of ``tp_id``: parent first, up to the top-level touchpoint."""
        self._require(tp_id)
        out: list[str] = []
        cur = self._parent[tp_id]
        while cur is not None:
            out.append(cur)
            cur = self._parent[cur]
        return out

    def top_level(self) -> list[str]:
        """Top-level touchpoints (no parent), in journey order."""
        return self._frame.loc[self._frame["depth"] == 0, "touchpoint_id"].tolist()

    def leaves(self) -> list[str]:
        """Touchpoints without sub-touchpoints, in journey order."""
        return self._frame.loc[self._frame["is_leaf"], "touchpoint_id"].tolist()

    def by_stage(self, stage: str, *, top_only: bool = False) -> list[str]:
        """Touchpoint ids of one stage in journey order (sub-touchpoints included
        unless ``top_only``)."""
        if stage not in self.stage_names:
            raise CatalogError(
                f"unknown stage {stage!r} in catalog {self.catalog_id!r}; "
                f"stages are {list(self.stages)}"
            )
        sel = self._frame["stage"] == stage
        if top_only:
            sel &= self._frame["depth"] == 0
        return self._frame.loc[sel, "touchpoint_id"].tolist()

    def ancestry(self) -> pd.DataFrame:
        """Every (touchpoint, ancestor) pair, for rolling answers up to parents.

        Returns
        -------
        DataFrame
            - ``touchpoint_id``: a touchpoint.
            - ``ancestor_id``: the touchpoint itself (level 0) or one of its ancestors.
            - ``level``: 0 for itself, 1 for its parent, 2 for the grandparent, ...

        Notes
        -----
        Joining answers on ``touchpoint_id`` and grouping by ``ancestor_id``
        aggregates each touchpoint together with all its descendants.
        """
        rows = []
        for tp in self.ids:
            rows.append((tp, tp, 0))
            for level, anc in enumerate(self.ancestors(tp), start=1):
                rows.append((tp, anc, level))
        return pd.DataFrame(rows, columns=["touchpoint_id", "ancestor_id", "level"])

    def check_ids(self, ids: Iterable[Any], *, source: str | None = None,
                  allow_journey: bool = True) -> None:
        """Raise :class:`CatalogError` if any id is not a touchpoint of this catalog.

        ``"journey"`` is accepted unless ``allow_journey`` is False.
        """
        known = set(self._parent) | ({JOURNEY_ID} if allow_journey else set())
        values = ids.unique() if isinstance(ids, pd.Series) else pd.unique(
            pd.Series(list(ids), dtype=object))
        unknown = sorted({str(i) for i in values if not pd.isna(i)} - known)
        if unknown:
            where = f" in {source}" if source else ""
            raise CatalogError(
                f"{len(unknown)} touchpoint id(s){where} not in catalog {self.catalog_id!r} "
                f"({self.path}): {unknown[:10]}. Fix the ids in the data or mapping, or add "
                f"them to the catalog YAML."
            )

    def rollup(self, frame: pd.DataFrame, *, value: str, weight: str | None = None,
               to: str = "parent", by: Sequence[str] | None = None) -> pd.DataFrame:
        """Weighted-mean roll-up of a per-touchpoint table; see :func:`rollup`."""
        return rollup(frame, catalog=self, value=value, weight=weight, to=to, by=by)

    # ------------------------------------------------------------------ helpers
    def _require(self, tp_id: str) -> None:
        if tp_id not in self._parent:
            raise CatalogError(self._unknown(tp_id))

    def _unknown(self, tp_id: Any) -> str:
        close = difflib.get_close_matches(str(tp_id), self.ids, n=3)
        hint = f" Did you mean {close}?" if close else ""
        return (f"unknown touchpoint id {tp_id!r} in catalog {self.catalog_id!r} "
                f"({self.path}).{hint}")


# ---------------------------------------------------------------------- loading
def load_catalog(name_or_path: str | Path) -> Catalog:
    """Read and validate a touchpoint catalog.

    Parameters
    ----------
    name_or_path
        A short name (``"retail"``, ``"airline"``: ``data/touchpoints/<name>.yml``)
        or the path of a YAML file.

    Returns
    -------
    Catalog
        The validated catalog; see :class:`Catalog` for ``frame``'s columns.

    Raises
    ------
    CatalogError
        The file is missing or unreadable, or breaks one or more rules of the
        module docstring; every problem is listed, each naming the file and
        the touchpoint.
    """
    path = _resolve(name_or_path)
    return _load_cached(str(path), path.stat().st_mtime_ns)


def _resolve(name_or_path: str | Path) -> Path:
    s = str(name_or_path)
    if isinstance(name_or_path, Path) or s.endswith((".yml", ".yaml")) or "/" in s or "\\" in s:
        path = Path(name_or_path)
    else:
        path = config.catalog_path(s)
    if not path.exists():
        known = sorted(p.stem for p in config.CATALOG_DIR.glob("*.yml"))
        raise CatalogError(
            f"touchpoint catalog {s!r} not found at {path}; give a path to a YAML file "
            f"or one of the shipped catalogs {known}"
        )
    return path


@lru_cache(maxsize=16)
def _load_cached(path_str: str, _mtime_ns: int) -> Catalog:
    path = Path(path_str)
    try:  # no YAML aliases (a few hundred bytes of them expand to gigabytes)
        raw = read_yaml(path, what="touchpoint catalog")
    except DataError as exc:
        raise CatalogError(f"{path}: cannot read the catalog YAML: {exc}") from exc
    return _build(raw, path)


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise CatalogError(f"unsupported language {lang!r}; use one of {list(LANGUAGES)}")


class UntranslatedNamesWarning(UserWarning):
    """Catalog names missing in some languages; the English name is shown instead."""


def _names_problems(names: Any, what: str, untranslated: list[str] | None = None) -> list[str]:
    if not isinstance(names, dict):
        return [f"{what}: 'names' must be a mapping with {list(LANGUAGES)} names, got {names!r}"]
    out = []
    missing = [lang for lang in LANGUAGES
               if not isinstance(names.get(lang), str) or not names[lang].strip()]
    if missing and untranslated is not None and "en" not in missing:
        for lang in missing:  # the English name stands in; one warning lists them all
            names[lang] = names["en"]
        untranslated.append(f"{what} ({', '.join(missing)})")
    elif missing:
        out.append(f"{what}: missing name in {missing} (give non-empty names in en, tr and az; "
                   "tr and az may be left out, en may not)")
    extra = [k for k in names if k not in LANGUAGES]
    if extra:
        out.append(f"{what}: unexpected key(s) {extra} in names (only {list(LANGUAGES)}); "
                   "a name holding a comma must be quoted in a YAML {...} mapping")
    return out


def _build(raw: Any, path: Path) -> Catalog:
    def fail(problems: list[str]) -> CatalogError:
        head = f"{len(problems)} problem(s) in touchpoint catalog {path}:"
        return CatalogError(head + "\n" + "\n".join(f"- {p}" for p in problems))

    if not isinstance(raw, dict):
        raise fail(["the file must be a mapping with keys 'catalog', 'names', 'stages', "
                    "'touchpoints'"])
    problems: list[str] = []
    extra = set(raw) - _TOP_KEYS
    if extra:
        problems.append(f"unknown top-level key(s) {sorted(extra)}; allowed: {sorted(_TOP_KEYS)}")
    cat_name = raw.get("catalog") or path.stem
    if not isinstance(cat_name, str):
        problems.append(f"'catalog' must be a short name string, got {cat_name!r}")
        cat_name = path.stem
    cat_names = raw.get("names") or {lang: cat_name for lang in LANGUAGES}
    untranslated: list[str] = []
    problems += _names_problems(cat_names, "catalog", untranslated)

    # ---- stages
    stages_raw = raw.get("stages")
    if stages_raw is None:
        stages_raw = [dict(s) for s in DEFAULT_STAGES]
    if not isinstance(stages_raw, list) or not stages_raw:
        raise fail([*problems, "'stages' must be a non-empty list of {id, names}"])
    stage_ids: list[str] = []
    stage_names: dict[str, dict[str, str]] = {}
    for i, st in enumerate(stages_raw):
        if not isinstance(st, dict) or not isinstance(st.get("id"), str):
            problems.append(f"stage #{i + 1}: must be a mapping with an 'id' string, got {st!r}")
            continue
        sid = st["id"]
        if sid in stage_names:
            problems.append(f"stage {sid!r}: duplicate stage id")
            continue
        if not _ID_RE.match(sid):
            problems.append(f"stage {sid!r}: id must be snake_case ([a-z][a-z0-9_]*)")
        problems += _names_problems(st.get("names"), f"stage {sid!r}", untranslated)
        stage_ids.append(sid)
        stage_names[sid] = dict(st.get("names") or {})

    # ---- touchpoints: per-item rules
    tps_raw = raw.get("touchpoints")
    if not isinstance(tps_raw, list) or not tps_raw:
        raise fail([*problems, "'touchpoints' must be a non-empty list"])
    items: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for i, tp in enumerate(tps_raw):
        if not isinstance(tp, dict):
            problems.append(f"touchpoint #{i + 1}: must be a mapping, got {tp!r}")
            continue
        tid = tp.get("id")
        if not isinstance(tid, str) or not tid:
            problems.append(f"touchpoint #{i + 1}: missing 'id' (names: {tp.get('names')!r})")
            continue
        what = f"touchpoint {tid!r}"
        if tid in items:
            problems.append(f"{what}: duplicate id (touchpoint #{i + 1}); ids must be unique")
            continue
        if not _ID_RE.match(tid):
            problems.append(f"{what}: id must be snake_case ([a-z][a-z0-9_]*)")
        if tid == JOURNEY_ID or tid in stage_names:
            problems.append(f"{what}: id is reserved (the whole journey or a stage id)")
        extra = set(tp) - _TP_KEYS
        if extra:
            problems.append(f"{what}: unknown key(s) {sorted(extra)}; allowed: {sorted(_TP_KEYS)}")
        problems += _names_problems(tp.get("names"), what, untranslated)
        owner = tp.get("owner", "own")
        if owner not in OWNERS:
            problems.append(f"{what}: unknown owner {owner!r}; use one of {list(OWNERS)}")
        stage = tp.get("stage")
        if stage is not None and stage not in stage_names:
            problems.append(f"{what}: unknown stage {stage!r}; stages are {stage_ids}")
        channel = tp.get("channel")
        if channel is not None and not isinstance(channel, str):
            problems.append(f"{what}: channel must be a string, got {channel!r}")
        parent = tp.get("parent")
        if parent is not None and not isinstance(parent, str):
            problems.append(f"{what}: parent must be a touchpoint id or null, got {parent!r}")
            parent = None
        items[tid] = {"names": tp.get("names") or {}, "stage": stage, "parent": parent,
                      "channel": channel, "owner": owner}
        order.append(tid)

    # ---- tree rules: unknown parent, cycles, stages
    for tid in order:
        par = items[tid]["parent"]
        if par is not None and par not in items:
            close = difflib.get_close_matches(par, order, n=3)
            hint = f" (did you mean {close}?)" if close else ""
            problems.append(f"touchpoint {tid!r}: unknown parent {par!r}{hint}")
            items[tid]["parent"] = None
            items[tid]["_bad_parent"] = True
    in_cycle: set[str] = set()
    for tid in order:
        seen = [tid]
        cur = items[tid]["parent"]
        while cur is not None:
            if cur in seen:
                cyc = [*seen[seen.index(cur):], cur]
                if not set(cyc) & in_cycle:
                    problems.append(
                        f"touchpoint {tid!r}: parent cycle {' -> '.join(cyc)}; "
                        "a touchpoint cannot be its own ancestor"
                    )
                in_cycle.update(cyc)
                break
            seen.append(cur)
            cur = items[cur]["parent"]
    if not in_cycle:
        for tid in order:  # parents before children: resolve inherited stages top-down
            _resolve_stage(tid, items, problems)
    if problems:
        raise fail(problems)
    if untranslated:
        import warnings

        warnings.warn(
            f"touchpoint catalog {path}: {len(untranslated)} name(s) shown in English in "
            f"other languages; to translate: {'; '.join(untranslated)}",
            UntranslatedNamesWarning, stacklevel=4)

    # ---- frame in journey order
    children: dict[str, list[str]] = {}
    for tid in order:
        par = items[tid]["parent"]
        if par is not None:
            children.setdefault(par, []).append(tid)
    rows: list[dict[str, Any]] = []

    def visit(tid: str, depth: int, top: str) -> None:
        it = items[tid]
        rows.append({
            "touchpoint_id": tid,
            **{f"name_{lang}": str(it["names"][lang]).strip() for lang in LANGUAGES},
            "stage": it["stage"], "stage_order": stage_ids.index(it["stage"]),
            "parent": it["parent"], "depth": depth, "channel": it["channel"],
            "owner": it["owner"], "is_leaf": tid not in children, "top_level_id": top,
        })
        for ch in children.get(tid, []):
            visit(ch, depth + 1, top)

    for sid in stage_ids:
        for tid in order:
            if items[tid]["parent"] is None and items[tid]["stage"] == sid:
                visit(tid, 0, tid)
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    frame["depth"] = frame["depth"].astype("int64")
    frame["stage_order"] = frame["stage_order"].astype("int64")
    frame["is_leaf"] = frame["is_leaf"].astype(bool)
    return Catalog(
        catalog_id=cat_name, names={k: str(v) for k, v in dict(cat_names).items()},
        stages=tuple(stage_ids), stage_names=stage_names, _frame=frame, path=path,
        _parent={t: items[t]["parent"] for t in order}, _children=children,
    )


def _resolve_stage(tid: str, items: dict[str, dict[str, Any]], problems: list[str]) -> Any:
    it = items[tid]
    if it.get("_stage_done"):
        return it["stage"]
    it["_stage_done"] = True
    par = it["parent"]
    if par is None:
        if it["stage"] is None and not it.get("_bad_parent"):
            problems.append(f"touchpoint {tid!r}: missing stage (a top-level touchpoint "
                            "must name its stage)")
        return it["stage"]
    par_stage = _resolve_stage(par, items, problems)
    if it["stage"] is None:
        it["stage"] = par_stage
    elif par_stage is not None and it["stage"] != par_stage:
        problems.append(
            f"touchpoint {tid!r}: stage {it['stage']!r} differs from its parent {par!r} "
            f"(stage {par_stage!r}); a sub-touchpoint lies in its parent's stage -- give the "
            "concept a separate top-level id in that stage instead"
        )
    return it["stage"]


# ---------------------------------------------------------------------- roll-up
def rollup(frame: pd.DataFrame, *, catalog: Catalog, value: str, weight: str | None = None,
           to: str = "parent", by: Sequence[str] | None = None) -> pd.DataFrame:
    """Roll a per-touchpoint score table up to parents or stages (weighted mean).

    Parameters
    ----------
    frame
        Tidy table with ``touchpoint_id``, the ``value`` column, optionally a
        ``weight`` column (e.g. the base n of each mean) and segment columns in
        ``by``.  Rows for ``"journey"`` are ignored; other unknown ids raise.
        Rows with a missing value are skipped.
    catalog
        The catalog the ids belong to.
    value
        Column holding the score to roll up (a mean, a top-2-box share...).
    weight
        Column of non-negative weights; None weighs every row equally.
    to
        ``"parent"``: one row per touchpoint that has a value at itself or at
        any descendant, combining the touchpoint's own row with all its
        descendants' rows.  ``"stage"``: one row per stage, combining every
        touchpoint row of the stage (each row once, at whatever depth).
    by
        Segment columns to keep (the roll-up runs within each combination).

    Returns
    -------
    DataFrame
        For ``to="parent"``: ``touchpoint_id``, ``stage``, ``depth``, the ``by``
        columns, ``value`` (rolled-up weighted mean, same column name),
        ``weight_sum`` (sum of weights combined), ``n_parts`` (rows combined),
        ``has_own`` (the touchpoint had its own row).  For ``to="stage"``:
        ``stage``, ``stage_order``, the ``by`` columns, ``value``,
        ``weight_sum``, ``n_parts``.  Journey order.

    Notes
    -----
    For a node :math:`p` with the set :math:`D(p)` of itself and its
    descendants present in ``frame``,

    .. math:: \\bar x_p = \\frac{\\sum_{i\\in D(p)} w_i x_i}{\\sum_{i\\in D(p)} w_i}

    i.e. every row is combined directly (not a mean of child means), so a
    grandchild's weight counts in its grandparent exactly once.  With
    ``weight`` = base sizes of per-touchpoint means this equals the mean of
    all pooled answers.  A zero total weight gives NaN.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley, sec. 5.2
    (combining stratum means with weights).
    """
    if to not in ("parent", "stage"):
        raise CatalogError(f"rollup(to={to!r}): use 'parent' or 'stage'")
    by = list(by or [])
    need = ["touchpoint_id", value, *by] + ([weight] if weight else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise CatalogError(f"rollup: column(s) {missing} not in the table (has "
                           f"{list(frame.columns)}); pass value=/weight=/by= that exist")
    df = frame.loc[frame["touchpoint_id"] != JOURNEY_ID, need].copy()
    catalog.check_ids(df["touchpoint_id"], source="the roll-up table", allow_journey=False)
    df = df[df[value].notna()]
    df["_w"] = 1.0 if weight is None else df[weight].astype(float)
    if (df["_w"] < 0).any() or df["_w"].isna().any():
        raise CatalogError(f"rollup: weight column {weight!r} has negative or missing values")
    df["_wx"] = df["_w"] * df[value].astype(float)
    cat = catalog.frame[["touchpoint_id", "stage", "stage_order", "depth"]]
    if to == "parent":
        anc = catalog.ancestry()
        m = df.merge(anc, on="touchpoint_id")
        m["_own"] = m["level"] == 0
        keys = ["ancestor_id", *by]
        g = m.groupby(keys, sort=False, dropna=False).agg(
            _wx=("_wx", "sum"), weight_sum=("_w", "sum"), n_parts=("_w", "size"),
            has_own=("_own", "any"),
        ).reset_index().rename(columns={"ancestor_id": "touchpoint_id"})
        g = g.merge(cat, on="touchpoint_id")
        g["_ord"] = g["touchpoint_id"].map({t: i for i, t in enumerate(catalog.ids)})
        g = g.sort_values(["_ord", *by], kind="stable")
        cols = ["touchpoint_id", "stage", "depth", *by, value, "weight_sum", "n_parts", "has_own"]
    else:
        m = df.merge(cat, on="touchpoint_id")
        keys = ["stage", "stage_order", *by]
        g = m.groupby(keys, sort=False, dropna=False).agg(
            _wx=("_wx", "sum"), weight_sum=("_w", "sum"), n_parts=("_w", "size"),
        ).reset_index().sort_values(["stage_order", *by], kind="stable")
        cols = ["stage", "stage_order", *by, value, "weight_sum", "n_parts"]
    g[value] = g["_wx"].where(g["weight_sum"] > 0) / g["weight_sum"].where(g["weight_sum"] > 0)
    g["n_parts"] = g["n_parts"].astype("int64")
    return g[cols].reset_index(drop=True)
