"""``cx map`` drafts, ``cx check`` reports, ``cx datasets`` lists; ``cx run --check`` preflight.

Each fixture export goes through draft -> write -> load -> check, in a temporary
mappings/catalog folder, with the expectations counted by hand from the fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxlib import config
from cxlib.data import check, mapdraft
from cxlib.errors import DataError
from tests.conftest import shared_file_or_skip

FIX = Path(__file__).with_name("fixtures")


@pytest.fixture()
def dirs(tmp_path, monkeypatch):
    """Mappings and catalogs in tmp (the shipped catalogs copied, so reuse is tested)."""
    (tmp_path / "mappings").mkdir()
    (tmp_path / "touchpoints").mkdir()
    for p in [config.catalog_path("retail"), config.catalog_path("airline")]:
        shutil.copy(p, tmp_path / "touchpoints")
    monkeypatch.setattr(config, "MAPPINGS_DIR", tmp_path / "mappings")
    monkeypatch.setattr(config, "CATALOG_DIR", tmp_path / "touchpoints")
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path / "processed")
    return tmp_path


def roles(d: mapdraft.Draft) -> dict[str, str]:
    return {c.name: c.role for c in d.columns}


def test_slug_folds_turkish_and_azerbaijani_letters():
    assert mapdraft.slug("Çağrı merkezi") == "cagri_merkezi"
    assert mapdraft.slug("Əməkdaşın nəzakəti") == "emekdasin_nezaketi"
    assert mapdraft.slug("1st visit") == "q_1st_visit"


def test_spss_draft_takes_scale_and_na_from_value_labels(dirs):
    d = mapdraft.draft(FIX / "spss_export.sav", name="sav demo")
    assert d.name == "sav_demo" and d.format == "spss"
    r = roles(d)
    assert r == {"caseid": "id", "q_seat": "touchpoint", "q_food": "touchpoint",
                 "q_bag": "touchpoint", "q_overall": "outcome", "region": "segment",
                 "age": "segment"}
    seat = next(c for c in d.columns if c.name == "q_seat")
    assert seat.spec["scale"] == [1, 5] and d.not_applicable == [9]
    overall = next(c for c in d.columns if c.name == "q_overall")
    assert overall.spec == {"id": "journey", "metric": "overall", "scale": [1, 10]}
    stages = {r["id"]: (r["stage"], r["sure"]) for r in d.new_catalog}
    assert stages["baggage_delivery"] == ("post_sale", True)  # "baggage": after the sale
    assert stages["seat_comfort"] == ("sale", True)


def test_qualtrics_draft_uses_matrix_items_and_finds_id_and_date(dirs):
    d = mapdraft.draft(FIX / "qualtrics_export.csv")
    r = roles(d)
    assert d.id_column == "ResponseId" and r["StartDate"] == "date"
    assert r["IPAddress"] == "ignored"  # personal
    assert [c.spec["id"] for c in d.columns if c.role == "touchpoint"] == [
        "website", "call_centre", "delivery"]
    assert next(c for c in d.columns if c.name == "Q2").spec["metric"] == "nps"
    assert "N/A" in d.not_applicable
    stages = {r["id"]: (r["stage"], r["sure"]) for r in d.new_catalog}
    assert stages["website"][0] == "pre_sale" and stages["delivery"][0] == "post_sale"
    assert stages["call_centre"][1] is False  # a marked guess
    assert "GUESS" in d.catalog_yaml()


def test_surveymonkey_draft_maps_labels_and_settles_us_dates(dirs):
    d = mapdraft.draft(FIX / "surveymonkey_export.csv", name="sm")
    assert d.values["Very satisfied"] == 5 and d.values["Very dissatisfied"] == 1
    assert d.not_applicable == ["Not applicable"]
    assert d.read["dayfirst"] is False
    assert roles(d)["Email Address"] == "ignored" and roles(d)["Any other comments?"] == "ignored"
    assert any("'five'" in c for c in d.checks)  # the unparsed text is flagged for review


def test_draft_written_then_loaded_and_checked_end_to_end(dirs):
    d = mapdraft.draft(FIX / "spss_export.sav", name="savdemo")
    written = mapdraft.write_draft(d)
    assert [p.name for p in written] == ["savdemo.yml", "savdemo.yml"]
    with pytest.raises(DataError, match="exists"):
        mapdraft.write_draft(d)
    rep = check.check_dataset("savdemo")  # warnings are collected into the report
    assert rep.n_rows == 6 and rep.n_respondents == 6
    per = rep.per_touchpoint.set_index("touchpoint_id")
    # by hand: seat 5,4,2,1,3 (9 dropped) -> mean 3.0; overall 8,6,9,3,10,5 -> 41/6
    assert per.loc["seat_comfort", "mean"] == pytest.approx(3.0)
    assert per.loc["journey", "mean"] == pytest.approx(41 / 6, abs=1e-3)
    assert rep.accounting["balanced"].all() and len(rep.accounting) == 4
    assert rep.drops["n"].sum() == 3  # one 9 in each of the three ratings
    assert rep.segment_issues[0]["n_missing"] == 1
    text = str(rep)
    assert "every column balances" in text and "02_touchpoint_drivers" in text
    assert any("translate" in w for w in rep.warnings)


def test_no_rating_column_is_an_error(dirs, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("name,city\nA,Baku\nB,Ganja\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column looks like a touchpoint rating"):
        mapdraft.draft(p)


def test_header_only_export_is_reported(dirs, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("id,Seat,Food\n", encoding="utf-8")
    with pytest.raises(DataError, match="no respondents"):
        mapdraft.draft(p)


def test_airline_draft_reuses_the_shipped_catalog(dirs):
    src = shared_file_or_skip("airline_satisfaction_train.csv")
    d = mapdraft.draft(src, name="air", index_col=0)
    assert d.catalog == "airline" and d.new_catalog is None
    ids = sorted(c.spec["id"] for c in d.columns if c.role == "touchpoint")
    from cxlib.data.catalog import load_catalog

    assert ids == sorted(load_catalog("airline").ids)
    assert d.not_applicable == [0] and d.id_column == "id"


def test_available_lists_sample_mappings_and_worlds(dirs, monkeypatch, tmp_path):
    data = tmp_path / "data"
    (data / "w1").mkdir(parents=True)
    pd.DataFrame({"a": [1]}).to_parquet(data / "w1" / "responses.parquet")
    (data / "not_a_world").mkdir()
    monkeypatch.setattr(config, "DATA_DIR", data)
    mapdraft.write_draft(mapdraft.draft(FIX / "qualtrics_export.csv", name="qx"))
    table = check.available()
    assert table["kind"].tolist() == ["sample", "mapping", "world"]
    assert table.loc[table.kind == "mapping", "dataset"].item() == "qx"
    assert table.loc[table.kind == "mapping", "ready"].item()
    assert check.suggest("qxx") == "did you mean 'qx'?"


def test_mistyped_dataset_gets_did_you_mean_and_the_way_to_add_one(dirs):
    from cxlib.data import datasets

    mapdraft.write_draft(mapdraft.draft(FIX / "qualtrics_export.csv", name="qualtrics_demo"))
    with pytest.raises(DataError) as err:
        datasets.load("qualtrics_dem")
    assert "did you mean 'qualtrics_demo'?" in str(err.value) and "cx map" in str(err.value)


def test_preflight_checks_catalog_coverage_files_and_relative_paths(dirs, tmp_path):
    mapdraft.write_draft(mapdraft.draft(FIX / "qualtrics_export.csv", name="qx"))
    assert check.preflight("qx") == []
    (problem,) = check.preflight("qx", catalog="retail")
    assert "lacks 2 touchpoint id(s)" in problem and "catalog=\"\"" in problem
    # the export disappears: the run would fail, the check says so first
    m = config.mapping_path("qx")
    m.write_text(m.read_text().replace(str(FIX / "qualtrics_export.csv"),
                                       str(tmp_path / "gone.csv")), encoding="utf-8")
    (problem,) = check.preflight("qx")
    assert "was not found" in problem
    # a relative world folder resolves against the kernel's folder, not ours
    nb = tmp_path / "nbs"
    (nb / "w").mkdir(parents=True)
    assert check.resolve_dataset("w", cwd=nb) == str((nb / "w").resolve())
    assert check.resolve_dataset("../w", cwd=nb / "w") == str((nb / "w" / ".." / "w").resolve())
    assert check.resolve_dataset("qx", cwd=nb) == "qx"


def test_excel_with_labels_and_no_id_goes_from_draft_to_the_means(dirs, tmp_path):
    # issue 16 "Done when": other column names, labels instead of codes, no id column.
    # Reference: the codes the labels were made from, averaged with pandas (n/a removed).
    import numpy as np

    rng = np.random.default_rng(5)
    n = 80
    codes = {"Getting your bags back": rng.integers(0, 6, n),
             "Booking on our website": rng.integers(1, 6, n),
             "Your seat": rng.integers(0, 6, n)}
    lab = {0: "Did not use", 1: "Very poor", 2: "Poor", 3: "Fair", 4: "Good", 5: "Excellent"}
    df = pd.DataFrame({k: [lab[int(x)] for x in v] for k, v in codes.items()})
    df["Happy overall?"] = np.where(rng.random(n) < 0.4, "Yes", "No")
    df["Cabin"] = rng.choice(["Eco", "Business"], n)
    path = tmp_path / "survey.xlsx"
    df.to_excel(path, index=False)
    d = mapdraft.draft(path, name="byo")
    assert d.id_column is None and "Did not use" in d.not_applicable
    stages = {r["id"]: r["stage"] for r in d.new_catalog}
    assert stages == {"getting_your_bags_back": "post_sale", "booking_on_our_website": "pre_sale",
                      "your_seat": "sale"}
    mapdraft.write_draft(d)
    rep = check.check_dataset("byo")
    per = rep.per_touchpoint.set_index("touchpoint_id")  # means rounded to 3 decimals
    resp = __import__("cxlib").load_dataset("byo").responses
    exact = resp.groupby("touchpoint_id")["score"].mean()
    for col, v in codes.items():
        ref = pd.Series(v)[pd.Series(v) > 0].mean()
        assert exact[mapdraft.slug(col)] == pytest.approx(ref, abs=1e-12)
        assert per.loc[mapdraft.slug(col), "mean"] == pytest.approx(ref, abs=6e-4)
    assert exact["journey"] == pytest.approx((df["Happy overall?"] == "Yes").mean(), abs=1e-12)
    assert rep.accounting["balanced"].all()
    assert "r000001" in set(resp["response_id"])


def test_cli_map_check_datasets(dirs, capsys):
    from cxlib.cli import main

    assert main(["map", str(FIX / "qualtrics_export.csv"), "--name", "qcli"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "Check before use:" in out and "cx check qcli" in out
    assert main(["map", str(FIX / "qualtrics_export.csv"), "--name", "qcli"]) == 2  # no overwrite
    assert "exists" in capsys.readouterr().err
    assert main(["check", "qcli"]) == 0
    out = capsys.readouterr().out
    assert "every column balances" in out and "01_touchpoint_satisfaction" in out
    assert main(["datasets"]) == 0
    assert "qcli" in capsys.readouterr().out
    assert main(["check", "qcl"]) == 2
    assert "did you mean 'qcli'?" in capsys.readouterr().err
