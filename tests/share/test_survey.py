"""Issue 18: a questionnaire per touchpoint from the catalog, whose answers load back.

References: pyxform (the XLSForm reference implementation) accepts every form;
the round trip recovers the planted touchpoint means of the synthetic world
(truth.json) within their 95% t-intervals, and reproduces the world's own sample
means exactly (nothing lost or altered on the way through the export format).
"""

from __future__ import annotations

import io
import json
import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml
from pyxform.xls2xform import convert
from scipy import stats

from cxlib import config
from cxlib.data import datasets
from cxlib.data.catalog import load_catalog
from cxlib.i18n import LANGUAGES
from cxlib.io import read_yaml
from cxlib.share import survey


def _xlsx(form: survey.Form) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for sheet, df in survey.xlsform(form).items():
            df.to_excel(xw, sheet_name=sheet, index=False)
    return buf.getvalue()


@pytest.mark.parametrize("catalog", ["retail", "airline"])
def test_pyxform_accepts_every_form_in_all_three_languages(catalog):
    form = survey.build(catalog, ces=True, segments={"age": [], "region": ["Baku", "Ganja"],
                                                     "loyalty_card": ["Yes", "No"]})
    warnings: list[str] = []
    xml = convert(xlsform=io.BytesIO(_xlsx(form)), file_type=".xlsx", warnings=warnings).xform
    assert warnings == []  # e.g. a label missing in one language would be a warning
    texts = survey._texts()
    for lang in LANGUAGES:
        assert f'<translation lang="{texts["languages"][lang]}"' in xml
    cat = load_catalog(catalog)
    assert xml.count("<select1 ref=\"/data/tp_") == len(cat.leaves())
    # every translated label is filled, in each language
    for q in form.questions:
        assert all(q.labels[lang].strip() for lang in LANGUAGES), q.name


def test_templates_cover_every_language_and_keep_names_uninflected():
    t = read_yaml(config.ROOT / "cxlib" / "locales" / "survey.yml")
    for key in ("title", "intro", "csat", "ces", "overall", "nps", "comment", "segment"):
        assert set(t[key]) == set(LANGUAGES), key
    for key in ("csat", "ces"):  # the name stands first, uninflected, then the question
        assert all(t[key][lang].startswith("{name}: ") for lang in LANGUAGES)
    for lang in ("tr", "az"):
        assert t["overall"][lang].startswith("{brand}: ")
        assert t["nps"][lang].startswith("{brand}: ")
    for code, labels in t["choices"]["csat"].items():
        assert set(labels) == set(LANGUAGES), code
    assert t["choices"]["csat"]["3"]["az"] == "Nə razıyam, nə də narazı"  # comma kept
    form = survey.build("retail", touchpoints=["store_cleanliness"])
    q = next(q for q in form.questions if q.kind == "csat")
    assert q.labels["tr"] == (f"{form.catalog.name('store', 'tr')} - Temizlik: "
                              "bu konuda ne kadar memnun kaldınız?")
    assert q.labels["az"].endswith(": bu barədə nə dərəcədə razı qaldınız?")


def test_selection_by_stage_touchpoints_ces_and_errors():
    form = survey.build("airline", stages=["post_flight"], ces=True, nps=False)
    assert form.touchpoints == ["baggage_handling"]
    assert [q.kind for q in form.questions] == ["note", "csat", "overall", "comment"]
    form = survey.build("airline", touchpoints=["checkin_service", "seat_comfort"], ces=True)
    ces = [q for q in form.questions if q.kind == "ces"]
    assert [q.touchpoint_id for q in ces] == ["checkin_service"]  # channel: people
    assert ces[0].relevant == "${tp_checkin_service} != '0'"  # asked only when used
    with pytest.raises(survey.ParameterError, match="unknown touchpoint 'seat'"):
        survey.build("airline", touchpoints=["seat"])
    with pytest.raises(survey.ParameterError, match="needs its answer options"):
        survey.build("airline", segments={"region": []})


def test_gaps_are_the_planted_blind_spots_and_low_base(sample_dir):
    world = datasets.load(sample_dir)
    truth = world.truth["coverage"]
    got = survey.gaps(world.responses, world.catalog, min_base=30)
    assert sorted(got) == sorted(truth["never_asked"] + truth["low_base"])


def kobo_export(form: survey.Form, responses: pd.DataFrame, path) -> pd.DataFrame:
    """Answers as KoboToolbox exports them: ';'-separated CSV, one column per question
    name, choice names as values, '0' for "did not use", blank where not relevant."""
    wide = {}
    rid = responses["response_id"].drop_duplicates().sort_values().tolist()
    idx = pd.Index(rid, name="response_id")
    piv = responses.pivot_table(index="response_id", columns=["touchpoint_id", "metric"],
                                values="score", aggfunc="first")

    def answers(tp: str, metric: str) -> pd.Series:
        col = (tp, metric)
        return piv[col].reindex(idx) if col in piv.columns else pd.Series(np.nan, index=idx)

    for q in form.questions:
        if q.kind == "csat":  # not experienced -> "did not use"
            wide[q.name] = answers(q.touchpoint_id, "csat").map(
                lambda v: "0" if pd.isna(v) else str(int(v)))
        elif q.kind == "ces":  # asked only when the touchpoint was used (relevant)
            used = wide[f"tp_{q.touchpoint_id}"] != "0"
            wide[q.name] = answers(q.touchpoint_id, "ces").where(used).map(
                lambda v: "" if pd.isna(v) else str(int(v)))
        elif q.kind in ("overall", "nps"):
            wide[q.name] = answers("journey", q.kind).map(
                lambda v: "" if pd.isna(v) else str(int(v)))
    df = pd.DataFrame(wide, index=idx)
    dates = responses.groupby("response_id")["date"].first().reindex(idx)
    df.insert(0, "survey_date", pd.to_datetime(dates).dt.strftime("%Y-%m-%d"))
    df.insert(0, "end", pd.to_datetime(dates).dt.strftime("%Y-%m-%dT10:05:00.000+04:00"))
    df.insert(0, "start", pd.to_datetime(dates).dt.strftime("%Y-%m-%dT10:00:00.000+04:00"))
    df["comment"] = ""
    df["_id"] = np.arange(1, len(df) + 1)
    df["_uuid"] = [f"uuid-{r}" for r in df.index]
    df["_submission_time"] = df["end"]
    df["_index"] = np.arange(1, len(df) + 1)
    df.reset_index(drop=True).to_csv(path, sep=";", index=False)
    return df


def load_back(form: survey.Form, folder, export, monkeypatch):
    written = survey.write(form, folder)
    m = yaml.safe_load(next(p for p in written if p.name.endswith(".mapping.yml")).read_text(
        encoding="utf-8"))
    m["file"] = str(export)
    (folder / "mappings").mkdir(exist_ok=True)
    (folder / "mappings" / f"{form.name}.yml").write_text(yaml.safe_dump(m, allow_unicode=True),
                                                         encoding="utf-8")
    monkeypatch.setattr(config, "MAPPINGS_DIR", folder / "mappings")
    monkeypatch.setattr(config, "PROCESSED_DIR", folder / "processed")
    return datasets.load(form.name).responses


def test_round_trip_is_lossless_on_the_sample_world(sample_dir, tmp_path, monkeypatch):
    world = datasets.load(sample_dir)
    truth = world.truth
    resp = world.responses
    asked = sorted(set(resp.loc[resp.metric == "csat", "touchpoint_id"]))
    form = survey.build(world.catalog, touchpoints=asked, ces=truth["ces_touchpoints"],
                        name="rt_survey")
    export = tmp_path / "kobo_export.csv"
    kobo_export(form, resp, export)
    back = load_back(form, tmp_path, export, monkeypatch)
    assert back["response_id"].str.startswith("uuid-").all()  # the tool's id, not row numbers
    csat = back[back.metric == "csat"].groupby("touchpoint_id")["score"]
    ref = resp[resp.metric == "csat"].groupby("touchpoint_id")["score"]
    # the same answers come back: the world's sample means to 1e-12, the same bases
    pd.testing.assert_series_equal(csat.mean(), ref.mean(), rtol=0, atol=1e-12)
    assert (csat.size() == ref.size()).all()
    for metric in ("overall", "nps"):
        assert back.loc[back.metric == metric, "score"].mean() == pytest.approx(
            resp.loc[resp.metric == metric, "score"].mean(), abs=1e-12)
    assert set(back.loc[back.metric == "ces", "touchpoint_id"]) == set(truth["ces_touchpoints"])


@pytest.mark.slow
def test_round_trip_recovers_the_planted_means_within_their_intervals(tmp_path):
    # 12 independent surveys of the same world (synth.simulate_survey: truth["touchpoint_means"]
    # is the exact expectation of each sample mean), each exported as KoboToolbox does and
    # loaded through the form's mapping; 95% t-intervals must cover the planted means
    # about 95% of the time (textbook t-interval; 450+ intervals, clustered by survey).
    # Contracts are validated in the lossless test above (pandera is the slow part).
    from cxlib.data import synth
    from cxlib.data.exports import read_export

    _, truth = synth.simulate_survey(1, seed=0)
    cat = load_catalog(truth["catalog"])
    form = survey.build(cat, ces=truth["ces_touchpoints"], name="cov_survey")
    m = survey.mapping(form)
    hits = total = 0
    ces_hits = ces_total = 0
    for seed in range(12):
        resp, _ = synth.simulate_survey(400, seed=seed)
        export = tmp_path / f"kobo_{seed}.csv"
        kobo_export(form, resp, export)
        back = survey_long(export, m, cat, read_export)
        g = back[back.metric == "csat"].groupby("touchpoint_id")["score"]
        n, mean, sd = g.size(), g.mean(), g.std(ddof=1)
        half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
        planted = pd.Series(truth["touchpoint_means"]).reindex(mean.index)
        ok = ((planted >= mean - half) & (planted <= mean + half))[n >= 30]
        hits, total = hits + int(ok.sum()), total + len(ok)
        c = back[back.metric == "ces"].groupby("touchpoint_id")["score"]
        h = stats.t.ppf(0.975, c.size() - 1) * c.std(ddof=1) / np.sqrt(c.size())
        planted_ces = pd.Series(truth["ces_means"]).reindex(c.mean().index)
        ces_hits += int(((c.mean() - h <= planted_ces) & (planted_ces <= c.mean() + h)).sum())
        ces_total += len(planted_ces)
    assert total > 450
    print(f"coverage {hits}/{total} = {hits / total:.3f}; CES {ces_hits}/{ces_total}")
    assert 0.92 <= hits / total <= 0.98, hits / total
    assert ces_hits / ces_total >= 0.85, (ces_hits, ces_total)


def survey_long(export, m, cat, read_export):
    from cxlib.data import wide

    return wide.wide_to_long(read_export(export, **m.get("read", {})), m, catalog=cat)


def test_a_new_touchpoint_appears_in_the_next_form_and_loads_back(tmp_path, monkeypatch):
    src = config.catalog_path("airline").read_text(encoding="utf-8")
    cat_path = tmp_path / "airline_plus.yml"
    cat_path.write_text(src.replace("catalog: airline", "catalog: airline_plus")
                        + "\n  - {id: online_chat, names: {en: Online chat support}, "
                        "stage: post_flight, channel: people, owner: own}\n", encoding="utf-8")
    before = survey.build("airline")
    form = survey.build(cat_path, ces=True, nps=False, name="plus_survey")
    assert "tp_online_chat" not in {q.name for q in before.questions}
    names = [q.name for q in form.questions]
    assert names.index("tp_online_chat") > names.index("tp_baggage_handling")
    assert "ces_online_chat" in names  # a service touchpoint gets the effort question
    # answers exported in the tool's format load back, the new touchpoint included
    rows = pd.DataFrame({q.name: ["4", "0", "2"] if q.kind == "csat" else
                         (["3", "", "6"] if q.kind == "ces" else ["7", "8", "9"])
                         for q in form.questions if q.kind in ("csat", "ces", "overall")})
    rows.insert(0, "survey_date", ["2025-01-02", "2025-01-03", "2025-01-04"])
    rows["KEY"] = ["uuid:a", "uuid:b", "uuid:c"]  # ODK Central's id column this time
    export = tmp_path / "odk.csv"
    rows.to_csv(export, index=False)
    back = load_back(form, tmp_path, export, monkeypatch)
    chat = back[back.touchpoint_id == "online_chat"].set_index(["response_id", "metric"])["score"]
    assert chat.to_dict() == {("uuid:a", "csat"): 4.0, ("uuid:c", "csat"): 2.0,
                              ("uuid:a", "ces"): 3.0, ("uuid:c", "ces"): 6.0}


def test_written_files_html_is_escaped_and_script_free(tmp_path):
    cat_path = tmp_path / "x.yml"
    cat_path.write_text(textwrap.dedent("""\
        catalog: x
        names: {en: "<b>X</b>"}
        touchpoints:
          - {id: desk, names: {en: "Desk <script>alert(1)</script>"}, stage: sale}
        """), encoding="utf-8")
    form = survey.build(cat_path)
    paths = survey.write(form, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(
        ["x_survey.xlsx", "x_survey.en.html", "x_survey.tr.html", "x_survey.az.html",
         "x_survey.mapping.yml"])
    page = (tmp_path / "out" / "x_survey.en.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "default-src 'none'" in page
    shutil.rmtree(tmp_path / "out")
    assert json.dumps(survey.mapping(form)["respondent_id"]) == json.dumps(
        {"first_of": survey.EXPORT_ID_COLUMNS, "row_number": True})
