"""Tests of the synthetic world: determinism, truth, contracts, planted effects, CLI.

Independent references used below (named where they are used):
- scipy.stats.norm.cdf for the ordinal threshold expectation (Agresti 2010, ch. 5);
- Monte Carlo: large simulated surveys must agree with the exact truth;
- statsmodels OLS with unit and period dummies (two-way fixed effects) for the ATT;
- numpy.polyfit for the vertex of the inverted U;
- within-branch OLS slope (demeaning by hand) for the margin per overall point.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from scipy import stats

from cxlib import cli, config
from cxlib.data import schemas, synth
from cxlib.data.synth import bench, model
from cxlib.data.synth import constants as const
from cxlib.errors import CatalogError, ParameterError

BRIEF_KEYS = {
    "seed", "size", "n_customers", "n_responses", "period", "catalog", "touchpoint_means",
    "weak_links", "driver_outcome", "driver_weights", "driver_order", "contact_optimum",
    "specialist_effects", "margin_per_overall_point", "innovations", "planted_moves",
}
INNOVATION_KEYS = {
    "name", "unit", "att_margin_per_unit_period", "cost_per_unit_period", "one_off_cost",
    "effect_on_csat", "effect_on_contacts", "pays", "decision", "starts",
}
FILES = ["customers.parquet", "employees.parquet", "responses.parquet", "orders.parquet",
         "contacts.parquet", "innovations.parquet", "truth.json"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth.generate(tmp_path_factory.mktemp("w") / "small", size="small", seed=1)


@pytest.fixture(scope="module")
def truth(world: Path) -> dict:
    return json.loads((world / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tables(world: Path) -> dict[str, pd.DataFrame]:
    # the core tables, plus those sub-generators add at the top level (payments...)
    return {name: pd.read_parquet(world / f"{name}.parquet") for name in schemas.SCHEMAS
            if (world / f"{name}.parquet").exists()}


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _catalog() -> dict:
    return yaml.safe_load(config.catalog_path("retail").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- determinism
def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path: Path) -> None:
    a = synth.generate(tmp_path / "a", size=1000, seed=5)
    b = synth.generate(tmp_path / "b", size=1000, seed=5)
    c = synth.generate(tmp_path / "c", size=1000, seed=6)
    ha, hb, hc = _hashes(a), _hashes(b), _hashes(c)
    assert set(FILES) <= set(ha)  # the core files, plus what sub-generators add
    assert ha == hb
    assert all(ha[f] != hc[f] for f in FILES)


def test_byte_identical_over_several_chunks(tmp_path: Path, monkeypatch) -> None:
    # each chunk has its own seeded stream: a run over >= 3 chunks is still reproducible
    monkeypatch.setattr(const, "CHUNK_CUSTOMERS", 30)
    a = synth.generate(tmp_path / "a", size=1000, seed=5)
    b = synth.generate(tmp_path / "b", size=1000, seed=5)
    n = json.loads((a / "truth.json").read_text())["n_customers"]
    assert -(-n // const.CHUNK_CUSTOMERS) >= 3
    assert _hashes(a) == _hashes(b)
    c = pd.read_parquet(a / "customers.parquet")
    assert c["customer_id"].is_unique and len(c) == n
    r = pd.read_parquet(a / "responses.parquet")
    assert r["response_id"].is_monotonic_increasing  # ids continue across chunks


def test_regenerating_replaces_the_folder_atomically(tmp_path: Path) -> None:
    out = tmp_path / "w"
    synth.generate(out, size=1000, seed=1)
    (out / "stale.txt").write_text("old")
    synth.generate(out, size=1000, seed=1)
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["w"]  # no temp folders left behind


# -------------------------------------------------------------------- truth
def test_truth_has_every_key_of_the_brief(truth: dict) -> None:
    assert set(truth) >= BRIEF_KEYS
    assert truth["catalog"] == "retail" and truth["driver_outcome"] == "overall"
    assert truth["period"] == {"start": "2024-01-01", "end": "2025-12-31"}
    assert truth["contact_optimum"]["contacts_per_month"] > 0
    assert {"per_satisfaction_point", "per_tenure_year"} <= set(truth["specialist_effects"])
    assert len(truth["innovations"]) >= 2
    for inn in truth["innovations"].values():
        assert set(inn) >= INNOVATION_KEYS
    for mv in truth["planted_moves"]:
        assert {"touchpoint_id", "segment_column", "segment", "metric", "period",
                "delta"} <= set(mv)


#: Module constants of cxlib.data.synth.constants that are not planted model parameters
#: (reviewed here: a new constant is either in truth.json or added to this list on purpose).
NOT_PLANTED = {
    "SIZES", "MIN_SIZE", "PARTS_ABOVE", "CHUNK_CUSTOMERS", "MONTH_STARTS", "MONTH_FIRST_DAY",
    "N_DAYS", "MONTH_OF_DAY", "MONTH_P", "AZ_REGIONS", "AZ_FIRST", "AZ_LAST", "TR_FIRST",
    "TR_LAST", "COMMENTS", "NOT_PLANTED",
}


def _plain(v):
    """A constant as JSON would hold it (arrays and tuples -> lists, dates -> text)."""
    return json.loads(json.dumps(v, default=lambda x: x.tolist() if hasattr(x, "tolist")
                                 else str(x)))


def test_every_planted_module_constant_is_in_truth(truth: dict) -> None:
    names = {n for n, v in vars(const).items()
             if n.isupper() and not n.startswith("_") and not callable(v)}
    assert const.NOT_PLANTED == NOT_PLANTED
    planted = names - NOT_PLANTED
    assert {"RETENTION_INTERCEPT", "RETENTION_PER_OVERALL_LATENT", "SEGMENT_MARGIN",
            "RESPONSE_RATE", "ORDER_RATE", "NEVER_ASKED", "LOW_BASE"} <= planted
    assert set(truth["constants"]) == planted
    for name in sorted(planted):
        value = getattr(const, name)
        if isinstance(value, set | frozenset):
            value = sorted(value)
        assert truth["constants"][name] == _plain(value), name


def test_truth_explains_the_planted_constants(truth: dict) -> None:
    # the named sections hold the same values, where an analyst looks for them
    ret = truth["retention"]
    assert (ret["intercept"], ret["per_overall_latent"], ret["curvature"]) == (
        const.RETENTION_INTERCEPT, const.RETENTION_PER_OVERALL_LATENT, const.RETENTION_CURVATURE)
    model = truth["model"]
    assert model["segment_margin"] == dict(zip(const.SEGMENTS, const.SEGMENT_MARGIN.tolist(),
                                               strict=True))
    assert model["segment_shares"] == dict(zip(const.SEGMENTS, const.SEGMENT_P.tolist(),
                                               strict=True))
    assert (model["response_rate"], model["order_rate"], model["margin_noise_sd"]) == (
        const.RESPONSE_RATE, const.ORDER_RATE, const.MARGIN_NOISE_SD)
    assert model["region_branches"] == const.REGION_BRANCHES
    assert abs(sum(model["branch_shares"].values()) - 1) < 1e-9
    assert truth["specialist_effects"]["satisfaction_centre"] == const.SPEC_SAT_CENTRE
    assert truth["coverage"]["low_base_pilot_respondents"] == const.LOW_BASE_PILOT


def test_planted_touchpoints_exist_in_the_catalog(truth: dict) -> None:
    raw = _catalog()
    ids = {t["id"] for t in raw["touchpoints"]}
    stage_of = {t["id"]: t["stage"] for t in raw["touchpoints"]}
    parents = {t.get("parent") for t in raw["touchpoints"]}
    leaves = ids - parents
    assert set(truth["touchpoint_means"]) == leaves
    assert set(truth["driver_weights"]) == leaves
    for stage, tp in truth["weak_links"].items():
        assert stage_of[tp] == stage
    assert {mv["touchpoint_id"] for mv in truth["planted_moves"]} <= ids
    assert set(truth["weak_links"]) == {s["id"] for s in raw["stages"]}


def test_weak_link_is_lowest_truth_mean_of_its_stage(truth: dict) -> None:
    stage_of = {t["id"]: t["stage"] for t in _catalog()["touchpoints"]}
    means = truth["touchpoint_means"]
    for stage, tp in truth["weak_links"].items():
        others = [v for k, v in means.items() if stage_of[k] == stage and k != tp]
        assert means[tp] < min(others) - 0.3  # clearly lowest


def test_driver_order_matches_weights(truth: dict) -> None:
    w = truth["driver_weights"]
    order = truth["driver_order"]
    assert sorted(order) == sorted(w)
    assert [w[k] for k in order] == sorted(w.values(), reverse=True)
    assert abs(sum(w.values()) - 1.0) < 1e-3
    # a few touchpoints matter much more than the rest
    top, rest = order[:4], order[4:]
    assert min(w[k] for k in top) > 5 * max(w[k] for k in rest)


def test_innovation_truth_is_consistent(truth: dict) -> None:
    pays = []
    for inn in truth["innovations"].values():
        net = (inn["att_margin_per_unit_period"] - inn["cost_per_unit_period"]
               - inn["one_off_cost"] / inn["amortisation_periods"])
        assert inn["pays"] == (net > 0)
        assert inn["decision"] == ("scale" if inn["pays"] else "roll_back")
        assert len(inn["starts"]) >= 4 and len(set(inn["starts"].values())) >= 2  # staggered
        pays.append(inn["pays"])
    assert any(pays) and not all(pays)
    calls = truth["innovations"]["proactive_calls"]
    assert calls["effect_on_contacts"] > 0 and calls["effect_on_csat"] < 0
    treated = [set(i["starts"]) for i in truth["innovations"].values()]
    assert len(set().union(*treated)) < 40  # some branches never treated


def test_expected_score_matches_scipy_norm() -> None:
    # reference: scipy.stats.norm.cdf; E[1 + #{c_j < x + e}] = 1 + sum_j P(e > c_j - x)
    x = np.array([-1.0, 0.3, 2.0])
    cuts = const.CSAT_CUTS
    ref = 1 + np.array([sum(1 - stats.norm.cdf(c, loc=xi, scale=1.3) for c in cuts) for xi in x])
    got = 1 + model.expected_score(x, cuts, 1.3)
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_truth_means_match_a_large_simulated_survey() -> None:
    # reference: Monte Carlo; the exact mixture expectation must sit within sampling error
    resp, truth = synth.simulate_survey(30_000, seed=123)
    csat = resp[resp["metric"] == "csat"].groupby("touchpoint_id")["score"]
    z = (csat.mean() - pd.Series(truth["touchpoint_means"])) / (csat.std() / np.sqrt(csat.count()))
    assert z.abs().max() < 4.5
    ces = resp[resp["metric"] == "ces"].groupby("touchpoint_id")["score"]
    z = (ces.mean() - pd.Series(truth["ces_means"])) / (ces.std() / np.sqrt(ces.count()))
    assert len(z) == 3 and z.abs().max() < 4.5
    overall = resp.loc[resp["metric"] == "overall", "score"]
    assert abs(overall.mean() - truth["overall_mean"]) < 4.5 * overall.std() / np.sqrt(len(overall))
    nps = resp.loc[resp["metric"] == "nps", "score"]
    nps_hat = 100 * ((nps >= 9).mean() - (nps <= 6).mean())
    assert abs(nps_hat - truth["nps"]["nps"]) < 2.5


def test_simulated_survey_intervals_cover_the_truth() -> None:
    # reference: textbook Wald interval mean +/- 1.645 s / sqrt(n); 90% nominal coverage
    hits, total = 0, 0
    for seed in range(40):
        resp, truth = synth.simulate_survey(300, seed=seed)
        g = resp[resp["metric"] == "csat"].groupby("touchpoint_id")["score"]
        m, s, n = g.mean(), g.std(), g.count()
        t = pd.Series(truth["touchpoint_means"])[m.index]
        half = 1.645 * s / np.sqrt(n)
        hits += int(((m - half <= t) & (t <= m + half)).sum())
        total += len(m)
    assert 0.86 <= hits / total <= 0.94


def test_simulate_survey_is_reproducible_and_truth_fixed() -> None:
    a, ta = synth.simulate_survey(50, seed=3)
    b, _ = synth.simulate_survey(50, seed=3)
    c, tc = synth.simulate_survey(50, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["score"].equals(c["score"])
    assert ta["touchpoint_means"] == tc["touchpoint_means"]
    assert a["response_id"].nunique() == 50
    with pytest.raises(ParameterError):
        synth.simulate_survey(0, seed=1)


# ---------------------------------------------------------------- contracts
def test_outputs_pass_the_contracts(tables: dict[str, pd.DataFrame]) -> None:
    assert {f.removesuffix(".parquet") for f in FILES if f.endswith(".parquet")} <= set(tables)
    for name, frame in tables.items():
        schemas.SCHEMAS[name].validate(frame, lazy=True)
    r = tables["responses"]
    assert set(r["metric"]) == {"csat", "ces", "nps", "overall"}
    assert set(r.loc[r["metric"].isin(["nps", "overall"]), "touchpoint_id"]) == {"journey"}
    assert r.groupby(["response_id", "touchpoint_id", "metric"]).size().max() == 1
    assert set(tables["customers"]["segment"]) == {"mass", "affluent", "business"}
    assert set(tables["customers"]["region"]) == {"Baku", "Ganja", "Istanbul", "Ankara"}
    assert tables["customers"]["branch_id"].nunique() == 40
    assert set(tables["contacts"]["direction"]) == {"proactive", "inbound"}
    assert set(r["customer_id"]) <= set(tables["customers"]["customer_id"])
    assert set(tables["orders"]["customer_id"]) <= set(tables["customers"]["customer_id"])
    assert tables["responses"]["date"].between("2024-01-01", "2025-12-31").all()
    comments = r["comment"].dropna()
    assert len(comments) > 0 and not comments.str.contains("<").any()
    assert comments.str.contains("ə|ş|ğ|ı", regex=True).any()  # some in az / tr


def test_personal_columns_look_plausible(tables: dict[str, pd.DataFrame]) -> None:
    c = tables["customers"]
    assert c["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.(az|com\.tr)").all()
    assert c["phone"].str.fullmatch(r"\+(994|90) \d{2,3} \d{3} \d{2} \d{2}").all()
    az = c["region"].isin(["Baku", "Ganja"])
    assert c.loc[az, "phone"].str.startswith("+994").all()
    assert c.loc[~az, "phone"].str.startswith("+90").all()


def test_size_is_roughly_honoured(truth: dict, world: Path, tmp_path: Path) -> None:
    assert 0.85 * 50_000 <= truth["n_response_rows"] <= 1.15 * 50_000
    assert sum(p.stat().st_size for p in world.iterdir()) < 5 * 2**20
    t1 = json.loads((synth.generate(tmp_path / "k", size=1000, seed=2) / "truth.json").read_text())
    assert 700 <= t1["n_response_rows"] <= 1300
    assert len(pd.read_parquet(tmp_path / "k" / "responses.parquet")) == t1["n_response_rows"]
    with pytest.raises(ParameterError):
        synth.generate(tmp_path / "x", size="huge")
    with pytest.raises(ParameterError):
        synth.generate(tmp_path / "x", size=10)


def test_large_sizes_write_response_parts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(const, "PARTS_ABOVE", 1_000)
    monkeypatch.setattr(const, "CHUNK_CUSTOMERS", 60)
    out = synth.generate(tmp_path / "p", size=3000, seed=4)
    parts = sorted((out / "responses").glob("part-*.parquet"))
    assert len(parts) >= 2 and not (out / "responses.parquet").exists()
    r = pd.read_parquet(out / "responses")  # the folder reads as one table
    t = json.loads((out / "truth.json").read_text())
    assert len(r) == t["n_response_rows"] and r["response_id"].nunique() == t["n_responses"]
    schemas.RESPONSES.validate(r, lazy=True)
    c = pd.read_parquet(out / "customers.parquet")
    assert c["customer_id"].is_unique and len(c) == t["n_customers"]


def test_missing_catalog_fails_clearly(tmp_path: Path) -> None:
    raw = _catalog()
    raw["touchpoints"] = [t for t in raw["touchpoints"] if t["id"] != "store_checkout"]
    path = tmp_path / "retail.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="store_checkout"):
        model.World(1, path)


# ----------------------------------------------------------- planted effects
def test_weak_link_sample_mean_is_lowest_in_its_stage(tables, truth) -> None:
    stage_of = {t["id"]: t["stage"] for t in _catalog()["touchpoints"]}
    r = tables["responses"]
    m = r[r["metric"] == "csat"].groupby("touchpoint_id")["score"].mean()
    for stage, tp in truth["weak_links"].items():
        in_stage = m[[k for k in m.index if stage_of[k] == stage]]
        assert in_stage.idxmin() == tp


def _saturated_twfe_att(panel: pd.DataFrame, unit: str, period: str, starts: dict,
                        controls: set) -> tuple[float, float]:
    """ATT from a cohort x period saturated two-way fixed-effects regression.

    Reference: Wooldridge (2021), "Two-way fixed effects, the two-way Mundlak regression,
    and difference-in-differences estimators": one dummy per treated (cohort, period)
    cell plus unit and period dummies (statsmodels OLS, errors clustered by unit: the
    planted noise is AR(1)); the ATT is the cell estimates averaged with weights equal to
    the treated units per cell (the mean effect over treated unit-periods). Unlike the
    static TWFE coefficient it is unbiased when effects differ by cohort and grow over time.
    """
    import statsmodels.formula.api as smf

    p = panel[panel[unit].isin(set(starts) | set(controls))].copy()
    cells: dict[tuple, list] = {}
    for u, s in starts.items():
        for t in p.loc[(p[unit] == u) & (p[period] >= s), period]:
            cells.setdefault((s, t), []).append(u)
    names, sizes = [], []
    for i, ((_, t), units) in enumerate(sorted(cells.items())):
        p[f"cell{i}"] = (p[unit].isin(units) & (p[period] == t)).astype(float)
        names.append(f"cell{i}")
        sizes.append(len(units))
    fit = smf.ols(f"margin ~ {' + '.join(names)} + C({unit}) + C({period})", data=p).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(p[unit])[0]})
    w = np.array(sizes, float) / sum(sizes)
    v = fit.cov_params().loc[names, names].to_numpy()
    return float(w @ fit.params[names].to_numpy()), float(np.sqrt(w @ v @ w))


def test_treated_minus_control_margin_has_the_planted_sign(tables, truth) -> None:
    o = tables["orders"].copy()
    o["month"] = o["date"].dt.to_period("M").dt.to_timestamp()
    panel = o.groupby(["branch_id", "month"], as_index=False)["margin"].sum()
    inn = tables["innovations"]
    for iid, g in inn.groupby("innovation_id"):
        starts = dict(zip(g["unit_id"], g["start_date"], strict=True))
        never_treated = set(panel["branch_id"]) - set(inn["unit_id"])
        est, se = _saturated_twfe_att(panel, "branch_id", "month", starts, never_treated)
        att = truth["innovations"][iid]["att_margin_per_unit_period"]
        assert abs(est - att) < 4 * se, (iid, est, se, att)
        # simple 2x2 check, branch by branch: (post - pre) minus the same months' change in
        # never-treated branches; its average has the planted sign
        never = panel[~panel["branch_id"].isin(inn["unit_id"])]
        diffs = []
        for b, s in starts.items():
            own = panel[panel["branch_id"] == b]
            post, npost = own["month"] >= s, never["month"] >= s
            diffs.append(own.loc[post, "margin"].mean() - own.loc[~post, "margin"].mean()
                         - never.loc[npost, "margin"].mean() + never.loc[~npost, "margin"].mean())
        assert np.sign(np.mean(diffs)) == np.sign(att)


def test_contact_curve_peaks_near_the_planted_optimum(tables, truth) -> None:
    # reference: numpy.polyfit quadratic vertex -b / (2a)
    c = tables["customers"].set_index("customer_id")
    rate = tables["contacts"].groupby("customer_id").size().reindex(c.index, fill_value=0) / 24
    r = tables["responses"]
    ov = r[r["metric"] == "overall"].set_index("customer_id")["score"]
    df = pd.DataFrame({"rate": rate, "ov": ov}).dropna()
    a, b, _ = np.polyfit(df["rate"], df["ov"], 2)
    opt = truth["contact_optimum"]["contacts_per_month"]
    assert a < 0 and abs(-b / (2 * a) - opt) < 0.5
    a, b, _ = np.polyfit(rate, c["retained"].astype(float), 2)
    assert a < 0 and abs(-b / (2 * a) - opt) < 0.6


def test_margin_rises_by_the_planted_amount_per_overall_point(tables, truth) -> None:
    # reference: within-branch OLS slope cov(x, y) / var(x) after demeaning by branch and segment
    r = tables["responses"]
    ov = r[r["metric"] == "overall"].set_index("customer_id")["score"]
    margin = tables["orders"].groupby("customer_id")["margin"].sum()
    df = tables["customers"].set_index("customer_id")[["branch_id", "segment"]]
    df = df.join(ov.rename("ov"), how="inner").join(margin.rename("m"), how="inner")
    grp = df["branch_id"] + df["segment"]
    x = df["ov"] - df.groupby(grp)["ov"].transform("mean")
    y = df["m"] - df.groupby(grp)["m"].transform("mean")
    slope = float((x * y).sum() / (x * x).sum())
    assert abs(slope - truth["margin_per_overall_point"]) < 0.25 * truth["margin_per_overall_point"]


def test_specialists_move_their_customers(tables, truth) -> None:
    r = tables["responses"]
    e = tables["employees"].set_index("employee_id")
    m = r[r["metric"] == "csat"].groupby("specialist_id")["score"].mean()
    df = e.join(m.rename("csat"), how="inner")
    slope = np.polyfit(df["satisfaction"], df["csat"], 1)[0]
    assert slope > 0
    assert truth["specialist_effects"]["per_satisfaction_point"] > 0
    assert (e["accounts_served"].sum() == len(tables["customers"]))


def test_specialist_satisfaction_and_tenure_effects_are_recovered(tables, truth) -> None:
    # reference: statsmodels OLS of each CSAT answer on the specialist's satisfaction and
    # tenure with touchpoint and branch fixed effects, errors clustered by respondent.
    # Branch effects are needed: with ~3 specialists per branch, branch-level shocks
    # (innovations) correlate with specialist satisfaction by chance in one world.
    # The truth is the exact average marginal effect on CSAT computed by the generator
    # (normal CDF of the threshold model, all leaves weighted equally; weighting them by
    # answers moves it by < 2 %, far inside the interval).
    import statsmodels.formula.api as smf

    e = tables["employees"][["employee_id", "satisfaction", "tenure_years"]]
    r = tables["responses"]
    c = r[r["metric"] == "csat"].merge(e, left_on="specialist_id", right_on="employee_id")
    fit = smf.ols("score ~ satisfaction + tenure_years + C(touchpoint_id) + C(branch_id)",
                  data=c).fit(cov_type="cluster",
                              cov_kwds={"groups": pd.factorize(c["response_id"])[0]})
    ci = fit.conf_int(0.05)
    se = truth["specialist_effects"]
    for col, key in [("satisfaction", "csat_per_satisfaction_point"),
                     ("tenure_years", "csat_per_tenure_year")]:
        lo, hi = ci.loc[col]
        assert lo <= se[key] <= hi, (col, fit.params[col], lo, hi, se[key])
        assert lo > 0  # the planted effect is detected, not merely not contradicted


def test_planted_blind_spots_and_low_base_are_exactly_what_coverage_finds(world, truth,
                                                                           tables) -> None:
    from cxlib.analysis import coverage
    from cxlib.data.catalog import load_catalog

    cov_truth = truth["coverage"]
    assert cov_truth["never_asked"] == list(const.NEVER_ASKED) and len(const.NEVER_ASKED) >= 2
    assert cov_truth["low_base"] == list(const.LOW_BASE)
    flagged = coverage.blind_spots(tables["responses"], load_catalog("retail"))
    got = dict(zip(flagged["touchpoint_id"], flagged["status"].astype(str), strict=True))
    assert got == {**dict.fromkeys(const.NEVER_ASKED, "blind_spot"),
                   **dict.fromkeys(const.LOW_BASE, "low_base")}
    n = flagged.set_index("touchpoint_id")["n_respondents_all"].to_dict()
    assert {k: n[k] for k in cov_truth["n_respondents"]} == cov_truth["n_respondents"]
    assert 0 < n[const.LOW_BASE[0]] < config.MIN_BASE
    # the pilot question reached only the first LOW_BASE_PILOT respondents
    r = tables["responses"]
    asked = r.loc[r["touchpoint_id"] == const.LOW_BASE[0], "response_id"]
    assert (asked.str[1:].astype(int) <= const.LOW_BASE_PILOT).all()


def test_coverage_masks_change_no_other_draw(tmp_path: Path) -> None:
    # the blind spots are masks applied after every draw: without them the same seed gives
    # the same customers, orders, contacts, and the same answers everywhere else
    silent = [*const.NEVER_ASKED, *const.LOW_BASE]
    a = synth.generate(tmp_path / "with", size=3000, seed=3)
    saved = const.NEVER_ASKED, const.LOW_BASE
    try:
        const.NEVER_ASKED, const.LOW_BASE = (), ()
        model.world_model.cache_clear()
        b = synth.generate(tmp_path / "without", size=3000, seed=3)
    finally:
        const.NEVER_ASKED, const.LOW_BASE = saved
        model.world_model.cache_clear()
    ha, hb = _hashes(a), _hashes(b)
    for f in ("customers.parquet", "orders.parquet", "contacts.parquet", "employees.parquet",
              "innovations.parquet"):
        assert ha[f] == hb[f], f
    ra, rb = (pd.read_parquet(x / "responses.parquet") for x in (a, b))
    assert set(rb["touchpoint_id"]) >= set(silent) and not set(ra["touchpoint_id"]) & set(
        const.NEVER_ASKED)
    pd.testing.assert_frame_equal(ra.reset_index(drop=True),
                                  rb[~rb["touchpoint_id"].isin(silent)
                                     | ((rb["touchpoint_id"].isin(const.LOW_BASE))
                                        & (rb["response_id"].str[1:].astype(int)
                                           <= const.LOW_BASE_PILOT))].reset_index(drop=True))


def test_planted_move_is_visible(tables, truth) -> None:
    r = tables["responses"]
    for mv in truth["planted_moves"]:
        d = r[(r["touchpoint_id"] == mv["touchpoint_id"]) & (r["metric"] == mv["metric"])
              & (r[mv["segment_column"]] == mv["segment"])]
        inside = d["date"].between(mv["start"], mv["end"])
        diff = d.loc[inside, "score"].mean() - d.loc[~inside, "score"].mean()
        assert np.sign(diff) == np.sign(mv["delta"])


# ----------------------------------------------------------- innovation panel
def test_innovation_panel_recovers_att() -> None:
    # reference: saturated cohort x period TWFE (Wooldridge 2021), statsmodels OLS
    panel, inn, truth = synth.simulate_innovation_panel(seed=3, n_units=40, n_periods=24)
    assert len(panel) == 40 * 24
    assert {"unit_id", "period", "margin", "csat", "contacts"} <= set(panel.columns)
    schemas.INNOVATIONS.validate(inn)
    assert set(truth["never_treated"]).isdisjoint(inn["unit_id"])
    for iid, g in inn.groupby("innovation_id"):
        starts = dict(zip(g["unit_id"], g["start_date"], strict=True))
        est, se = _saturated_twfe_att(panel, "unit_id", "period", starts,
                                      set(truth["never_treated"]))
        att = truth["innovations"][iid]["att_margin_per_unit_period"]
        assert abs(est - att) < 4.5 * se, (iid, est, se, att)
    a, _, _ = synth.simulate_innovation_panel(seed=3, n_units=40, n_periods=24)
    pd.testing.assert_frame_equal(a, panel)
    with pytest.raises(ParameterError):
        synth.simulate_innovation_panel(seed=1, n_units=2)


# -------------------------------------------------------------------- CLI
def test_cli_writes_a_world(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    assert cli.main(["synth", "--size", "1000", "--seed", "2", "--out", str(out)]) == 0
    assert set(FILES) <= {p.name for p in out.iterdir()}
    assert "response rows" in capsys.readouterr().out
    assert cli.main(["synth", "--size", "tiny", "--out", str(tmp_path / "bad")]) == 2
    assert "small, medium, large" in capsys.readouterr().err


def test_ensure_bench_world_generates_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    calls = []
    real = synth.generate

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(bench, "generate", counting)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(
        synth.ensure_bench_world(1000, seed=3))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results[0] == results[1] == tmp_path / "bench" / "world_1000_3"
    assert (results[0] / "truth.json").exists()
    assert not list((tmp_path / "bench").glob("*.lock"))
    assert synth.ensure_bench_world(1000, seed=3) == results[0] and len(calls) == 1


def test_ensure_bench_world_takes_over_a_dead_lock(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    (tmp_path / "bench").mkdir()
    lock = tmp_path / "bench" / "world_1000_4.lock"
    lock.write_text("999999999")  # no such process
    out = synth.ensure_bench_world(1000, seed=4)
    assert (out / "truth.json").exists() and not lock.exists()


# ----------------------------------------------------------- sub-generators
def test_sub_generator_adds_a_table_and_its_truth_and_changes_nothing_else(
        tmp_path: Path, monkeypatch) -> None:
    # the extension point of cxlib.data.synth.extend: a sub-generator sees the tables written
    # so far, draws from its own stream and adds a table + truth; the core world is unchanged
    monkeypatch.setattr(synth.world, "SUB_GENERATORS", ())
    base = synth.generate(tmp_path / "base", size=1000, seed=5)
    seen = {}

    def pulse(world: synth.WorldSoFar) -> synth.Extension:
        emp = world.table("employees", columns=["employee_id"])
        seen["n_customers"] = world.truth["n_customers"]
        score = world.rng().integers(1, 6, emp.num_rows)
        return synth.Extension(
            tables={"pulse": pa.table({"employee_id": emp["employee_id"], "score": score})},
            truth={"mean_score": 3.0})

    monkeypatch.setattr(synth.world, "SUB_GENERATORS", (("pulse", pulse),))
    out = synth.generate(tmp_path / "ext", size=1000, seed=5)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["pulse"] == {"mean_score": 3.0}
    assert truth["tables"] == {"pulse": {"pulse": len(pd.read_parquet(out / "employees.parquet"))}}
    assert seen["n_customers"] == truth["n_customers"]
    hb, he = _hashes(base), _hashes(out)
    assert set(he) - set(hb) == {"pulse.parquet"}
    assert all(hb[f] == he[f] for f in hb if f != "truth.json")
    # the same stream for the same seed: reproducible
    again = synth.generate(tmp_path / "ext2", size=1000, seed=5)
    assert _hashes(again)["pulse.parquet"] == he["pulse.parquet"]

    def clash(world: synth.WorldSoFar) -> synth.Extension:
        return synth.Extension()

    monkeypatch.setattr(synth.world, "SUB_GENERATORS", (("innovations", clash),))
    with pytest.raises(ParameterError, match="clashes"):
        synth.generate(tmp_path / "bad", size=1000, seed=5)
