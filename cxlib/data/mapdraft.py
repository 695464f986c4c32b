"""``cx map``: draft a mapping (and a catalog) from a wide survey export, for review.

:func:`draft` reads an export (:func:`cxlib.data.exports.read_export`) and
proposes, from the column names, question texts, value labels and the values
seen:

* **rating columns**: few distinct whole numbers (or answer labels of a known
  scale), with their scale and not-applicable codes (SPSS value labels such as
  "Not applicable" / "Did not use"; a ``0`` below a 1-based scale; a ``9``/``99``
  above it; text such as ``N/A``);
* **outcomes**: an overall or recommend question, or a two-valued label such as
  ``satisfied`` / ``neutral or dissatisfied``;
* **segments**: text columns with a few distinct values, and ages (binned);
* **the respondent id**: a column named like an id whose values are unique, or
  else the stable row number;
* **the journey stage** of each touchpoint, from keywords in its name (booking
  before, seat during, baggage after...); where the name does not say, a
  marked guess.

Touchpoints whose names match a shipped catalog reuse its ids; otherwise a new
catalog ``NAME`` is drafted with English names only (tr/az to translate later).
:func:`write_draft` writes both YAML files with comments and returns the
checklist ``cx map`` prints. Personal columns (e-mail, names, IP address,
phone) are never proposed as segments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import config
from cxlib.errors import DataError

__all__ = ["SCALE_LABELS", "STAGE_WORDS", "Column", "Draft", "draft", "main", "slug",
           "write_draft"]

_ID_NAMES = re.compile(r"^(respondent|response|record|case|customer|passenger|participant|"
                       r"survey|resp)?[ _]?(id|no|number|#)$", re.IGNORECASE)
_DATE_NAMES = re.compile(r"date|recorded|submitted|time", re.IGNORECASE)
_PERSONAL = re.compile(r"e-?mail|first ?name|last ?name|phone|ip ?address|ipaddress|"
                       r"latitude|longitude|recipient|external ?ref", re.IGNORECASE)
_TOOL_META = re.compile(r"^(status|progress|duration.*|finished|distributionchannel|"
                        r"userlanguage|collector id|custom data.*|startdate|enddate|"
                        r"start date|end date)$", re.IGNORECASE)
_NPS = re.compile(r"recommend|nps|likely", re.IGNORECASE)
_OVERALL = re.compile(r"overall|satisfaction$|^satisf", re.IGNORECASE)
_EFFORT = re.compile(r"effort|easy|ease of getting|difficult", re.IGNORECASE)
_COMMENT = re.compile(r"comment|open-ended|feedback|remark|suggestion|why\b|yorum|şərh",
                      re.IGNORECASE)
_AGE = re.compile(r"^age\b|\bage$|yaş|yaş", re.IGNORECASE)
_NA_LABELS = re.compile(r"not applicable|n/?a\b|did not use|didn.t use|don.t know|"
                        r"not used|no opinion|uygulanamaz|kullanmadım|bilmiyorum|"
                        r"istifadə etməmişəm|bilmirəm|aid deyil", re.IGNORECASE)
#: Answer labels of common scales, lower-cased -> score (English, Turkish, Azerbaijani).
SCALE_LABELS: dict[str, dict[str, int]] = {
    "satisfaction_5": {
        "very dissatisfied": 1, "dissatisfied": 2, "neither satisfied nor dissatisfied": 3,
        "neutral": 3, "satisfied": 4, "very satisfied": 5,
        "hiç memnun değilim": 1, "memnun değilim": 2, "kararsızım": 3, "memnunum": 4,
        "çok memnunum": 5,
        "heç razı deyiləm": 1, "razı deyiləm": 2, "neytral": 3, "razıyam": 4,
        "çox razıyam": 5,
    },
    "quality_5": {"very poor": 1, "poor": 2, "fair": 3, "average": 3, "good": 4,
                  "very good": 5, "excellent": 5},
    "agreement_5": {"strongly disagree": 1, "disagree": 2, "neither agree nor disagree": 3,
                    "agree": 4, "strongly agree": 5},
}
#: Words in a touchpoint's name that place it in a stage (first match wins).
STAGE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("post", ("baggage", "luggage", "bags", "bag ", "delivery", "return", "refund",
              "complaint", "after",
              "follow-up", "follow up", "invoice", "billing", "warranty", "repair",
              "claim", "support", "aftercare")),
    ("pre", ("book", "reserv", "website", "web site", "online", "app", "advert", "ad ",
             "search", "check-in", "checkin", "check in", "gate", "departure", "schedule",
             "time convenien", "information", "price", "quote", "order", "boarding",
             "lounge", "security", "parking")),
    ("sale", ("seat", "leg room", "legroom", "food", "drink", "meal", "wifi", "wi-fi",
              "entertainment", "cabin", "crew", "on-board", "onboard", "inflight",
              "in-flight", "clean", "staff", "cashier", "checkout", "store", "shop",
              "service", "product", "comfort", "queue", "waiting")),
)
_STAGE_IDS = {"pre": "pre_sale", "sale": "sale", "post": "post_sale"}
_TRANSLIT = str.maketrans({"ı": "i", "ş": "s", "ğ": "g", "ç": "c", "ö": "o", "ü": "u",
                           "ə": "e", "İ": "i", "Ş": "s", "Ğ": "g", "Ç": "c", "Ö": "o",
                           "Ü": "u", "Ə": "e"})


def slug(text: str) -> str:
    """A snake_case id from a column name or question (Turkish/Azerbaijani letters folded).

    Examples
    --------
    >>> slug("Ease of Online booking")
    'ease_of_online_booking'
    >>> slug("Çağrı merkezi (müşteri hizmetleri)")
    'cagri_merkezi_musteri_hizmetleri'
    """
    s = unicodedata.normalize("NFKD", str(text).translate(_TRANSLIT))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    if not s or not s[0].isalpha():
        s = "q_" + s
    return s[:48].rstrip("_")


@dataclass
class Column:
    """What the draft decided about one column of the export."""

    name: str
    role: str  # id | date | touchpoint | outcome | segment | ignored
    question: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A drafted mapping (and catalog): the decisions, the YAML texts, the checklist."""

    name: str
    export: Path
    format: str
    n_rows: int
    columns: list[Column]
    id_column: str | None
    date: str
    catalog: str
    new_catalog: list[dict[str, Any]] | None
    not_applicable: list[Any]
    values: dict[str, int]
    checks: list[str]
    read: dict[str, Any] = field(default_factory=dict)

    def mapping_yaml(self) -> str:
        """The mapping file's text, commented for review."""
        return _mapping_yaml(self)

    def catalog_yaml(self) -> str | None:
        """The drafted catalog's text (None when a shipped catalog covers the touchpoints)."""
        return None if self.new_catalog is None else _catalog_yaml(self)


def draft(export: str | Path, *, name: str | None = None, **read_opts: Any) -> Draft:
    """Propose a mapping (and, where needed, a catalog) for a wide export.

    Parameters
    ----------
    export
        The export file (CSV, Excel, SPSS ``.sav``, Qualtrics or SurveyMonkey CSV).
    name
        The dataset name (default: the file's stem as a slug).
    **read_opts
        Options for :func:`cxlib.data.exports.read_export`.

    Returns
    -------
    Draft
        Decisions per column, the YAML texts and the checklist of what to review.

    Raises
    ------
    DataError
        The export cannot be read, has no data rows, or no column looks like a rating.
    """
    from cxlib.data.exports import read_export

    path = Path(export)
    wide = read_export(path, **{k: v for k, v in read_opts.items() if v is not None})
    name = slug(name or path.stem)
    if len(wide) == 0:
        raise DataError("the export has no respondents (a header without data rows); "
                        "export the responses again, with data", path=path,
                        rule="at least one respondent")
    questions: dict[str, str] = wide.attrs.get("questions", {}) or {}
    labels: dict[str, dict[Any, str]] = wide.attrs.get("value_labels", {}) or {}
    checks: list[str] = []
    cols: list[Column] = []
    id_col: str | None = None
    date_col: str | None = None
    na_all: set[Any] = set()
    values_all: dict[str, int] = {}
    for c in wide.columns:
        col = str(c)
        q = questions.get(col, "") or ""
        s = wide[c]
        nonblank = s.dropna()
        nonblank = nonblank[nonblank.astype("str").str.strip() != ""]
        title = q or col
        if _PERSONAL.search(col) or _PERSONAL.search(q):
            cols.append(Column(col, "ignored", q, notes=["personal data: not loaded"]))
            continue
        if id_col is None and (_ID_NAMES.match(col.strip()) or col.strip().lower() in
                               {"responseid", "respondentid"}) \
                and len(nonblank) == len(s) and not nonblank.astype("str").duplicated().any():
            id_col = col
            cols.append(Column(col, "id", q))
            continue
        if _TOOL_META.match(col.strip()) and not (date_col is None and _DATE_NAMES.search(col)):
            cols.append(Column(col, "ignored", q, notes=["survey-tool metadata"]))
            continue
        if date_col is None and _DATE_NAMES.search(col) and _dates_ok(nonblank):
            date_col = col
            notes = _date_order(wide, col, wide.attrs.get("format", "table"), read_opts)
            cols.append(Column(col, "date", q, notes=notes))
            continue
        rating = _rating(nonblank, labels.get(col))
        if rating is not None:
            spec, na, vmap, notes = rating
            na_all.update(na)
            values_all.update(vmap)
            kind = "touchpoint"
            if _NPS.search(title) and spec["scale"] == [0, 10]:
                spec = {"id": "journey", "metric": "nps", "scale": [0, 10]}
                kind = "outcome"
            elif _OVERALL.search(title) and spec["scale"] in ([1, 10], [0, 10], [1, 5]):
                if spec["scale"] == [0, 10] and pd.to_numeric(nonblank, errors="coerce").min() >= 1:
                    spec["scale"] = [1, 10]
                    notes = [n for n in notes if "scale taken" not in n] + [
                        "overall rating taken as 1-10: check"]
                spec = {"id": "journey", "metric": "overall", "scale": spec["scale"]}
                kind = "outcome"
                if spec["scale"] == [1, 5]:
                    notes.append("overall on 1-5 is not a declared overall scale (1-10 or 0/1): "
                                 "rescale or map it as a touchpoint")
            elif _EFFORT.search(title) and spec["scale"] == [1, 7]:
                spec["metric"] = "ces"
            cols.append(Column(col, kind, q, spec=spec, notes=notes))
            continue
        binary = _binary(nonblank)
        if binary is not None:
            cols.append(Column(col, "outcome", q, spec={
                "id": "journey", "metric": "overall", "scale": [0, 1], "values": binary},
                notes=["two-valued label: which value is 1 (satisfied) was guessed"]))
            continue
        if _COMMENT.search(title):
            cols.append(Column(col, "ignored", q, notes=["open comment: not loaded"]))
            continue
        if (_AGE.search(col) or _AGE.search(q)) and pd.to_numeric(
                nonblank, errors="coerce").notna().all():
            cols.append(Column(col, "segment", q, spec={
                "name": "age_band", "bins": [0, 25, 40, 60, 120],
                "labels": ["<25", "25-39", "40-59", "60+"]}))
            continue
        if labels.get(col):  # coded categories (SPSS): the labels are the segment values
            cols.append(Column(col, "segment", q, spec={
                "name": slug(_label(col, q)), "values": dict(labels[col])}))
            continue
        nun = nonblank.astype("str").nunique()
        if 2 <= nun <= 30 and not pd.api.types.is_float_dtype(s) and nun <= max(3, len(s) // 2):
            cols.append(Column(col, "segment", q, spec={"name": slug(_label(col, q))}))
            continue
        cols.append(Column(col, "ignored", q, notes=[f"{nun} distinct values: not a rating, "
                                                     "outcome or segment"]))
    outcomes = [c for c in cols if c.role == "outcome"]
    if len(outcomes) > 1:
        metrics = [c.spec["metric"] for c in outcomes]
        for i, c in enumerate(outcomes):
            if c.spec["metric"] in metrics[:i]:  # one answer per (respondent, journey, metric)
                c.role = "ignored"
                c.notes.append(f"a second {c.spec['metric']} outcome candidate: pick one")
    tps = [c for c in cols if c.role == "touchpoint"]
    if not tps:
        raise DataError("no column looks like a touchpoint rating (few whole numbers or "
                        "labels of a satisfaction scale); write the mapping by hand from "
                        "data/mappings/airline.yml", path=path, rule="a rating column")
    catalog, new_catalog = _catalog_for(name, tps)
    if id_col is None:
        checks.append("no column is a unique respondent id: the row number is used "
                      "(`respondent_id: {row_number: true}`); keep the file's row order, or "
                      "name an id column if the export has one")
    if date_col is None:
        checks.append("no date column: a fixed date is used; set `date:` to the survey date")
    if new_catalog is not None:
        checks.append(f"a new catalog data/touchpoints/{catalog}.yml was drafted: check each "
                      "touchpoint's stage (lines marked GUESS), then add tr/az names")
    by_note: dict[str, list[str]] = {}
    for c in cols:
        for n in c.notes:
            by_note.setdefault(n, []).append(c.name)
    for n, names in by_note.items():
        shown = ", ".join(repr(x) for x in names[:4]) + (f" and {len(names) - 4} more"
                                                         if len(names) > 4 else "")
        checks.append(f"{shown}: {n}")
    if not outcomes:
        checks.append("no outcome (overall, NPS or a satisfied label) was found: notebook 02 "
                      "needs one; add it under `outcomes:`")
    return Draft(name=name, export=path, format=str(wide.attrs.get("format", "table")),
                 n_rows=len(wide), columns=cols, id_column=id_col,
                 date=date_col or dt.date.today().isoformat(), catalog=catalog,
                 new_catalog=new_catalog, not_applicable=sorted(na_all, key=str),
                 values=values_all, checks=checks,
                 read={k: v for k, v in read_opts.items() if v is not None})


def _dates_ok(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if len(s) == 0 or pd.api.types.is_numeric_dtype(s):
        return False
    parsed = pd.to_datetime(s.astype("str"), errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def _date_order(wide: pd.DataFrame, col: str, fmt: str, read_opts: dict[str, Any]) -> list[str]:
    """Settle slash dates that read both ways (03/01/2024): a guess by tool, marked."""
    from cxlib.data.readers import parse_dates

    if read_opts.get("dayfirst") is not None or read_opts.get("date_format"):
        return []
    try:
        parse_dates(wide[col], column=col, frame=wide)
        return []
    except DataError as exc:
        if "both ways" not in str(exc):
            return [f"dates do not parse: {str(exc).splitlines()[0]}"]
    first = fmt not in ("surveymonkey", "qualtrics")  # US tools write mm/dd/yyyy
    read_opts["dayfirst"] = first
    return [f"dates such as {str(wide[col].dropna().iloc[0])!r} read both ways: taken as "
            f"{'dd/mm' if first else 'mm/dd'}/yyyy (`read: dayfirst: {str(first).lower()}`)"]


def _rating(s: pd.Series, labels: dict[Any, str] | None
            ) -> tuple[dict[str, Any], list[Any], dict[str, int], list[str]] | None:
    """(spec, n/a codes, label map, notes) when the column looks like a rating."""
    notes: list[str] = []
    na: list[Any] = []
    vmap: dict[str, int] = {}
    if labels:  # SPSS value labels: n/a codes by label, the scale from the other codes
        na = [k for k, v in labels.items() if _NA_LABELS.search(str(v))]
        codes = sorted(k for k in labels if k not in na and isinstance(k, (int, float)))
        known = {w for table in SCALE_LABELS.values() for w in table}
        scale_like = sum(str(labels[k]).strip().casefold() in known for k in codes)
        contiguous = codes == list(range(int(codes[0]), int(codes[0]) + len(codes))) if codes \
            else False
        if len(codes) >= 3 and (scale_like >= 2 or (contiguous and len(codes) >= 5)):
            seen = pd.to_numeric(s, errors="coerce").dropna()
            lo, hi = int(min(codes)), int(max(codes))
            if seen.empty or (seen.between(lo, hi) | seen.isin(na)).all():
                if na:
                    notes.append(f"code(s) {na} labelled {[labels[k] for k in na]}: "
                                 "not applicable")
                return _spec(lo, hi, notes), na, vmap, notes
        return None  # labelled codes that are no rating scale: a category
    num = pd.to_numeric(s, errors="coerce")
    text = s[num.isna()].astype("str").str.strip()
    if len(s) == 0:
        return None
    if len(text):
        low = text.str.casefold()
        for table in SCALE_LABELS.values():
            known = low.isin(list(table)) | low.str.contains(_NA_LABELS)
            if known.mean() >= 0.75 and low.isin(list(table)).sum() >= 3:
                vmap = {v: table[v.casefold()] for v in sorted(set(text[low.isin(list(table))]))}
                na = sorted(set(text[low.str.contains(_NA_LABELS)]))
                other = sorted(set(text[~known]))
                if other:
                    share = (~known).sum() / len(s)
                    notes.append(f"text answers that are no label: {other[:5]} ({share:.0%}; "
                                 "dropped and counted" + (", above max_unparsed: loading stops "
                                 "until they are mapped" if share > 0.05 else "") + ")")
                return _spec(1, 5, notes), na, vmap, notes
        na = sorted(set(text[text.str.contains(_NA_LABELS)]))
        if len(text) - text.str.contains(_NA_LABELS).sum() > 0.05 * len(s):
            return None
    n = num.dropna()
    if n.empty or not (n == n.round()).all() or n.nunique() > 11 or n.nunique() < 2:
        return None
    lo, hi = int(n.min()), int(n.max())
    if hi - lo > 10 or lo < 0:
        return None
    if lo == 0 and hi in (5, 7) and (n == 0).mean() < 0.5:
        na.append(0)
        notes.append("0 below a 1-based scale is taken as 'not applicable': check")
        lo = 1
    for code in (9, 99):
        if hi == code and n[n != code].max() <= 7:
            na.append(code)
            notes.append(f"{code} above the scale is taken as 'not applicable/don't know': check")
            hi = int(n[n != code].max())
    if na and any(isinstance(x, str) for x in na):
        notes.append(f"text {[x for x in na if isinstance(x, str)]} taken as 'not applicable'")
    return _spec(lo, hi, notes), na, vmap, notes


def _spec(lo: int, hi: int, notes: list[str]) -> dict[str, Any]:
    std = [(1, 5), (1, 7), (0, 10), (1, 10)]
    if (lo, hi) not in std:  # values seen span less than the scale: snap to the nearest
        fits = [s for s in std if s[0] <= lo and hi <= s[1]]
        if fits:
            notes.append(f"values seen {lo}-{hi}; scale taken as {fits[0][0]}-{fits[0][1]}: check")
            lo, hi = fits[0]
    metric = {(1, 5): "csat", (1, 7): "ces", (0, 10): "nps", (1, 10): "overall"}.get((lo, hi),
                                                                                    "csat")
    if metric != "csat" and (lo, hi) != (0, 10):
        notes.append(f"a {lo}-{hi} touchpoint rating: cxlib declares csat on 1-5 only; "
                     "ces is 1-7; rescale or check the metric")
    return {"id": "", "metric": metric, "scale": [lo, hi]}


def _binary(s: pd.Series) -> dict[str, int] | None:
    vals = sorted(set(s.astype("str").str.strip()))
    if len(vals) != 2:
        return None
    pos = re.compile(r"^(yes|true|1|evet|bəli)$|(?<!dis)satisf|(?<!un)happy|promot|memnun$|razı$",
                     re.IGNORECASE)
    neg = re.compile(r"dissatisf|neutral|^no$|^false$|^0$|not|değil|deyil|hayır|xeyr",
                     re.IGNORECASE)
    scores = {v: (0 if neg.search(v) else 1 if pos.search(v) else None) for v in vals}
    if sorted(x for x in scores.values() if x is not None) != [0, 1]:
        return None
    return {v: int(x) for v, x in scores.items() if x is not None}


def _label(col: str, question: str) -> str:
    """A touchpoint's name: the matrix item of "Question - Item", else the question or column."""
    text = (question or col).strip()
    if " - " in text:
        text = text.rsplit(" - ", 1)[1].strip()
    elif " - " in col:
        text = col.rsplit(" - ", 1)[1].strip()
    return text or col


def _stage(name: str) -> tuple[str, bool]:
    low = f" {name.lower()} "
    for stage, words in STAGE_WORDS:
        if any(w in low for w in words):
            return _STAGE_IDS[stage], True
    return "sale", False


def _catalog_for(name: str, tps: list[Column]) -> tuple[str, list[dict[str, Any]] | None]:
    """Reuse a shipped catalog whose names match every touchpoint; else draft one."""
    from cxlib.data.catalog import load_catalog

    best: tuple[int, str, dict[str, str]] | None = None
    for p in sorted(Path(config.CATALOG_DIR).glob("*.yml")):
        try:
            cat = load_catalog(p)
        except Exception:  # a broken catalog is simply not reused
            continue
        frame = cat.frame
        by_name = {slug(n): t for t, n in zip(frame["touchpoint_id"], frame["name_en"],
                                               strict=True)}
        by_name.update({t: t for t in frame["touchpoint_id"]})
        hits: dict[str, str] = {}
        for c in tps:
            key = slug(_label(c.name, c.question))
            near = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.75) or [
                k for k in by_name if len(k) >= 6 and (key.startswith(k) or k.startswith(key))]
            if near:
                hits[c.name] = by_name[near[0]]
        if len(hits) == len(tps) and len(set(hits.values())) == len(tps) and (
                best is None or len(hits) > best[0]):
            best = (len(hits), cat.catalog_id, hits)
    if best is not None:
        for c in tps:
            c.spec["id"] = best[2][c.name]
        return best[1], None
    rows, used = [], set()
    for c in tps:
        label = _label(c.name, c.question)
        tid = slug(label)
        base, k = tid, 2
        while tid in used or tid in {"journey", "pre_sale", "sale", "post_sale"}:
            tid, k = f"{base}_{k}", k + 1
        used.add(tid)
        c.spec["id"] = tid
        stage, sure = _stage(label)
        rows.append({"id": tid, "name": label.strip(), "stage": stage, "sure": sure})
    return name, rows


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ ./+<>()-]*")


def _q(v: Any) -> str:
    """A YAML flow scalar, list or mapping on one line, safe inside ``{...}``.

    Strings are written plain only when YAML cannot read them as anything else
    (no ``: , ? # [ ] { }``, not a number or boolean); otherwise double-quoted
    (a JSON string is a valid YAML double-quoted scalar).
    """
    import json

    import yaml

    if isinstance(v, dict):
        return "{" + ", ".join(f"{_q(k)}: {_q(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_q(x) for x in v) + "]"
    if isinstance(v, str):
        plain = (_PLAIN.fullmatch(v) is not None and v == v.strip()
                 and yaml.safe_load(v) == v)
        return v if plain else json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


def _file_entry(path: Path) -> str:
    p = path.resolve()
    for base in (Path(config.RAW_DIR), Path(config.SHARED_DATA_DIR)):
        try:
            p.relative_to(base.resolve())
            return str(p.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(p)


def _mapping_yaml(d: Draft) -> str:
    out = [
        f"# Mapping drafted by `cx map` from {d.export.name} ({d.format} export, "
        f"{d.n_rows:,} rows) on {dt.date.today().isoformat()}.",
        "# REVIEW every line marked CHECK, then run `cx check " + d.name + "`.",
        "# Keys: README 'Bring your own survey' and cxlib/data/wide.py.",
        f"name: {d.name}",
        f"file: {_q(_file_entry(d.export))}   # data/raw/, the shared data folder, or absolute",
        f"catalog: {d.catalog}" + ("   # drafted beside this file: data/touchpoints/"
                                  f"{d.catalog}.yml" if d.new_catalog is not None else
                                  "   # a shipped catalog whose names match every touchpoint"),
    ]
    read = dict(d.read)
    if d.format != "table":
        read["format"] = d.format
    if read:
        out.append(f"read: {_q(read)}   # options for reading the export")
    if d.id_column is None:
        out.append("respondent_id: {row_number: true}   # CHECK: no unique id column; "
                   "ids r000001... follow the row order")
    else:
        out.append(f"respondent_id: {_q(d.id_column)}")
    date_is_col = any(c.role == "date" for c in d.columns)
    out.append(f"date: {_q(d.date)}" + ("" if date_is_col else
                                        "   # CHECK: no date column; the survey's date"))
    out.append(f"not_applicable: {_q(d.not_applicable)}   # codes/labels meaning 'did not use'")
    if d.values:
        out.append("values:   # answer labels -> scores (CHECK the order)")
        out += [f"  {_q(k)}: {v}" for k, v in sorted(d.values.items(), key=lambda kv: kv[1])]
    out.append("max_unparsed: 0.05   # above 5% text answers in a column that are no "
               "score/code/label: an error")
    out.append("touchpoints:")
    for c in d.columns:
        if c.role == "touchpoint":
            sp = c.spec
            note = f"   # {c.question}" if c.question and c.question != c.name else ""
            if c.notes:
                note += ("   #" if not note else ";") + " CHECK: " + "; ".join(c.notes)
            out.append(f"  {_q(c.name)}: {{id: {sp['id']}, metric: {sp['metric']}, "
                       f"scale: {_q(sp['scale'])}}}{note}")
    outs = [c for c in d.columns if c.role == "outcome"]
    if outs:
        out.append("outcomes:")
        for c in outs:
            sp = c.spec
            extra = f", values: {_q(sp['values'])}" if "values" in sp else ""
            note = f"   # CHECK: {'; '.join(c.notes)}" if c.notes else ""
            out.append(f"  {_q(c.name)}: {{id: journey, metric: {sp['metric']}, "
                       f"scale: {_q(sp['scale'])}{extra}}}{note}")
    segs = [c for c in d.columns if c.role == "segment"]
    if segs:
        out.append("segments:")
        for c in segs:
            if "bins" in c.spec:
                out.append(f"  {_q(c.name)}: {_q(c.spec)}   # CHECK the bins; values outside "
                           "them become 'unknown'")
            else:
                out.append(f"  {_q(c.name)}: {c.spec['name']}")
    ign = [c for c in d.columns if c.role == "ignored"]
    if ign:
        out.append("# not loaded:")
        out += [f"#   {c.name}: {'; '.join(c.notes)}" for c in ign]
    return "\n".join(out) + "\n"


def _catalog_yaml(d: Draft) -> str:
    assert d.new_catalog is not None
    out = [
        f"# Touchpoint catalog drafted by `cx map` for {d.name}: English names only",
        "# (tr/az may be added later: until then the English name is shown, with one",
        "# warning listing what to translate). Stages: before, during, after the sale.",
        "# CHECK each stage; lines marked GUESS could not be placed from the name.",
        f"catalog: {d.catalog}",
        f"names: {{en: {_q(d.name.replace('_', ' ').title())}}}",
        "touchpoints:",
    ]
    for r in d.new_catalog:
        mark = "" if r["sure"] else "   # GUESS: the name does not say the stage"
        out.append(f"  - {{id: {r['id']}, names: {{en: {_q(r['name'])}}}, "
                   f"stage: {r['stage']}}}{mark}")
    return "\n".join(out) + "\n"


def write_draft(d: Draft, *, force: bool = False) -> list[Path]:
    """Write the mapping (``data/mappings/NAME.yml``) and any drafted catalog.

    Raises
    ------
    DataError
        A file already exists and ``force`` is False (a reviewed mapping is
        never overwritten by accident).
    """
    from cxlib.io import write_text_atomic

    targets = [(config.mapping_path(d.name), d.mapping_yaml())]
    cat = d.catalog_yaml()
    if cat is not None:
        targets.append((config.catalog_path(d.catalog), cat))
    for p, _ in targets:
        if p.exists() and not force:
            raise DataError(f"{p} exists; review it, or pass --force to draft it again "
                            "(or choose another --name)", path=p, rule="no overwrite")
    return [write_text_atomic(p, text) for p, text in targets]


def main(argv: list[str] | None = None) -> int:
    """``cx map EXPORT [--name NAME] [--force] [--print]``."""
    ap = argparse.ArgumentParser(prog="cx map", description="Draft a mapping and a catalog "
                                 "from a wide survey export, for review.")
    ap.add_argument("export", help="the export: CSV, Excel, SPSS .sav, Qualtrics, SurveyMonkey")
    ap.add_argument("--name", help="dataset name (default: the file name)")
    ap.add_argument("--force", action="store_true", help="overwrite an existing draft")
    ap.add_argument("--sep", help="CSV delimiter (default: sniffed)")
    ap.add_argument("--encoding", help="CSV encoding (default: detected)")
    ap.add_argument("--sheet", help="Excel sheet name (default: the first)")
    ap.add_argument("--print", dest="show", action="store_true",
                    help="print the YAML instead of writing it")
    args = ap.parse_args(argv)
    d = draft(args.export, name=args.name, sep=args.sep, encoding=args.encoding,
              **({"sheet_name": args.sheet} if args.sheet else {}))
    if args.show:
        print(d.mapping_yaml())
        if d.catalog_yaml():
            print(d.catalog_yaml())
        return 0
    for p in write_draft(d, force=args.force):
        print(f"wrote {p}")
    n_tp = sum(c.role == "touchpoint" for c in d.columns)
    print(f"{d.n_rows:,} rows; {n_tp} touchpoint columns, "
          f"{sum(c.role == 'outcome' for c in d.columns)} outcome(s), "
          f"{sum(c.role == 'segment' for c in d.columns)} segment(s); catalog {d.catalog!r}")
    if d.checks:
        print("\nCheck before use:")
        for i, c in enumerate(d.checks, 1):
            print(f"  {i}. {c}")
    print(f"\nThen: cx check {d.name}")
    return 0
