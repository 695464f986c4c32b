"""One code path, two inputs: a pandas DataFrame and a DuckDB relation over Parquet
give the same tables (to 1e-9), and both equal an independent pandas implementation
(the per-respondent groupby the library used before the DuckDB rewrite)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from cxlib.analysis import compare, satisfaction
from cxlib.data import datasets


@pytest.fixture(scope="module")
def world(sample_dir):
    return datasets.load(sample_dir)


@pytest.fixture(scope="module")
def frame(world):
    r = world.responses.copy()
    # survey weights constant within a respondent (as raking weights are)
    rid = r["response_id"].str[1:].astype(int)
    r["weight"] = 0.5 + (rid * 7919 % 13) / 6.0
    return r


@pytest.fixture(scope="module")
def parquet_relation(frame, tmp_path_factory):
    """The same answers as a hive-partitioned Parquet store (by segment), read by DuckDB."""
    out = tmp_path_factory.mktemp("store") / "responses"
    con = duckdb.connect()
    con.register("r", frame)
    con.execute(f"COPY (SELECT * FROM r ORDER BY metric, response_id) TO '{out}' "
                "(FORMAT parquet, PARTITION_BY (segment))")
    return con.read_parquet(str(out / "**" / "*.parquet"), hive_partitioning=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ reference
def reference_summarize(df, *, metric, level, catalog, by=(), period=None, weight=None):
    """The pre-DuckDB pandas implementation, kept as an independent reference."""
    data = df[df["metric"] == metric]
    data = satisfaction.add_period(data, period)
    keys = [*by, *(["period"] if period else [])]
    hib = satisfaction.higher_is_better(metric)
    best, worst, _ = satisfaction.box_thresholds(data["scale_min"], data["scale_max"], metric)
    sc = data["score"].to_numpy()
    data = data.assign(_top=(sc >= best if hib else sc <= best).astype(float),
                       _bot=(sc <= worst if hib else sc >= worst).astype(float),
                       _pro=(sc >= 9).astype(float), _det=(sc <= 6).astype(float),
                       _w=data[weight].astype(float) if weight else 1.0)
    if level == "touchpoint":
        data = data.assign(unit=data["touchpoint_id"])
    elif level == "journey":
        data = data.assign(unit="journey")
    elif level == "stage":
        st = catalog.frame.set_index("touchpoint_id")["stage"]
        data = data.assign(unit=data["touchpoint_id"].map(st)).dropna(subset=["unit"])
    else:
        anc = catalog.ancestry()
        parents = set(catalog.frame.loc[~catalog.frame["is_leaf"], "touchpoint_id"])
        m = data.merge(anc[anc["ancestor_id"].isin(parents)], on="touchpoint_id")
        data = m.assign(unit=m["ancestor_id"])
    cols = ["score", "_top", "_bot", "_pro", "_det", "_w"]
    g = data.groupby(["unit", *keys, "response_id"])
    per = g[cols].mean()
    per["_k"] = g.size()
    bern = level == "touchpoint" or bool((per["_k"] == 1).all())
    rows = []
    for key, c in per.groupby(level=["unit", *keys]):
        key = key if isinstance(key, tuple) else (key,)
        w = c["_w"].to_numpy()
        base = dict(zip(["unit", *keys], key, strict=True))
        m, lo, hi, ne = satisfaction.mean_ci(c["score"].to_numpy(), w)
        rows.append({**base, "statistic": "mean", "estimate": m, "ci_low": lo, "ci_high": hi,
                     "n": len(c), "n_eff": ne})
        for st, col in (("top2", "_top"), ("bottom", "_bot")):
            x = c[col].to_numpy()
            if bern:
                p = float(np.sum(w * x) / w.sum())
                lo, hi = satisfaction.wilson_ci(p, ne)
            else:
                p, lo, hi, _ = satisfaction.mean_ci(x, w)
            rows.append({**base, "statistic": st, "estimate": p, "ci_low": lo, "ci_high": hi,
                         "n": len(c), "n_eff": ne})
        if metric == "nps":
            pp = float(np.sum(w * c["_pro"]) / w.sum())
            pdt = float(np.sum(w * c["_det"]) / w.sum())
            est, lo, hi = satisfaction.nps_ci(pp * ne, pdt * ne, ne)
            rows.append({**base, "statistic": "nps", "estimate": est, "ci_low": lo,
                         "ci_high": hi, "n": len(c), "n_eff": ne})
    return pd.DataFrame(rows)


CASES = [
    dict(metric="csat", level="touchpoint"),
    dict(metric="csat", level="touchpoint", by=["segment"], weight="weight"),
    dict(metric="csat", level="parent"),
    dict(metric="csat", level="stage", by=["region"], period="half"),
    dict(metric="csat", level="journey", weight="weight"),
    dict(metric="ces", level="touchpoint", period="quarter"),
    dict(metric="nps", level="touchpoint", by=["segment"]),
    dict(metric="overall", level="journey", period="year"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(
    str(v) if not isinstance(v, list) else v[0] for v in c.values()))
def test_summarize_dataframe_equals_relation_equals_reference(case, world, frame,
                                                              parquet_relation):
    cat = world.catalog
    keys = ["unit", *case.get("by", []), *(["period"] if case.get("period") else []),
            "statistic"]
    from_df = satisfaction.summarize(frame, catalog=cat, **case)
    from_rel = satisfaction.summarize(parquet_relation, catalog=cat, **case)
    _same(from_df, from_rel, keys)
    ref = reference_summarize(frame, catalog=cat, **case)
    got = from_df[ref.columns]
    _same(got, ref, keys)


def test_comparisons_dataframe_equals_relation(world, frame, parquet_relation):
    for fn, kw, keys in (
        (compare.compare_segments, dict(segment_column="region",
                                        statistics=["mean", "top2", "bottom"]),
         ["touchpoint_id", "segment", "statistic"]),
        (compare.compare_periods, dict(period="quarter", by="segment", last_only=False,
                                       statistics=["mean", "top2"]),
         ["touchpoint_id", "segment", "period", "statistic"]),
        (compare.compare_segments, dict(segment_column="segment", metric="nps",
                                        statistics=["nps"]),
         ["touchpoint_id", "segment", "statistic"]),
    ):
        _same(fn(frame, **kw), fn(parquet_relation, **kw), keys)
    _same(compare.weakest_links(frame, world.catalog),
          compare.weakest_links(parquet_relation, world.catalog), ["stage"])


def test_segment_vs_rest_against_scipy_per_cell_and_missing_segments(frame):
    # reference: scipy's Welch test and statsmodels' pooled z test on the raw arrays,
    # with respondents whose segment is missing in neither group
    df = frame[frame["metric"] == "csat"].copy()
    df.loc[df["response_id"].str[-1] == "7", "region"] = None
    out = compare.compare_segments(df, segment_column="region", statistics=["mean", "top2"])
    for tp in ("website", "store_checkout"):
        g = df[(df["touchpoint_id"] == tp) & df["region"].notna()]
        for seg in sorted(g["region"].unique())[:3]:
            a = g.loc[g["region"] == seg, "score"].to_numpy()
            b = g.loc[g["region"] != seg, "score"].to_numpy()
            row = out[(out.touchpoint_id == tp) & (out.segment == seg)].set_index("statistic")
            assert row.loc["mean", "n"] == len(a) and row.loc["mean", "n_ref"] == len(b)
            assert row.loc["mean", "p_value"] == pytest.approx(
                stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
            ref = proportions_ztest([(a >= 4).sum(), (b >= 4).sum()], [len(a), len(b)])[1]
            assert row.loc["top2", "p_value"] == pytest.approx(ref, rel=1e-9)
    n_missing = df[(df["touchpoint_id"] == "website") & df["region"].isna()].shape[0]
    web = out[(out.touchpoint_id == "website") & (out.statistic == "mean")]
    assert n_missing > 0
    assert (web["n"] + web["n_ref"]).unique().tolist() == [
        df[(df["touchpoint_id"] == "website") & df["region"].notna()].shape[0]]


def test_bad_inputs_raise_clear_errors(frame):
    from cxlib.errors import CxError

    with pytest.raises(CxError, match=r"metric 'xyz'.*present"):
        satisfaction.summarize(frame, metric="xyz")
    with pytest.raises(CxError, match="nope"):
        satisfaction.summarize(frame, by="nope")
    with pytest.raises(CxError, match="period must be one of"):
        satisfaction.summarize(frame, period="week")
    with pytest.raises(CxError, match="DataFrame or a DuckDB relation"):
        satisfaction.summarize([1, 2, 3])
