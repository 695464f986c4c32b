"""The manager brief of one job: the answer first, then figures, tables, methods.

Built from what the notebook recorded (its results file: parameters,
headlines, moves, tables, methods) and the figures it drew (the PNG/SVG
outputs of the executed notebook), never from the notebook with its code
hidden. In order:

1. title (the notebook's question), dataset, segment and period in words;
2. a banner when the job failed or did not finish, and then no numbers;
3. the headline findings as sentences with the number, its interval and base
   ("During the sale, the weakest link is Checkout: 2.89 of 5 [2.83; 2.94],
   2,107 respondents"), a sentence on each panel drawn on public data (notebook
   04's outside checks: which data, what they show, not the client's), the
   decision in words with the money, KPI tiles; an innovation is named in the
   report's language (recorded names, else the synthetic world's truth.json);
4. the figures; 5. formatted tables (:mod:`cxlib.share.tables`); 6. the
   methods appendix (:mod:`cxlib.share.appendix`).

Every word comes from the message catalog in the report's language
(:mod:`cxlib.i18n`); every number from :mod:`cxlib.share.formats`, the same
formatter the run index and the Excel workbook use. :func:`kpis` is what the
index shows for a job, so the numbers agree by construction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from cxlib import i18n
from cxlib.share import formats
from cxlib.share.tables import Table, flag_text, manager_tables, move_segment

__all__ = ["Brief", "brief_html", "build_brief", "context_labels", "dataset_facts",
           "figures_of", "kpis", "notebook_status", "question_title", "segment_values", "word"]

#: Highest score of each metric's scale ("2.89 of 5"); overall has no fixed top.
SCALE_MAX = {"csat": 5, "ces": 7, "nps": 10}


@dataclass
class Brief:
    """Everything a brief shows, already in the report's language."""

    language: str
    title: str
    context: list[tuple[str, str]]
    status: str = "ok"
    banner: str = ""
    findings: list[str] = field(default_factory=list)
    decision: dict[str, str] | None = None
    tiles: list[dict[str, Any]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    #: Sentences under the figures (what outside data a panel shows).
    figure_notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    appendix: str = ""


# --------------------------------------------------------------------------- context

def question_title(notebook: str, lang: str) -> str:
    """The notebook's question in ``lang`` (its title), else its name in words."""
    key = f"nb_{notebook}"
    if i18n.has(key):
        return i18n.t(key, lang)
    return re.sub(r"^\d+_", "", notebook).replace("_", " ").capitalize()


def context_labels(params: dict[str, Any], *, lang: str, truth: dict[str, Any] | None = None,
                   moves: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Dataset, segment and period of a job in words (``{"dataset", "segment", "period"}``)."""
    from pathlib import PurePath

    ds = str(params.get("dataset") or "")
    dataset = i18n.t(f"ds_{ds}", lang) if i18n.has(f"ds_{ds}") else (
        PurePath(ds).name or formats.MISSING)
    # the job's filter in words, as its moves name it (a customer id masked: it never
    # reaches a title, sheet or file)
    segment = move_segment({}, params, lang)[2]
    start, end = params.get("start") or "", params.get("end") or ""
    span = (truth or {}).get("period") or {}
    start, end = start or span.get("start", ""), end or span.get("end", "")
    if start and end:
        period = f"{_date(start, lang)} – {_date(end, lang)}"
    else:
        period = i18n.t("all_dates", lang)
    per = params.get("period")
    if per and i18n.has(f"per_{per}"):
        period += " · " + i18n.t("trend_by", lang).format(period=i18n.t(f"per_{per}", lang))
    latest = [(m.get("previous_period"), m.get("period")) for m in moves or []
              if m.get("previous_period") and m.get("period")]
    if latest:
        prev, cur = max(latest, key=lambda x: str(x[1]))
        period += " · " + i18n.t("latest_vs", lang).format(
            current=formats.period(cur, lang), previous=formats.period(prev, lang))
    return {"dataset": dataset, "segment": segment, "period": period}


def _date(s: str, lang: str) -> str:
    s = str(s)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", s):
        return i18n.format_date(s[:10], lang)
    return s


def dataset_facts(dataset: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """Open a job's dataset once: its catalog, planted truth (period) and currency.

    Returns ``{"catalog", "truth", "currency"}`` (each None when unknown); the
    currency is the job's ``currency`` parameter, else the world's
    ``truth.json`` ``currency``.
    """
    import json

    from cxlib.data.catalog import load_catalog

    world = truth = catalog = None
    if dataset:
        try:
            from cxlib.data import datasets

            world = datasets.load(dataset)
            if world.folder is not None and (world.folder / "truth.json").exists():
                truth = json.loads((world.folder / "truth.json").read_text(encoding="utf-8"))
        except Exception:  # a report is still rendered, with less context
            world = None
    name = params.get("catalog") or (world.catalog_name if world is not None else None)
    if name:
        try:
            catalog = load_catalog(name)
        except Exception:  # ids instead of names
            catalog = None
    currency = params.get("currency") or (truth or {}).get("currency") or None
    return {"catalog": catalog, "truth": truth, "currency": currency}


# --------------------------------------------------------------------------- headlines

def _kind(h: dict[str, Any], params: dict[str, Any]) -> str:
    key = str(h.get("key", ""))
    if key.startswith("weakest_"):
        return "score"
    if key in ("nps",):
        return "points"
    if key in ("r2",) or key.startswith("driver_") or h.get("unit") == "share of R²":
        return "share"
    if key in ("margin_per_point", "net"):
        return "money"
    if key == "att":
        return "money" if params.get("outcome", "margin") == "margin" else "score"
    if key == "pretrend_p" or key.endswith("_p"):
        return "pvalue"
    if key == "p_net_positive":
        return "probability"
    if key == "roi":
        return "percent"
    if key == "payback_periods":
        return "periods"
    # notebook 04: contact rates a customer-month, money a year, CSAT points
    if key.startswith(("threshold_", "money_optimal_")):
        return "number"
    if key.startswith("worth_per_year_"):
        return "money"
    if key.startswith(("continuity_", "mood_")):
        return "score"
    if key.startswith("n_") or key == "significant_moves" or isinstance(h.get("value"), int):
        return "count"
    # a headline may declare its kind by its unit (notebook 05: share, currency, days)
    by_unit = {"share": "share", "currency": "money", "days": "count"}
    if h.get("unit") in by_unit:
        return by_unit[str(h.get("unit"))]
    return "number"


def _name(cat: Any, v: Any, lang: str) -> str:
    if v in (None, ""):
        return formats.MISSING
    if str(v) in ("none", "n/a"):
        return i18n.t(str(v), lang)
    if cat is not None:
        try:
            return str(cat.name(str(v), lang))
        except Exception:
            pass
    return str(v)


def _num(h: dict[str, Any], kind: str, lang: str, currency: str | None,
         field_: str = "value") -> tuple[str, str]:
    """The headline's number and interval, formatted."""
    v = h.get(field_)
    cur = currency if kind == "money" else None
    return (formats.value(v, kind, lang, currency=cur),
            formats.interval(h.get("ci_low"), h.get("ci_high"), kind, lang))


def _label(h: dict[str, Any], cat: Any, params: dict[str, Any], lang: str) -> str:
    """A headline's short label (tiles, index), known by its key."""
    key = str(h.get("key", ""))
    own = str(h.get("label") or key)
    if m := re.fullmatch(r"weakest_(\w+)", key):
        return i18n.t("hl_weakest", lang).format(stage=_name(cat, m.group(1), lang))
    if m := re.fullmatch(r"driver_(\d+)", key):
        return i18n.t("hl_driver", lang).format(
            rank=m.group(1), name=_name(cat, h.get("touchpoint_id"), lang))
    if key == "n_low_base":
        base = params.get("min_base")
        if base is None:
            found = re.search(r"(\d+)", own)
            base = int(found.group(1)) if found else "?"
        return i18n.t("hl_n_low_base", lang).format(min_base=formats.value(base, "count",
                                                                            lang))
    if key == "margin_per_point":
        return i18n.t("hl_margin_per_point", lang).format(
            name=_name(cat, h.get("touchpoint_id"), lang))
    if key == "att":
        found = re.fullmatch(r"Effect of (.+) on (\w+) per unit-period", own)
        innovation = (h.get("names") or {}).get(lang) or (
            found.group(1) if found else str(params.get("innovation_id", "")))
        outcome = params.get("outcome") or (found.group(2) if found else "")
        return i18n.t("hl_att", lang).format(innovation=innovation,
                                             outcome=word(outcome, lang))
    if m := _CARE.fullmatch(key):
        return i18n.t(f"hl_{m.group(1)}", lang).format(group=_group(m.group(2), lang,
                                                                     params))
    if i18n.has(f"hl_{key}"):
        return i18n.t(f"hl_{key}", lang)
    return i18n.phrase(own, lang)


#: Notebook 04's per-group headlines: ``threshold_mass``, ``money_optimal_all``...
_CARE = re.compile(r"(threshold|money_optimal|worth_per_year)_(.+)")


def _group(g: Any, lang: str, params: dict[str, Any] | None = None) -> str:
    """A group of customers of notebook 04 (``all``: every customer) in words: a
    segment by the catalog's ``v_group_<g>`` / ``v_<compare_by>_<g>``."""
    return formats.category(g, lang, "group", params=params)


def word(s: Any, lang: str) -> str:
    """A word cxlib records (metric, outcome, decision...) from the catalog (``w_<word>``)."""
    key = "w_" + str(s).replace(" ", "_").replace("-", "_").lower()
    return i18n.t(key, lang) if i18n.has(key) else i18n.phrase(str(s), lang)


def _fix_first(results: dict[str, Any], cat: Any, lang: str) -> list[str]:
    rows = (results.get("tables") or {}).get("importance_performance") or []
    return [_name(cat, r.get("driver"), lang) for r in rows if r.get("quadrant") == "fix first"]


def _base(n: Any, lang: str, unit: str = "respondents") -> str:
    if not formats.is_number(n):
        return ""
    return i18n.t(f"base_{unit}", lang).format(n=formats.value(n, "count", lang))


def _base_unit(h: dict[str, Any]) -> str:
    """What a headline's ``n`` counts: respondents, customers, orders or answers."""
    key = str(h.get("key", ""))
    if _CARE.fullmatch(key) or key in ("share_value_destroying", "top_decile_profit",
                                       "bottom_decile_profit", "margin_per_point"):
        return "customers"
    if key in ("self_service_share", "cutoff_customer_days", "later_cutoff_days_saved"):
        return "orders"
    if key.startswith(("continuity_", "mood_")):
        return "answers"  # service answers (a customer answers several times)
    return "respondents"


def _tidy(s: str, lang: str) -> str:
    """A sentence without the gaps an empty interval or base leaves, capitalised."""
    s = re.sub(r"\s+([,.;)])", r"\1", re.sub(r"\s{2,}", " ", s)).replace("()", "")
    s = re.sub(r",\s*([.)])", r"\1", s).replace(" .", ".").strip()
    return _capital(s, lang)


def _hour(h: Any) -> str:
    """An hour of the day (12.5) as a clock time (12:30)."""
    if not formats.is_number(h):
        return formats.MISSING
    minutes = round(float(h) * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _care_sentence(h: dict[str, Any], heads: dict[str, dict[str, Any]],
                   params: dict[str, Any], lang: str, currency: str | None) -> str | None:
    """Notebook 04, one group: its nuisance threshold, money-optimal rate and worth."""
    m = _CARE.fullmatch(str(h.get("key", "")))
    assert m is not None
    what, g = m.groups()
    th, opt, worth = (heads.get(f"{w}_{g}") for w in ("threshold", "money_optimal",
                                                       "worth_per_year"))
    if (what == "money_optimal" and th is not None) or (what == "worth_per_year"
                                                        and (opt or th) is not None):
        return None  # said in the group's first sentence
    t = lambda k, **kw: i18n.t(k, lang).format(**kw)  # noqa: E731
    group = _group(g, lang, params)
    parts = []
    if th is not None:
        base = _base(th.get("n"), lang, "customers")
        today = formats.value(th.get("today"), "number", lang)
        outcome = word(params.get("outcome") or "retained", lang)
        value, ci = _num(th, "number", lang, None)
        flag = str(th.get("flag") or "")
        v = th.get("value")
        if not formats.is_number(v) or math.isnan(float(v)):
            parts.append(t("s_threshold_few", group=group, base=base))
        elif flag == "falls from the start":
            parts.append(t("s_threshold_from_start", group=group, outcome=outcome,
                           today=today, base=base))
        elif flag == "no turn within the data":
            parts.append(t("s_threshold_no_turn", group=group, outcome=outcome, value=value,
                           today=today, base=base))
        else:
            parts.append(t("s_threshold", group=group, outcome=outcome, value=value,
                           interval=ci, today=today, base=base))
    if opt is not None:
        value, ci = _num(opt, "number", lang, None)
        w, wci = _num(worth, "money", lang, currency) if worth else (formats.MISSING, "")
        today = formats.value(opt.get("today"), "number", lang)
        if th is not None:
            parts.append(t("s_money_optimal", value=value, interval=ci, today=today, worth=w,
                           worth_interval=wci))
        else:
            parts.append(t("s_money_optimal_only", group=group, value=value, interval=ci,
                           today=today, worth=w, worth_interval=wci,
                           base=_base(opt.get("n"), lang, "customers")))
    if not parts:  # a worth without its rate
        value, ci = _num(h, "money", lang, currency)
        parts.append(f"{_label(h, None, params, lang)}: {value} {ci}.")
    return " ".join(_tidy(x, lang) for x in parts)


def _profit_sentence(h: dict[str, Any], heads: dict[str, dict[str, Any]],
                     params: dict[str, Any], lang: str, currency: str | None) -> str | None:
    """Notebook 05: value destroyed, deciles, segments, self-service, cut-off rule."""
    key = str(h.get("key", ""))
    t = lambda k, **kw: i18n.t(k, lang).format(**kw)  # noqa: E731
    value, ci = _num(h, _kind(h, params), lang, currency)
    base = _base(h.get("n"), lang, _base_unit(h))
    if key == "share_value_destroying":
        return _tidy(t("s_share_value_destroying", value=value, base=base), lang)
    if key == "bottom_decile_profit" and "top_decile_profit" in heads:
        return None
    if key == "top_decile_profit":
        bottom = heads.get("bottom_decile_profit") or {}
        return _tidy(t("s_deciles", top=value,
                       bottom=formats.value(bottom.get("value"), "money", lang,
                                            currency=currency), base=base), lang)
    if key.startswith("segments_"):
        if key != "segments_target" and "segments_target" in heads:
            return None

        def names(k: str) -> str:
            v = (heads.get(k) or {}).get("value")
            return (i18n.t("none", lang) if v in (None, "", "none")
                    else segment_values(v, params, lang))

        return _tidy(t("s_segments", target=names("segments_target"),
                       win_back=names("segments_win_back"),
                       stop=names("segments_stop_serving_at_a_loss")), lang)
    if key == "self_service_share":
        return _tidy(t("s_self_service_share", value=value, interval=ci, base=base), lang)
    if key == "later_cutoff_days_saved" and "cutoff_customer_days" in heads:
        return None
    if key == "cutoff_customer_days":
        out = _tidy(t("s_cutoff", hour=_hour(params.get("cutoff_hour")), value=value,
                      interval=ci, base=base), lang)
        later = heads.get("later_cutoff_days_saved")
        if later is not None:
            v, c = _num(later, "count", lang, None)
            out += " " + _tidy(t("s_cutoff_later", hour=_hour(params.get("new_cutoff_hour")),
                                 value=v, interval=c), lang)
        return out
    if key == "partner_weight_share":
        return _tidy(t("s_partner_weight_share", value=value), lang)
    return None


_PROFIT_KEYS = ("share_value_destroying", "top_decile_profit", "bottom_decile_profit",
                "segments_target", "segments_win_back", "segments_stop_serving_at_a_loss",
                "self_service_share", "cutoff_customer_days", "later_cutoff_days_saved",
                "partner_weight_share")


def _sentence(h: dict[str, Any], results: dict[str, Any], cat: Any, lang: str,
              currency: str | None) -> str | None:
    """One headline as a sentence with its number, interval and base (None: not a finding)."""
    params = results.get("parameters") or {}
    key = str(h.get("key", ""))
    kind = _kind(h, params)
    value, ci = _num(h, kind, lang, currency)
    n = _base(h.get("n"), lang, _base_unit(h))
    one = h.get("value") == 1 and not isinstance(h.get("value"), bool)

    def t(k: str, **kw: Any) -> str:  # a count of one in the singular ("1 touchpoint has")
        k = f"{k}_one" if one and i18n.has(f"{k}_one") else k
        return i18n.t(k, lang).format(**kw)

    heads = {str(x.get("key", "")): x for x in results.get("headlines", [])}
    if _CARE.fullmatch(key):
        return _care_sentence(h, heads, params, lang, currency)
    if key.startswith(("continuity_", "mood_")) and i18n.has(f"s_{key}"):
        return _tidy(t(f"s_{key}", value=value, interval=ci, base=n), lang)
    if key in _PROFIT_KEYS:
        return _profit_sentence(h, heads, params, lang, currency)
    if m := re.fullmatch(r"weakest_(\w+)", key):
        stage = _name(cat, m.group(1), lang)
        verdict = str(h.get("value"))
        if verdict == "none":
            return t("s_weakest_none", stage=stage)
        if verdict == "n/a":
            return t("s_weakest_na", stage=stage)
        est, ci = _num(h, "score", lang, None, "estimate")
        top = SCALE_MAX.get(str(h.get("metric") or params.get("metric") or ""))
        score = t("score_of", value=est, max=top) if top else est
        return t("s_weakest", stage=stage, touchpoint=_name(cat, verdict, lang),
                 score=score, interval=ci, base=n)
    if key == "nps":
        return t("s_nps", value=value, interval=ci, base=n)
    if key == "significant_moves":
        return t("s_moves", value=value) if h.get("value") else t("s_moves_none")
    if key == "n_touchpoints":
        return t("s_n_touchpoints", value=value)
    if key == "n_blind_spots":
        return t("s_n_blind_spots", value=value) if h.get("value") else t("s_no_blind_spots")
    if key == "n_low_base":
        if not h.get("value"):
            return None
        return t("s_n_low_base", value=value, min_base=params.get("min_base", "?"))
    if key == "n_respondents":
        return t("s_n_respondents", value=value)
    if key == "r2":
        return t("s_r2", value=value, interval=ci, base=n,
                 outcome=word(params.get("outcome", "overall"), lang))
    if m := re.fullmatch(r"driver_(\d+)", key):
        return t("s_driver", rank=m.group(1), touchpoint=_name(cat, h.get("touchpoint_id"),
                                                               lang), value=value, interval=ci)
    if key == "fix_first":
        names = _fix_first(results, cat, lang)
        return t("s_fix_first", names=", ".join(names)) if names else t("s_fix_first_none")
    if key == "margin_per_point":
        return t("s_margin_per_point", touchpoint=_name(cat, h.get("touchpoint_id"), lang),
                 value=value, interval=ci, base=_base(h.get("n"), lang, "customers"))
    if key == "att":
        return t("s_att", label=_label(h, cat, params, lang), value=value, interval=ci,
                 base=_base(h.get("n"), lang, "units"))
    if key == "pretrend_p":
        p = h.get("value")
        if not formats.is_number(p) or math.isnan(float(p)):
            return None
        return t("s_pretrend_ok" if float(p) >= 0.05 else "s_pretrend_bad", value=value)
    if key in ("net", "p_net_positive", "roi", "payback_periods", "decision"):
        return None  # the decision box says these
    label = _label(h, cat, params, lang)
    return " ".join(x for x in (f"{label}: {value}", ci, f"({n})" if n else "") if x) + "."


def _decision(results: dict[str, Any], lang: str, currency: str | None
              ) -> dict[str, str] | None:
    heads = {h["key"]: h for h in results.get("headlines", [])}
    d = heads.get("decision")
    if d is None:
        return None
    word = str(d.get("value") or "no decision")
    parts = []
    if "net" in heads:
        v, ci = _num(heads["net"], "money", lang, currency)
        parts.append(i18n.t("d_net", lang).format(value=v, interval=ci))
    if "p_net_positive" in heads:
        parts.append(i18n.t("d_p_net", lang).format(
            value=formats.value(heads["p_net_positive"].get("value"), "probability", lang)))
    if "roi" in heads:
        v, ci = _num(heads["roi"], "percent", lang, None)
        parts.append(i18n.t("d_roi", lang).format(value=v, interval=ci))
    pay = heads.get("payback_periods")
    if pay is not None:
        if formats.is_number(pay.get("value")):
            v, ci = _num(pay, "periods", lang, None)
            parts.append(i18n.t("d_payback", lang).format(value=v, interval=ci))
        else:
            parts.append(i18n.t("d_no_payback", lang).format(
                horizon=formats.value(pay.get("horizon"), "count", lang)))
    key = word.replace(" ", "_").replace("/", "")
    return {"word": i18n.t(f"dec_{key}", lang) if i18n.has(f"dec_{key}") else word,
            "css": key, "why": i18n.t(f"why_{key}", lang) if i18n.has(f"why_{key}") else "",
            "money": _capital("; ".join(parts), lang) + ("." if parts else "")}


def _capital(s: str, lang: str) -> str:
    return i18n.upper(s[:1], lang) + s[1:]


def segment_values(value: Any, params: dict[str, Any], language: str) -> str:
    """Segment names of a notebook-05 headline ("trade, regular") in ``language``.

    Each name is looked up as ``v_<compare_by>_<name>`` in the message catalog (the
    figures use the same keys; :func:`cxlib.share.formats.category`), else shown as
    it is; "none" is translated.
    """
    column = str(params.get("compare_by") or "segment")
    items = [x.strip() for x in str(value).split(",") if x.strip()]
    if not items or items == ["none"]:
        return i18n.t("none", language)
    return ", ".join(formats.category(x, language, column, params=params) for x in items)


def kpis(results: dict[str, Any] | None, *, catalog: Any = None, language: str = "en",
         currency: str | None = None) -> list[dict[str, Any]]:
    """The KPI tiles of a job: label, value, interval, base, flag (brief and index)."""
    out: list[dict[str, Any]] = []
    if not results:
        return out
    params = results.get("parameters") or {}
    for h in results.get("headlines", []):
        key = str(h.get("key", ""))
        kind = _kind(h, params)
        if key == "fix_first":
            names = _fix_first(results, catalog, language)
            value, ci, sub = (", ".join(names) or i18n.t("none", language)), "", ""
        elif key == "decision":
            d = _decision(results, language, currency)
            value, ci, sub = (d or {}).get("word", ""), "", ""
        elif key.startswith("weakest_"):
            value = _name(catalog, h.get("value"), language)
            est, ci = _num(h, "score", language, None, "estimate")
            sub = est if str(h.get("value")) not in ("none", "n/a") else ""
            if not sub:
                ci = ""
        elif key.startswith("segments_") and isinstance(h.get("value"), str):
            value, ci, sub = segment_values(h["value"], params, language), "", ""
        elif isinstance(h.get("value"), str):
            value, ci, sub = _name(catalog, h["value"], language), "", ""
        else:
            value, ci = _num(h, kind, language, currency)
            sub = ""
        flag = h.get("flag")
        out.append({"key": key, "label": _label(h, catalog, params, language),
                    "value": value, "score": sub, "ci": ci,
                    "n": formats.value(h["n"], "count", language)
                    if formats.is_number(h.get("n")) else "",
                    "flag": flag_text(flag, language),
                    "raw": h.get("value"), "kind": kind})
    return out


# --------------------------------------------------------------------------- notebook

def notebook_status(nb: Any) -> tuple[str, str]:
    """``("ok" | "failed" | "incomplete", what happened)`` read from an executed notebook.

    Failed: a cell raised (papermill's ``exception`` flag or an error output);
    incomplete: cells papermill marks pending/running (a timeout or a dead
    kernel). The description names the cell number and the exception type
    only, never its message (it may carry a path or personal data).
    """
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return "failed", f"{i}: {out.get('ename', 'Error')}"
        if cell.get("metadata", {}).get("papermill", {}).get("status") in ("running",
                                                                           "pending"):
            return "incomplete", f"{i}"
    if nb.metadata.get("papermill", {}).get("exception"):
        return "failed", ""
    return "ok", ""


def figures_of(nb: Any, *, values: Any = None, mask: bool = True) -> list[str]:
    """The figures a notebook drew, as ``<img>`` HTML with data URIs (PNG, then SVG)."""
    from cxlib.share import privacy

    figs = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = out.get("data", {})
            png = data.get("image/png")
            svg = data.get("image/svg+xml")
            if png:
                png = "".join(png) if isinstance(png, list) else png
                png = re.sub(r"\s+", "", png)
                if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", png):  # base64, nothing else
                    figs.append(f'<img src="data:image/png;base64,{png}" alt="">')
            elif svg:
                svg = "".join(svg) if isinstance(svg, list) else svg
                figs.append(privacy.svg_to_img(svg, values, mask=mask, alt=""))
    return [f for f in figs if f]


# --------------------------------------------------------------------------- brief

def build_brief(results: dict[str, Any] | None, *, notebook: str, nb: Any = None,
                catalog: Any = None, language: str = "en", status: str = "ok",
                problem: str = "", currency: str | None = None,
                truth: dict[str, Any] | None = None, appendix: str = "",
                params: dict[str, Any] | None = None, values: Any = None) -> Brief:
    """Assemble a :class:`Brief` (see the module docstring).

    ``status`` other than ``"ok"`` (or a notebook that failed or did not finish)
    gives the banner and no numbers; so does a missing results file.
    """
    lang = language
    params = {**(params or {}), **((results or {}).get("parameters") or {})}
    if nb is not None and status == "ok":
        status, where = notebook_status(nb)
        problem = problem or where
    if status == "ok" and not results:
        status, problem = "incomplete", problem or i18n.t("no_results", lang)
    ctx = context_labels(params, lang=lang, truth=truth, moves=(results or {}).get("moves"))
    context = [(i18n.t("dataset", lang), ctx["dataset"]),
               (i18n.t("segment", lang), ctx["segment"]),
               (i18n.t("period", lang), ctx["period"])]
    brief = Brief(language=lang, title=question_title(notebook, lang), context=context,
                  status=status)
    if status != "ok":
        key = "banner_failed" if status == "failed" else "banner_incomplete"
        brief.banner = i18n.t(key, lang).format(where=problem or formats.MISSING)
        return brief
    assert results is not None
    results = _innovation_named(results, params, truth)
    for h in results.get("headlines", []):
        s = _sentence(h, results, catalog, lang, currency)
        if s:
            brief.findings.append(s)
    brief.figure_notes = _outside_data(results, lang)  # findings stay on the first screen
    brief.decision = _decision(results, lang, currency)
    brief.tiles = [k for k in kpis(results, catalog=catalog, language=lang, currency=currency)
                   if k["key"] not in ("decision", "fix_first")]
    if nb is not None:
        brief.figures = figures_of(nb, values=values)
    brief.tables = [t for t in manager_tables(results, catalog=catalog, language=lang,
                                              currency=currency, params=params) if t.brief]
    brief.appendix = appendix
    return brief


#: Notebook 04's checks on public data, known by the (dose, outcome) of their
#: cross-tabulation in the methods (:func:`cxlib.analysis.contacts.prepare_bank`,
#: ``prepare_telecom``): the sentence that says what those data are.
_OUTSIDE_DATA = {("contacts", "subscribed"): "real_bank_note",
                 ("service_calls", "churned"): "real_telecom_note"}


def _outside_data(results: dict[str, Any], lang: str) -> list[str]:
    """One sentence per public dataset the notebook drew a panel of: which data, what
    the panel shows, and that it is an outside check, not the client's data."""
    keys = [_OUTSIDE_DATA.get((m.get("dose"), m.get("outcome")))
            for m in results.get("methods") or [] if isinstance(m, dict)]
    return [i18n.t(k, lang) for k in dict.fromkeys(k for k in keys if k)]


def _innovation_named(results: dict[str, Any], params: dict[str, Any],
                      truth: dict[str, Any] | None) -> dict[str, Any]:
    """Results whose att headline carries the innovation's names by language: as
    recorded, else from the world's ``truth.json`` (a synthetic world names its
    innovations in en/tr/az); user data with one name keep it in every language."""
    planted = ((truth or {}).get("innovations") or {}).get(str(params.get("innovation_id")))
    heads = results.get("headlines") or []
    if not planted or not any(h.get("key") == "att" and not h.get("names") for h in heads):
        return results
    from cxlib.analysis.innovation import innovation_names

    names = innovation_names(planted, str(params.get("innovation_id")))
    return {**results, "headlines": [{**h, "names": names}
                                     if h.get("key") == "att" and not h.get("names") else h
                                     for h in heads]}


def brief_html(brief: Brief) -> str:
    """The brief as a full HTML page (to be sanitised and masked by the caller)."""
    from cxlib.share.appendix import env

    return env(brief.language).get_template("brief.html.j2").render(b=brief)
