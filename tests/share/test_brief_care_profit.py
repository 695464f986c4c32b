"""The manager brief of notebooks 04 (care vs nuisance) and 05 (customer 360,
profitability): findings by headline key in the report's language, tables that
keep their numbers, bases that count what the notebook counted.

The expected sentences are the message catalog's (``cxlib/locales/messages.yml``)
filled by hand with the recorded numbers formatted as :mod:`cxlib.share.formats`
formats them. Break it on purpose: make ``_base_unit`` answer "respondents"
for every key, or drop a Spec from ``tables.SPECS``, and a test here fails.
"""

from __future__ import annotations

import json

import pytest

from cxlib import i18n
from cxlib.share import brief, formats, tables


def _results(run, notebook: str) -> dict:
    path = next(run.glob(f"{notebook}--*.results.json"))
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["tr", "az"])
def test_findings_of_04_and_05_come_from_the_catalog_not_the_labels(real_run, lang):
    for nb in ("04_care_vs_nuisance", "05_customer_360_profitability"):
        res = _results(real_run, nb)
        i18n.reset_untranslated()
        b = brief.build_brief(res, notebook=nb, language=lang)
        assert b.findings, nb
        text = " ".join(b.findings + [t["label"] for t in b.tiles])
        labels = [h["label"] for h in res["headlines"] if h["label"] in text]
        assert not labels, (nb, labels)  # no English label recorded by the notebook
        assert not [m for m in i18n.untranslated() if m[2] == lang]
        respondents = i18n.t("base_respondents", lang).replace("{n}", "").strip()
        assert respondents not in text, nb  # customers, orders, answers: not respondents


def test_care_findings_say_threshold_and_money_optimum_with_intervals(real_run):
    res = _results(real_run, "04_care_vs_nuisance")
    heads = {h["key"]: h for h in res["headlines"]}
    b = brief.build_brief(res, notebook="04_care_vs_nuisance", language="tr")
    th, opt = heads["threshold_all"], heads["money_optimal_all"]
    f = next(s for s in b.findings if s.startswith("Tüm müşteriler:"))
    for h in (th, opt):  # the number and its interval, as the formatter writes them
        assert formats.value(h["value"], "number", "tr") in f
        assert formats.interval(h["ci_low"], h["ci_high"], "number", "tr") in f
    assert formats.value(th["n"], "count", "tr") + " müşteri" in f
    assert "müşteri kalma açısından" in f  # the outcome (retained) in words
    if "continuity_specialist_changes" in heads:  # the care world has relationships
        c = heads["continuity_specialist_changes"]
        s = next(s for s in b.findings if s.startswith("Her uzman değişikliği"))
        assert formats.value(c["value"], "score", "tr") in s and " yanıt" in s


def test_profit_findings_count_customers_and_orders(real_run):
    res = _results(real_run, "05_customer_360_profitability")
    heads = {h["key"]: h for h in res["headlines"]}
    b = brief.build_brief(res, notebook="05_customer_360_profitability", language="az")
    joined = " ".join(b.findings)
    share = heads["share_value_destroying"]
    assert (f"Müştərilərin {formats.value(share['value'], 'share', 'az')} qədəri zərər "
            f"gətirir") in joined
    assert f"{formats.value(share['n'], 'count', 'az')} müştəri" in joined
    ss = heads["self_service_share"]
    assert f"{formats.value(ss['n'], 'count', 'az')} sifariş" in joined
    cut = heads["cutoff_customer_days"]
    assert formats.value(cut["value"], "count", "az") in joined and "Saat 12:00" in joined
    names = brief.segment_values(heads["segments_target"]["value"],
                                 res["parameters"], "az")  # "trade" -> "ticari"
    assert f"Hədəflənəcək seqmentlər: {names}" in joined


@pytest.mark.parametrize(("key", "needs"), [
    ("segment_profit", ("mean_profit", "total_profit", "share_value_destroying")),
    ("segment_actions", ("action", "mean_profit", "share_at_risk")),
    ("thresholds", ("threshold", "today_rate", "outcome")),
    ("money_optimum", ("money_optimal_rate", "worth_per_year", "today_rate")),
])
def test_tables_of_04_and_05_keep_their_numbers(real_run, key, needs):
    nb = "05_customer_360_profitability" if key.startswith("segment") else "04_care_vs_nuisance"
    res = _results(real_run, nb)
    t = next(t for t in tables.manager_tables(res, language="tr") if t.key == key)
    spec = tables.SPECS[key]
    shown = [c.name for c in spec.columns]
    assert all(n in shown for n in needs)
    assert len(t.headers) >= len(needs) + 1
    assert t.title == i18n.t(f"tbl_{key}", "tr")
    seg = 0
    if key.startswith("segment"):  # the compare_by column shown as the segment
        by = res["parameters"]["compare_by"]
        # in the catalog's words of that column (v_customer_type_trade: ticari), issue 15
        assert [r[seg] for r in t.rows] == [
            formats.category(r[by], "tr", by) for r in res["tables"][key]]
        assert all(r[seg] != str(x[by]) for r, x in zip(t.rows, res["tables"][key],
                                                         strict=True))
    assert any("[" in cell for row in t.rows for cell in row)  # intervals kept
    assert all(cell != formats.MISSING for row in t.rows for cell in row[1:3])


def test_mood_and_continuity_tables_keep_interval_and_model(real_run):
    res = _results(real_run, "04_care_vs_nuisance")
    if "mood" not in res["tables"]:
        pytest.skip("the world of this run has no pulse table")
    t = next(t for t in tables.manager_tables(res, language="az") if t.key == "mood")
    assert t.headers[0] == "Model" and "95% interval" in t.headers[2]
    assert {r[0] for r in t.rows} == {"hər mütəxəssisin öz daxilində", "mütəxəssislər arası"}


@pytest.mark.parametrize(("flag", "value", "words"), [
    ("too few customers (< 200) for a curve", None, "əyri üçün müştəri sayı azdır"),
    ("falls from the start", 0.0, "ilk proaktiv təmaslardan etibarən azalır"),
    ("no turn within the data", 3.5, "azalmağa başlamır (ayda 3,50 təmasa qədər"),
])
def test_a_threshold_without_a_turn_says_why(flag, value, words):
    res = {"parameters": {"outcome": "overall"}, "tables": {}, "headlines": [
        {"key": "threshold_mass", "label": "nuisance threshold (overall), mass",
         "value": value, "ci_low": None, "ci_high": None, "n": 150, "flag": flag,
         "unit": "proactive contacts per customer-month", "today": 1.2}]}
    i18n.reset_untranslated()
    b = brief.build_brief(res, notebook="04_care_vs_nuisance", language="az")
    assert len(b.findings) == 1 and words in b.findings[0], b.findings
    # the group in the catalog's words (v_group_mass: kütləvi), issue 15
    assert b.findings[0].startswith("Kütləvi:") and "150 müştəri" in b.findings[0]
    assert b.tiles[0]["label"] == "Narahatlıq həddi: kütləvi"
    assert b.tiles[0]["flag"] == tables.flag_text(flag, "az") != flag
    assert not i18n.untranslated()


def test_segment_names_in_notebook_05_findings_follow_the_language():
    """Segment values of the 05 headlines use the same catalog keys as its figures."""
    from cxlib.share.brief import segment_values

    params = {"compare_by": "customer_type"}
    assert segment_values("trade", params, "tr") == "ticari"
    assert segment_values("bargain, trade", params, "az") == "endirim ovçusu, ticari"
    assert segment_values("none", params, "tr") == "yok"
    assert segment_values("unknown_x", params, "tr") == "unknown_x"
