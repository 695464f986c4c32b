"""``cx survey``: a questionnaire per touchpoint, from the catalog, whose answers load back.

Seed 001 asks to list every touchpoint and collect feedback at each important
one. :func:`build` turns a touchpoint catalog into a :class:`Form`: one
satisfaction question (CSAT 1-5) per chosen touchpoint with a "did not use /
not applicable" choice (code ``0``), optional effort questions (CES 1-7, asked
only when the touchpoint was used) at service touchpoints, the overall (1-10),
NPS (0-10) and open-comment questions, and the segment questions the analyst
names; all in English, Turkish and Azerbaijani (templates in
``cxlib/locales/survey.yml``: a touchpoint's name is never inflected, so the
grammar holds for any name).

:func:`write` writes, into one folder:

* ``NAME.xlsx``: an **XLSForm** (KoboToolbox, ODK, SurveyCTO, Ona...), checked
  with pyxform before it is written;
* ``NAME.<lang>.html``: a printable form per language (paper, phone interviews);
* ``NAME.mapping.yml``: the mapping that loads the tool's export with no edits
  (question names are the export's column names, choice names its codes;
  the respondent id is the tool's submission id, else the row number).

Which touchpoints: every leaf by default, the ones named, the leaves of the
stages named, or (``gaps``) the blind spots and low-base leaves of a dataset's
coverage report.
"""

from __future__ import annotations

import argparse
import html
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib.errors import ParameterError
from cxlib.i18n import LANGUAGES

__all__ = ["CES_CHANNELS", "EXPORT_ID_COLUMNS", "Form", "Question", "build", "gaps",
           "html_form", "main", "mapping", "write", "xlsform"]

#: Channels whose touchpoints get an effort (CES) question with ``ces=True``.
CES_CHANNELS = ("people", "phone")
#: Submission-id columns of the tools' exports, first found is the respondent id
#: (KoboToolbox ``_uuid``, ODK Central ``KEY``, others ``instanceID``).
EXPORT_ID_COLUMNS = ["_uuid", "KEY", "meta-instanceID", "meta/instanceID", "instanceID"]
NA_CODE = 0
SCALES = {"csat": (1, 5), "ces": (1, 7), "overall": (1, 10), "nps": (0, 10)}


@lru_cache(maxsize=1)
def _texts() -> dict[str, Any]:
    from cxlib.io import read_yaml

    return read_yaml(Path(__file__).resolve().parent.parent / "locales" / "survey.yml",
                     what="survey templates")


@dataclass(frozen=True)
class Question:
    """One question of the form: its export column, type, labels and how it loads."""

    name: str
    kind: str  # csat | ces | overall | nps | comment | segment | age | note
    labels: dict[str, str]
    touchpoint_id: str | None = None
    stage: str | None = None
    choices: str | None = None
    relevant: str | None = None


@dataclass
class Form:
    """A questionnaire built from a catalog (see :func:`build`)."""

    name: str
    catalog: Any
    questions: list[Question]
    choice_lists: dict[str, list[tuple[str, dict[str, str]]]]
    segments: dict[str, list[str]] = field(default_factory=dict)

    @property
    def touchpoints(self) -> list[str]:
        """Touchpoint ids with a satisfaction question, in journey order."""
        return [q.touchpoint_id for q in self.questions if q.kind == "csat"]

    def table(self, language: str = "en") -> pd.DataFrame:
        """The questions as a tidy table: ``name``, ``kind``, ``touchpoint_id``,
        ``stage``, ``question`` (in ``language``)."""
        return pd.DataFrame([{"name": q.name, "kind": q.kind, "touchpoint_id": q.touchpoint_id,
                              "stage": q.stage, "question": q.labels[language]}
                             for q in self.questions if q.kind != "note"])


def gaps(responses: pd.DataFrame, catalog: Any, *, min_base: int = 30) -> list[str]:
    """Leaves that are blind spots or low base in ``responses`` (the coverage rule).

    Returns
    -------
    list of str
        Leaf touchpoint ids whose status (itself and sub-touchpoints) is not
        ``covered`` in :func:`cxlib.analysis.coverage.coverage`, journey order.
    """
    from cxlib.analysis.coverage import coverage

    cov = coverage(responses, catalog, min_base=min_base)
    weak = set(cov.loc[cov["status"] != "covered", "touchpoint_id"])
    return [t for t in catalog.leaves() if t in weak]


def build(catalog: Any, *, touchpoints: list[str] | None = None,
          stages: list[str] | None = None, ces: bool | list[str] = False,
          segments: dict[str, list[str]] | None = None, overall: bool = True,
          nps: bool = True, comment: bool = True, name: str | None = None) -> Form:
    """Build a questionnaire from a touchpoint catalog.

    Parameters
    ----------
    catalog
        A :class:`cxlib.data.catalog.Catalog` (or its name).
    touchpoints
        Touchpoint ids to ask about; default every leaf (of ``stages`` if given).
    stages
        Stage ids whose leaves to ask about.
    ces
        True: an effort question at every chosen touchpoint whose channel is in
        :data:`CES_CHANNELS`; or a list of touchpoint ids.
    segments
        Segment question name -> its answer options (``[]`` for ``age``: a
        number). Known names (age, gender, region, city, segment, channel) get
        translated wording; others are asked as "Name:".
    overall, nps, comment
        Whether to ask the whole-journey questions.
    name
        The form's name (default ``<catalog>_survey``).

    Returns
    -------
    Form

    Raises
    ------
    ParameterError
        Unknown touchpoint or stage ids, or nothing to ask.

    Examples
    --------
    >>> form = build("airline", stages=["post_flight"], ces=True)   # doctest: +SKIP
    >>> form.touchpoints                                             # doctest: +SKIP
    ['baggage_handling']
    """
    from cxlib.data.catalog import load_catalog

    cat = load_catalog(catalog) if isinstance(catalog, (str, Path)) else catalog
    t = _texts()
    problems = []
    if stages:
        problems += [f"unknown stage {s!r}; stages: {list(cat.stages)}" for s in stages
                     if s not in cat.stages]
    if touchpoints:
        problems += [f"unknown touchpoint {x!r} in catalog {cat.catalog_id!r}"
                     for x in touchpoints if x not in cat]
    if problems:
        import difflib

        problems = [p + (f" (did you mean {near[0]!r}?)" if (near := difflib.get_close_matches(
            p.split("'")[1], [*cat.ids, *cat.stages], n=1, cutoff=0.5)) else "")
            for p in problems]
        raise ParameterError(problems, source="cx survey")
    if touchpoints:
        chosen = [x for x in cat.ids if x in set(touchpoints)]
    else:
        chosen = [x for x in cat.leaves() if not stages or cat.stage_of(x) in stages]
    if not chosen:
        raise ParameterError(["no touchpoint to ask about: name touchpoints or stages that "
                              "exist, or a dataset with gaps"], source="cx survey")
    frame = cat.frame.set_index("touchpoint_id")
    if ces is True:
        ces_ids = {x for x in chosen if str(frame.loc[x, "channel"]) in CES_CHANNELS}
    else:
        ces_ids = set(ces or []) & set(chosen)
    brand = {lang: cat.names[lang] for lang in LANGUAGES}
    qs: list[Question] = []
    for stage in cat.stages:
        ids = [x for x in chosen if cat.stage_of(x) == stage]
        if not ids:
            continue
        qs.append(Question(f"stage_{stage}", "note", dict(cat.stage_names[stage]), stage=stage))
        for x in ids:
            names = {lang: _display(cat, x, lang) for lang in LANGUAGES}
            qs.append(Question(f"tp_{x}", "csat", {lang: t["csat"][lang].format(name=names[lang])
                                                   for lang in LANGUAGES},
                               touchpoint_id=x, stage=stage, choices="csat5"))
            if x in ces_ids:
                qs.append(Question(f"ces_{x}", "ces", {
                    lang: t["ces"][lang].format(name=names[lang]) for lang in LANGUAGES},
                    touchpoint_id=x, stage=stage, choices="ces7",
                    relevant=f"${{tp_{x}}} != '{NA_CODE}'"))
    if overall:
        qs.append(Question("overall", "overall", {lang: t["overall"][lang].format(
            brand=brand[lang]) for lang in LANGUAGES}, choices="overall10"))
    if nps:
        qs.append(Question("nps", "nps", {lang: t["nps"][lang].format(brand=brand[lang])
                                          for lang in LANGUAGES}, choices="nps11"))
    seg_lists = {}
    for seg, options in (segments or {}).items():
        known = t["segments"].get(seg)
        labels = dict(known) if known else {lang: t["segment"][lang].format(
            name=seg.replace("_", " ").capitalize()) for lang in LANGUAGES}
        if seg == "age" and not options:
            qs.append(Question(f"seg_{seg}", "age", labels))
            continue
        if not options:
            raise ParameterError([f"segment {seg!r} needs its answer options "
                                  f"(--segment {seg}:A|B|C)"], source="cx survey")
        seg_lists[f"seg_{seg}"] = list(options)
        qs.append(Question(f"seg_{seg}", "segment", labels, choices=f"seg_{seg}"))
    if comment:
        qs.append(Question("comment", "comment", dict(t["comment"])))
    return Form(name=name or f"{cat.catalog_id}_survey", catalog=cat, questions=qs,
                choice_lists=_choice_lists(seg_lists), segments=dict(segments or {}))


def _display(cat: Any, tp: str, lang: str) -> str:
    """A touchpoint's name, with its parent's for a sub-touchpoint ("Store - Cleanliness")."""
    parent = cat.parent(tp)
    own = cat.name(tp, lang)
    return f"{cat.name(parent, lang)} - {own}" if parent else own


def _choice_lists(segments: dict[str, list[str]]) -> dict[str, list[tuple[str, dict[str, str]]]]:
    c = _texts()["choices"]
    same = lambda v: {lang: str(v) for lang in LANGUAGES}  # noqa: E731

    def scale(lo: int, hi: int, low: str, high: str) -> list[tuple[str, dict[str, str]]]:
        out = []
        for v in range(lo, hi + 1):
            lab = same(v)
            if v in (lo, hi):
                lab = {lang: f"{v} - {c[low if v == lo else high][lang]}" for lang in LANGUAGES}
            out.append((str(v), lab))
        return out

    lists = {
        "csat5": [(k, dict(v)) for k, v in c["csat"].items()]
        + [(str(NA_CODE), dict(c["not_applicable"]))],
        "ces7": scale(1, 7, "ces_low", "ces_high"),
        "overall10": scale(1, 10, "overall_low", "overall_high"),
        "nps11": scale(0, 10, "nps_low", "nps_high"),
    }
    for name, options in segments.items():
        lists[name] = [(_choice_name(o, i), same(o)) for i, o in enumerate(options)]
    return lists


def _choice_name(option: str, i: int) -> str:
    from cxlib.data.mapdraft import slug

    s = slug(option)
    return s if not s.startswith("q_") else f"opt{i + 1}"


def xlsform(form: Form) -> dict[str, pd.DataFrame]:
    """The XLSForm sheets (``survey``, ``choices``, ``settings``) as DataFrames."""
    langs = _texts()["languages"]
    lab = lambda d: {f"label::{langs[lang]}": d[lang] for lang in LANGUAGES}  # noqa: E731
    rows = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"},
            {"type": "today", "name": "survey_date"},
            {"type": "note", "name": "intro", **lab({lang: _texts()["intro"][lang]
                                                     for lang in LANGUAGES})}]
    for q in form.questions:
        typ = {"note": "note", "comment": "text", "age": "integer"}.get(
            q.kind, f"select_one {q.choices}")
        row = {"type": typ, "name": q.name, **lab(q.labels)}
        if q.kind in ("csat", "ces", "overall", "nps"):
            row["required"] = "yes"
        if q.relevant:
            row["relevant"] = q.relevant
        if q.kind == "age":
            row["constraint"] = ". >= 0 and . < 120"
        rows.append(row)
    choices = [{"list_name": ln, "name": n, **lab(labels)}
               for ln, opts in form.choice_lists.items() for n, labels in opts]
    brand = form.catalog.names
    settings = [{"form_title": _texts()["title"]["en"].format(brand=brand["en"]),
                 "form_id": form.name, "default_language": langs["en"], "version": "1"}]
    return {"survey": pd.DataFrame(rows), "choices": pd.DataFrame(choices),
            "settings": pd.DataFrame(settings)}


def mapping(form: Form, *, file: str = "") -> dict[str, Any]:
    """The wide-to-long mapping that loads the form's export with no edits.

    Column names are the question names, codes the choice names, ``0`` the
    not-applicable code of ratings; the respondent id is the first of
    :data:`EXPORT_ID_COLUMNS` in the export, else the row number; the date is
    the form's ``survey_date``.
    """
    tps, outs, segs = {}, {}, {}
    for q in form.questions:
        if q.kind in ("csat", "ces"):
            tps[q.name] = {"id": q.touchpoint_id, "metric": q.kind, "scale": list(SCALES[q.kind])}
        elif q.kind in ("overall", "nps"):
            outs[q.name] = {"id": "journey", "metric": q.kind, "scale": list(SCALES[q.kind]),
                            "not_applicable": []}
        elif q.kind == "segment":
            segs[q.name] = {"name": q.name.removeprefix("seg_"),
                            "values": {n: labels["en"] for n, labels in
                                       form.choice_lists[q.choices or ""]}}
        elif q.kind == "age":
            segs[q.name] = {"name": "age_band", "bins": [0, 25, 40, 60, 120],
                            "labels": ["<25", "25-39", "40-59", "60+"]}
    out: dict[str, Any] = {
        "name": form.name, "file": file or f"{form.name}.csv",
        "catalog": _catalog_ref(form.catalog),
        "respondent_id": {"first_of": list(EXPORT_ID_COLUMNS), "row_number": True},
        "date": "survey_date", "read": {"date_format": "mixed"},
        "not_applicable": [NA_CODE], "touchpoints": tps}
    if outs:
        out["outcomes"] = outs
    if segs:
        out["segments"] = segs
    return out


def _catalog_ref(cat: Any) -> str:
    """The catalog's short name when it lives in data/touchpoints, else its path."""
    from cxlib import config

    if cat.path is None or Path(cat.path).resolve() == config.catalog_path(
            cat.catalog_id).resolve():
        return str(cat.catalog_id)
    return str(cat.path)


def html_form(form: Form, language: str = "en") -> str:
    """A printable HTML questionnaire in one language (no script, no external resource)."""
    t = _texts()
    esc = html.escape
    title = t["title"][language].format(brand=form.catalog.names[language])
    parts = [f"<!doctype html><html lang=\"{language}\"><head><meta charset=\"utf-8\">",
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'\">",
             f"<title>{esc(title)}</title><style>body{{font-family:sans-serif;max-width:48em;"
             "margin:2em auto} .q{margin:1em 0;page-break-inside:avoid} .o{display:inline-"
             "block;margin:.2em 1em .2em 0} .o::before{content:'\\25EF';margin-right:.3em}"
             " .line{border-bottom:1px solid #999;height:3em}</style></head><body>",
             f"<h1>{esc(title)}</h1><p>{esc(t['intro'][language])}</p>"]
    n = 0
    for q in form.questions:
        if q.kind == "note":
            parts.append(f"<h2>{esc(q.labels[language])}</h2>")
            continue
        n += 1
        parts.append(f"<div class=\"q\"><p><b>{n}.</b> {esc(q.labels[language])}</p>")
        if q.choices:
            parts += [f"<span class=\"o\">{esc(lab[language])}</span>"
                      for _, lab in form.choice_lists[q.choices]]
        else:
            parts.append("<div class=\"line\"></div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(form: Form, folder: str | Path) -> list[Path]:
    """Write the XLSForm (checked by pyxform), one HTML form per language and the mapping.

    Raises
    ------
    ParameterError
        pyxform rejects the form (the message says which row).
    """
    import io

    import yaml
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    from cxlib.io import write_bytes_atomic, write_text_atomic

    folder = Path(folder)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for sheet, df in xlsform(form).items():
            df.to_excel(xw, sheet_name=sheet, index=False)
    data = buf.getvalue()
    try:
        convert(xlsform=io.BytesIO(data), file_type=".xlsx", warnings=[])
    except PyXFormError as exc:
        raise ParameterError([f"the generated XLSForm is not valid: {exc}"],
                             source="cx survey") from exc
    out = [write_bytes_atomic(folder / f"{form.name}.xlsx", data)]
    for lang in LANGUAGES:
        out.append(write_text_atomic(folder / f"{form.name}.{lang}.html", html_form(form, lang)))
    text = ("# Mapping written by `cx survey` beside the form: the export of the form's\n"
            "# answers (CSV or Excel from KoboToolbox, ODK...) loads with it unchanged.\n"
            f"# Save the export as data/raw/{form.name}.csv (or set `file:`), copy this\n"
            f"# file to data/mappings/{form.name}.yml, and run `cx check {form.name}`.\n")
    text += yaml.safe_dump(mapping(form), allow_unicode=True, sort_keys=False, width=100)
    out.append(write_text_atomic(folder / f"{form.name}.mapping.yml", text))
    return out


def main(argv: list[str] | None = None) -> int:
    """``cx survey CATALOG [--gaps DATASET] [--stages ..] [--touchpoints ..] [--ces] ...``."""
    ap = argparse.ArgumentParser(prog="cx survey", description="Write a questionnaire "
                                 "(XLSForm + printable HTML, en/tr/az) and its mapping from a "
                                 "touchpoint catalog.")
    ap.add_argument("catalog", help="catalog name (retail, airline...) or YAML path")
    ap.add_argument("--out", default="", help="output folder (default reports/forms/NAME)")
    ap.add_argument("--name", help="form name (default CATALOG_survey)")
    ap.add_argument("--gaps", metavar="DATASET",
                    help="only the blind spots and low-base leaves of this dataset")
    ap.add_argument("--min-base", type=int, default=30)
    ap.add_argument("--stages", help="comma-separated stage ids")
    ap.add_argument("--touchpoints", help="comma-separated touchpoint ids")
    ap.add_argument("--ces", action="store_true", help="effort questions at service touchpoints")
    ap.add_argument("--segment", action="append", default=[],
                    help="segment question NAME[:A|B|C] (age needs no options); repeatable")
    ap.add_argument("--no-nps", action="store_true")
    ap.add_argument("--no-overall", action="store_true")
    ap.add_argument("--no-comment", action="store_true")
    args = ap.parse_args(argv)
    from cxlib import config
    from cxlib.data.catalog import load_catalog

    cat = load_catalog(args.catalog)
    tps = [x for x in (args.touchpoints or "").split(",") if x] or None
    if args.gaps:
        from cxlib.data import datasets

        tps = gaps(datasets.load(args.gaps).responses, cat, min_base=args.min_base)
        print(f"{len(tps)} touchpoint(s) without enough answers in {args.gaps!r}: "
              f"{', '.join(tps) or 'none'}")
        if not tps:
            return 0
    segs = {}
    for s in args.segment:
        key, _, opts = s.partition(":")
        segs[key.strip()] = [o.strip() for o in opts.split("|") if o.strip()]
    form = build(cat, touchpoints=tps, stages=[x for x in (args.stages or "").split(",") if x]
                 or None, ces=args.ces, segments=segs, overall=not args.no_overall,
                 nps=not args.no_nps, comment=not args.no_comment, name=args.name)
    folder = Path(args.out) if args.out else config.REPORTS_DIR / "forms" / form.name
    for p in write(form, folder):
        print(f"wrote {p}")
    print(f"{len(form.touchpoints)} touchpoint question(s). Upload {form.name}.xlsx to your "
          f"survey tool; save its CSV export as data/raw/{form.name}.csv; copy "
          f"{form.name}.mapping.yml to data/mappings/{form.name}.yml; run `cx check {form.name}`.")
    return 0
