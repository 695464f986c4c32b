"""The tables a notebook recorded, as a manager reads them (brief, Excel).

A results file holds tidy tables with internal column names and ids
(``candidate``: ``store_checkout``; ``p_holm``: ``3.2e-163``). :func:`manager_tables`
turns each known table into a :class:`Table`: a few columns chosen for a reader,
headers from the message catalog (``col_<name>``), touchpoint and stage ids as
catalog names in the report's language, words such as ``fix first`` or
``significant`` translated, numbers by :mod:`cxlib.share.formats` (the same
format as the brief's sentences and the index), intervals as one
``[low; high]`` column, no index column. Tables not listed in :data:`SPECS`
(future notebooks) keep the columns whose header the catalog knows.

Hand-written rather than great_tables: the numbers must be formatted exactly as
in the sentences, tiles and the index (one formatter), and the shared pages'
sanitiser keeps style sheets only at the top of a page; a ten-line template
does the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cxlib import i18n
from cxlib.share import formats

__all__ = ["SPECS", "Column", "Table", "flag_text", "manager_tables", "move_change",
           "move_period", "move_segment", "moves_table"]


@dataclass(frozen=True)
class Column:
    """One shown column: ``name`` in the records, how to show it.

    ``kind``: a :mod:`formats` kind, ``"name"`` (catalog id -> name),
    ``"word"`` (a word of the message catalog), ``"text"`` (as recorded),
    ``"group"`` (a group of customers; ``all`` in words), ``"category"`` (a
    segment value in words, :func:`cxlib.share.formats.category`), ``"flag"`` (a
    recorded warning, see :func:`flag_text`).
    ``interval``: the (low, high) columns shown as ``[low; high]`` after it.
    """

    name: str
    kind: str = "number"
    interval: tuple[str, str] | None = None
    header: str | None = None  # message key; default col_<name>


@dataclass(frozen=True)
class Spec:
    """How a recorded table is shown: title key, columns, whether briefs show it.

    ``segment_from``: the notebook parameter naming the column that holds the
    segment (notebook 05's ``compare_by``); its values are shown as ``segment``.
    """

    title: str
    columns: tuple[Column, ...]
    brief: bool = True
    sort: str | None = None
    max_rows: int = 25
    segment_from: str | None = None


C = Column
SPECS: dict[str, Spec] = {
    "coverage_by_stage": Spec("tbl_coverage_by_stage", (
        C("stage", "name"), C("n_touchpoints", "count"), C("n_covered", "count"),
        C("n_low_base", "count"), C("n_blind_spot", "count"))),
    "blind_spots": Spec("tbl_blind_spots", (
        C("touchpoint_id", "name", header="col_touchpoint"), C("stage", "name"),
        C("status", "word"), C("n_respondents_all", "count"))),
    "coverage_by_segment": Spec("tbl_coverage_by_segment", (
        C("branch_id", "text", header="col_segment"), C("stage", "name"),
        C("n_touchpoints", "count"), C("n_covered", "count"), C("n_low_base", "count"),
        C("n_blind_spot", "count")), brief=False),
    "weakest_links": Spec("tbl_weakest_links", (
        C("stage", "name"), C("stage_mean", "score", ("stage_low", "stage_high")),
        C("verdict", "name", header="col_weakest"),
        C("candidate_mean", "score", ("candidate_low", "candidate_high")),
        C("n", "count"), C("p_holm", "pvalue"))),
    "importance": Spec("tbl_importance", (
        C("rank", "count"), C("driver", "name"),
        C("importance", "share", ("ci_low", "ci_high")),
        C("rank_stability", "share"), C("n", "count")), sort="rank"),
    "importance_performance": Spec("tbl_importance_performance", (
        C("driver", "name"), C("importance", "share", ("imp_low", "imp_high")),
        C("performance", "score", ("perf_low", "perf_high")), C("quadrant", "word"))),
    "margin_per_point": Spec("tbl_margin_per_point", (
        C("priority", "count"), C("driver", "name"),
        C("margin_per_point", "money", ("ci_low", "ci_high")), C("n", "count")),
        sort="priority"),
    "money": Spec("tbl_money", (
        C("quantity", "word"), C("estimate", "by_quantity", ("ci_low", "ci_high")))),
    "side_effects": Spec("tbl_side_effects", (
        C("outcome", "word"), C("estimate", "number", ("ci_low", "ci_high")),
        C("p_value", "pvalue"), C("n_units", "count"))),
    "event_study": Spec("tbl_event_study", (
        C("event_time", "count"), C("estimate", "number", ("ci_low", "ci_high")),
        C("p_value", "pvalue")), brief=False, max_rows=200),
    "estimate": Spec("tbl_estimate", (
        C("term", "text"), C("estimate", "number", ("ci_low", "ci_high")),
        C("p_value", "pvalue")), brief=False, max_rows=500),
    # notebook 05: customer 360 and profitability
    "segment_profit": Spec("tbl_segment_profit", (
        C("segment", "category"), C("n_customers", "count"),
        C("mean_profit", "money", ("ci_low", "ci_high")), C("total_profit", "money"),
        C("share_value_destroying", "share"), C("mean_cost_to_serve", "money")),
        segment_from="compare_by"),
    "segment_actions": Spec("tbl_segment_actions", (
        C("segment", "category"), C("action", "word"),
        C("mean_profit", "money", ("ci_low", "ci_high")), C("share_at_risk", "share"),
        C("share_loyal", "share"), C("mean_expected_value", "money")),
        segment_from="compare_by"),
    # notebook 04: care vs nuisance
    "thresholds": Spec("tbl_thresholds", (
        C("group", "group"), C("outcome", "word"),
        C("threshold", "number", ("ci_low", "ci_high")), C("today_rate", "number"),
        C("n", "count"), C("flag", "flag")), max_rows=50),
    "money_optimum": Spec("tbl_money_optimum", (
        C("group", "group"), C("money_optimal_rate", "number", ("ci_low", "ci_high")),
        C("today_rate", "number"),
        C("worth_per_year", "money", ("worth_ci_low", "worth_ci_high")), C("n", "count"))),
    "caps": Spec("tbl_caps", (
        C("group", "group"), C("binding_outcome", "word"),
        C("cap", "number", ("ci_low", "ci_high")), C("today_rate", "number"))),
    "continuity": Spec("tbl_continuity", (
        C("model", "word"), C("term", "word"),
        C("estimate", "score", ("ci_low", "ci_high"), header="col_effect"),
        C("p_value", "pvalue"), C("n", "count"))),
    "mood": Spec("tbl_mood", (
        C("model", "word"), C("term", "word"),
        C("estimate", "score", ("ci_low", "ci_high"), header="col_effect"),
        C("p_value", "pvalue"), C("n", "count"))),
}

#: Kind of each row of notebook 03's money table (its ``quantity`` column).
QUANTITY_KINDS = {"roi": "percent", "payback_periods": "periods",
                  "treated_unit_periods": "count", "n_units": "count",
                  "amortised_unit_periods": "count"}


@dataclass
class Table:
    """A table ready to show: translated title and headers, formatted cells.

    ``values`` keeps the raw values (same shape as ``rows``) and ``kinds`` each
    column's kind, for Excel's number formats.
    """

    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    values: list[list[Any]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    brief: bool = True
    truncated: int = 0


def _name(cat: Any, v: Any, lang: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return formats.MISSING
    s = str(v)
    if s in ("none", "n/a"):
        return i18n.t(s, lang)
    if cat is not None:
        try:  # touchpoints and stages
            return str(cat.name(s, lang))
        except Exception:
            return s
    return s


def _word(v: Any, lang: str) -> str:
    if v is None:
        return formats.MISSING
    s = str(v)
    key = "w_" + s.replace(" ", "_").replace("-", "_").lower()
    return i18n.t(key, lang) if i18n.has(key) else i18n.phrase(s, lang)


def flag_text(flag: Any, lang: str) -> str:
    """A warning a notebook recorded (headline ``flag``, a table's ``flag``) in words."""
    if flag is None or (isinstance(flag, float) and math.isnan(flag)) or str(flag) == "":
        return ""
    s = str(flag)
    if i18n.has(s):
        return i18n.t(s, lang)
    if s.startswith("too few customers"):  # "too few customers (< 200) for a curve"
        return i18n.t("w_too_few_customers", lang)
    return _word(s, lang)


def _cell(col: Column, rec: dict[str, Any], cat: Any, lang: str, currency: str | None,
          params: dict[str, Any] | None = None) -> tuple[str, Any, str]:
    v = rec.get(col.name)
    kind = col.kind
    if kind == "group":
        return formats.category(v, lang, "group", params=params), v, "text"  # all: v_group_all
    if kind == "category":  # a segment: its column is the job's compare_by (or segment)
        return formats.category(v, lang, params=params), v, "text"
    if kind == "flag":
        return flag_text(v, lang), v, "text"
    if kind == "by_quantity":
        q = str(rec.get("quantity", ""))
        kind = QUANTITY_KINDS.get(q, "money")
    if kind == "name":
        return _name(cat, v, lang), v, "text"
    if kind == "word":
        return _word(v, lang), v, "text"
    if kind == "text":
        return formats.MISSING if v is None else str(v), v, "text"
    cur = currency if kind == "money" else None
    text = formats.value(v, kind, lang, currency=None)
    lo, hi = (rec.get(col.interval[0]), rec.get(col.interval[1])) if col.interval else (None,
                                                                                         None)
    if col.interval and lo != hi:
        ci = formats.interval(lo, hi, kind, lang)
        text = f"{text} {ci}" if ci else text
    if cur and text != formats.MISSING:
        text = f"{text} {cur}"
    return text, v, kind


def _header(col: Column, lang: str) -> str:
    key = col.header or f"col_{col.name}"
    text = i18n.t(key, lang)
    if col.interval:
        text = f"{text} [{i18n.t('ci95', lang)}]"
    return text


def manager_table(key: str, records: list[dict[str, Any]], *, catalog: Any = None,
                  language: str = "en", currency: str | None = None,
                  params: dict[str, Any] | None = None) -> Table | None:
    """One recorded table as a :class:`Table`; None when there is nothing to show.

    ``params``: the notebook's parameters (a segment column named by one of them).
    """
    spec = SPECS.get(key)
    if spec is not None and spec.segment_from and records:
        # the segment column is the parameter's value, else the table's first column
        by = (params or {}).get(spec.segment_from) or next(iter(records[0]), None)
        if by and by != "segment":
            records = [{**r, "segment": r.get(by)} for r in records]
    if spec is None:
        names = list(dict.fromkeys(k for r in records for k in r))
        cols = tuple(Column(n, "name" if n in ("touchpoint_id", "stage", "driver") else
                            formats.column_kind(n)) for n in names if i18n.has(f"col_{n}"))
        if not cols:
            return None
        spec = Spec(f"tbl_{key}" if i18n.has(f"tbl_{key}") else key, cols)
    if not records:
        return None
    cols = tuple(c for c in spec.columns if any(c.name in r for r in records))
    recs = sorted(records, key=lambda r: (r.get(spec.sort) is None, r.get(spec.sort) or 0)) \
        if spec.sort else records
    shown = recs[:spec.max_rows]
    rows, values, kinds = [], [], [""] * len(cols)
    for rec in shown:
        row, raw = [], []
        for i, c in enumerate(cols):
            text, v, kind = _cell(c, rec, catalog, language, currency, params)
            row.append(text)
            raw.append(v)
            kinds[i] = kinds[i] or kind
        rows.append(row)
        values.append(raw)
    # a column with nothing in any row (no flag raised) says nothing: left out
    keep = [i for i in range(len(cols)) if any(r[i] not in ("", formats.MISSING)
                                               for r in rows)] if rows else []
    if rows and len(keep) < len(cols):
        cols = tuple(cols[i] for i in keep)
        kinds = [kinds[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]
        values = [[r[i] for i in keep] for r in values]
    title = i18n.t(spec.title, language) if i18n.has(spec.title) else i18n.phrase(
        spec.title.replace("_", " "), language)
    return Table(key=key, title=title, headers=[_header(c, language) for c in cols],
                 rows=rows, numeric=[k not in ("text", "") for k in kinds], values=values,
                 kinds=kinds, brief=spec.brief, truncated=len(recs) - len(shown))


def move_segment(m: dict[str, Any], params: dict[str, Any] | None, lang: str
                 ) -> tuple[str | None, Any, str]:
    """A move's segment ``(column, value, words)``; a filtered job's own segment counts.

    A move without a segment of its own was found among the job's customers: in
    a job filtered to ``filter_column = filter_value`` that is that segment, not
    all customers (brief and index say it the same way).
    """
    params = params or {}
    seg, col = m.get("segment"), m.get("segment_column")
    if seg in (None, ""):
        seg = params.get("filter_value")
        col = params.get("filter_column") if seg not in (None, "") else None
    if seg in (None, ""):
        return None, None, i18n.t("all_customers", lang)
    if not col or col == "segment":
        return col, seg, formats.category(seg, lang, col or None, params=params)
    from cxlib.share.mask import is_personal_column, mask_value

    label = i18n.t(f"col_{col}", lang) if i18n.has(f"col_{col}") else str(col)
    shown = mask_value(seg) if is_personal_column(col) else formats.category(seg, lang, col)
    return col, seg, f"{label}: {shown}"


def move_period(m: dict[str, Any], segment: Any, lang: str) -> str:
    """A move's period in words: ``previous → period``; a segment's gap to the other
    customers ("vs the rest"); else its one period (brief and index alike)."""
    prev, per = m.get("previous_period"), m.get("period")
    if prev and per:
        return f"{formats.period(prev, lang)} → {formats.period(per, lang)}"
    if segment not in (None, "") and not prev:
        return i18n.t("vs_rest", lang)
    return formats.period(per or formats.MISSING, lang)


def move_change(m: dict[str, Any], lang: str) -> str:
    """A move's change, signed: in percentage points for a share statistic (top-2 box...),
    in score points otherwise; empty when not a number."""
    kind = "share" if m.get("statistic") in ("top2", "top_box", "bottom_box") else "score"
    delta = m.get("delta")
    return formats.signed(0, delta, kind, lang) if formats.is_number(delta) else ""


def moves_table(moves: list[dict[str, Any]], *, catalog: Any = None, language: str = "en",
                params: dict[str, Any] | None = None) -> Table | None:
    """The significant moves (touchpoint, segment, measure, period, change, q) as a Table.

    ``params``: the job's parameters; a move of a filtered job names the job's segment.
    """
    if not moves:
        return None
    rows, values = [], []
    seen = set()
    for m in moves:
        key = (m.get("touchpoint_id"), m.get("segment_column"), m.get("segment"),
               m.get("period"), m.get("previous_period"), m.get("metric"),
               m.get("statistic"))
        if key in seen:
            continue
        seen.add(key)
        _, seg, seg_text = move_segment(m, params, language)
        per, delta = m.get("period"), m.get("delta")
        period, change = move_period(m, seg, language), move_change(m, language)
        arrow = {"up": "▲", "down": "▼"}.get(str(m.get("direction")), "")
        measure = " · ".join(_word(x, language) for x in (m.get("metric"), m.get("statistic"))
                             if x) or formats.MISSING
        rows.append([_name(catalog, m.get("touchpoint_id"), language), seg_text, measure,
                     period, f"{arrow} {change}".strip(),
                     formats.value(m.get("q_value"), "pvalue", language)])
        values.append([m.get("touchpoint_id"), seg, measure, per, delta, m.get("q_value")])
    headers = [i18n.t(k, language) for k in ("col_touchpoint", "col_segment", "metric",
                                             "col_period", "col_change", "col_q_value")]
    return Table(key="moves", title=i18n.t("tbl_moves", language), headers=headers, rows=rows,
                 numeric=[False, False, False, False, True, True], values=values,
                 kinds=["text", "text", "text", "text", "score", "pvalue"])


def manager_tables(results: dict[str, Any], *, catalog: Any = None, language: str = "en",
                   currency: str | None = None, params: dict[str, Any] | None = None
                   ) -> list[Table]:
    """Every recorded table of a results file (and its moves) as :class:`Table` objects.

    ``params``: the job's parameters (default: the results file's own).
    """
    out = []
    params = {**(params or {}), **(results.get("parameters") or {})}
    for key, recs in (results.get("tables") or {}).items():
        t = manager_table(key, recs or [], catalog=catalog, language=language,
                          currency=currency, params=params)
        if t is not None:
            out.append(t)
    mv = moves_table(results.get("moves") or [], catalog=catalog, language=language,
                     params=params)
    if mv is not None:
        out.append(mv)
    return out
