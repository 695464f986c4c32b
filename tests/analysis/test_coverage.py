"""Feedback coverage (counts, statuses, roll-up to parents) and the journey map."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cxlib.analysis import coverage as cv
from cxlib.data.catalog import Catalog, load_catalog
from cxlib.errors import CatalogError, DataError, ParameterError

matplotlib.use("Agg")

TINY = """\
catalog: tiny
names: {en: Tiny, tr: Minik, az: Kiçik}
stages:
  - {id: pre_sale,  names: {en: Before, tr: Önce, az: Əvvəl}}
  - {id: sale,      names: {en: During, tr: Sırasında, az: Zamanı}}
  - {id: post_sale, names: {en: After, tr: Sonra, az: Sonra}}
touchpoints:
  - {id: ads, names: {en: Ads, tr: Reklam, az: Reklam}, stage: pre_sale, owner: partner}
  - {id: store, names: {en: Store, tr: Mağaza, az: Mağaza}, stage: sale}
  - {id: store_air, names: {en: Air, tr: Hava, az: Hava}, parent: store}
  - {id: store_checkout, names: {en: Checkout, tr: Kasa, az: Kassa}, parent: store}
  - {id: checkout_queue, names: {en: Queue, tr: Kuyruk, az: Növbə}, parent: store_checkout}
  - {id: staff, names: {en: Staff, tr: Personel, az: Əməkdaşlar}, stage: sale}
  - {id: crm, names: {en: CRM, tr: MİY, az: CRM}, stage: post_sale}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Catalog:
    p = tmp_path / "tiny.yml"
    p.write_text(TINY, encoding="utf-8")
    return load_catalog(p)


@pytest.fixture
def answers() -> pd.DataFrame:
    """Hand-made long responses (counts worked out by hand in the tests).

    r1..r5 rate store_air; r1..r3 rate checkout_queue (r1 twice: csat and ces);
    r1..r6 answer the whole-journey question; r6 rates nothing else.
    Segments: r1, r2 mass; r3..r6 business.  r1 and r2 are the same customer c1.
    """
    seg = {"r1": "mass", "r2": "mass", "r3": "business", "r4": "business", "r5": "business",
           "r6": "business"}
    cust = {"r1": "c1", "r2": "c1", "r3": "c3", "r4": "c4", "r5": "c5", "r6": "c6"}
    rows = [(r, "store_air", "csat") for r in ("r1", "r2", "r3", "r4", "r5")]
    rows += [(r, "checkout_queue", "csat") for r in ("r1", "r2", "r3")]
    rows += [("r1", "checkout_queue", "ces")]
    rows += [(r, "journey", "overall") for r in seg]
    df = pd.DataFrame(rows, columns=["response_id", "touchpoint_id", "metric"])
    df["segment"] = df["response_id"].map(seg)
    df["customer_id"] = df["response_id"].map(cust)
    df["score"] = 4.0
    return df


def test_coverage_counts_own_and_including_descendants(tiny, answers):
    cov = cv.coverage(answers, tiny, min_base=3)
    assert cov["touchpoint_id"].tolist() == tiny.ids  # every touchpoint, journey order
    c = cov.set_index("touchpoint_id")
    # own counts
    assert c.loc["store_air", ["n_responses", "n_respondents"]].tolist() == [5, 5]
    assert c.loc["checkout_queue", ["n_responses", "n_respondents"]].tolist() == [4, 3]
    assert c.loc["store", ["n_responses", "n_respondents"]].tolist() == [0, 0]
    # including descendants: store = store_air (5 answers) + checkout_queue (4) = 9 answers
    # from respondents {r1..r5} = 5 (r1..r3 counted once though they rated both)
    assert c.loc["store", ["n_responses_all", "n_respondents_all"]].tolist() == [9, 5]
    assert c.loc["store_checkout", ["n_responses_all", "n_respondents_all"]].tolist() == [4, 3]
    # share of the 6 respondents (r6 answered only the journey question)
    assert c.loc["store", "share_respondents"] == pytest.approx(5 / 6)
    assert c.loc["checkout_queue", "share_respondents"] == pytest.approx(3 / 6)
    # statuses: judged on the roll-up; status_own on own answers
    assert c.loc["store", "status"] == "covered" and c.loc["store", "status_own"] == "blind_spot"
    assert c.loc["checkout_queue", "status"] == "covered"
    for tp in ("ads", "staff", "crm"):
        assert c.loc[tp, "status"] == "blind_spot"
        assert c.loc[tp, "n_respondents_all"] == 0
    assert c.loc["ads", "owner"] == "partner"
    assert list(cov["status"].cat.categories) == ["covered", "low_base", "blind_spot"]


def test_low_base_threshold_is_strictly_below_min_base(tiny, answers):
    c = cv.coverage(answers, tiny, min_base=4).set_index("touchpoint_id")
    assert c.loc["checkout_queue", "status"] == "low_base"       # 3 < 4
    assert c.loc["store_checkout", "status"] == "low_base"
    assert c.loc["store_air", "status"] == "covered"             # 5 >= 4
    c = cv.coverage(answers, tiny, min_base=5).set_index("touchpoint_id")
    assert c.loc["store_air", "status"] == "covered"             # exactly min_base is enough
    c = cv.coverage(answers, tiny, min_base=6).set_index("touchpoint_id")
    assert c.loc["store", "status"] == "low_base"


def test_coverage_by_segment_metric_and_respondent(tiny, answers):
    cov = cv.coverage(answers, tiny, min_base=2, by="segment")
    assert len(cov) == len(tiny) * 2
    c = cov.set_index(["touchpoint_id", "segment"])
    assert c.loc[("store", "mass"), "n_respondents_all"] == 2            # r1, r2
    assert c.loc[("store", "business"), "n_respondents_all"] == 3        # r3, r4, r5
    assert c.loc[("checkout_queue", "business"), "status"] == "low_base"  # r3 only
    assert c.loc[("store", "business"), "share_respondents"] == pytest.approx(3 / 4)
    assert c.loc[("crm", "mass"), "status"] == "blind_spot"
    # metric filter: the ces answer of r1 disappears
    c = cv.coverage(answers, tiny, metric="csat").set_index("touchpoint_id")
    assert c.loc["checkout_queue", "n_responses"] == 3
    # respondents as people: r1 and r2 are the same customer c1
    c = cv.coverage(answers, tiny, respondent="customer_id").set_index("touchpoint_id")
    assert c.loc["store_air", ["n_responses", "n_respondents"]].tolist() == [5, 4]


def test_coverage_names_in_language(tiny, answers):
    c = cv.coverage(answers, tiny, language="az").set_index("touchpoint_id")
    assert c.loc["store_checkout", "name"] == "Kassa"


def test_coverage_errors(tiny, answers):
    with pytest.raises(CatalogError, match=r"\['shop'\]"):
        cv.coverage(pd.concat([answers, answers.head(1).assign(touchpoint_id="shop")]), tiny)
    with pytest.raises(DataError, match="response_id"):
        cv.coverage(answers.drop(columns="response_id"), tiny)
    with pytest.raises(ParameterError, match="min_base"):
        cv.coverage(answers, tiny, min_base=0)
    with pytest.raises(ParameterError, match="language"):
        cv.coverage(answers, tiny, language="de")


def test_blind_spots_and_stage_summary(tiny, answers):
    bs = cv.blind_spots(answers, tiny, min_base=4)
    # worst first (blind spots in journey order), then the low-base ones
    assert bs["touchpoint_id"].tolist() == ["ads", "staff", "crm", "store_checkout",
                                            "checkout_queue"]
    only = cv.blind_spots(answers, tiny, min_base=4, include_low_base=False)
    assert only["touchpoint_id"].tolist() == ["ads", "staff", "crm"]
    summary = cv.stage_summary(cv.coverage(answers, tiny, min_base=4))
    assert summary.to_dict("records") == [
        {"stage": "pre_sale", "n_touchpoints": 1, "n_covered": 0, "n_low_base": 0,
         "n_blind_spot": 1},
        {"stage": "sale", "n_touchpoints": 5, "n_covered": 2, "n_low_base": 2,
         "n_blind_spot": 1},
        {"stage": "post_sale", "n_touchpoints": 1, "n_covered": 0, "n_low_base": 0,
         "n_blind_spot": 1},
    ]


def test_coverage_matches_set_counting_on_random_retail_answers():
    """Independent reference: plain Python sets over the catalog tree."""
    cat = load_catalog("retail")
    rng = np.random.default_rng(7)
    ids = np.array(cat.ids)
    p = rng.dirichlet(np.full(len(ids), 0.3))  # uneven: some touchpoints get nothing
    n = 600
    df = pd.DataFrame({"response_id": rng.integers(0, 120, n).astype(str),
                       "touchpoint_id": rng.choice(ids, n, p=p), "metric": "csat"})
    cov = cv.coverage(df, cat, min_base=10).set_index("touchpoint_id")
    for t in cat.ids:
        sub = df[df["touchpoint_id"].isin([t, *cat.descendants(t)])]
        assert cov.loc[t, "n_responses_all"] == len(sub)
        assert cov.loc[t, "n_respondents_all"] == len(set(sub["response_id"]))
        want = ("blind_spot" if sub.empty else
                "low_base" if len(set(sub["response_id"])) < 10 else "covered")
        assert cov.loc[t, "status"] == want


def test_coverage_on_sample_world(request):
    """The synthetic world answers at retail touchpoints only (ids from the catalog)."""
    sample_dir = request.getfixturevalue("sample_dir")
    files = sorted(Path(sample_dir).glob("responses*"))
    assert files, f"no responses in {sample_dir}"
    responses = pd.read_parquet(files[0])
    cov = cv.coverage(responses, load_catalog("retail"))
    assert len(cov) == 51
    assert (cov["n_responses_all"] >= cov["n_responses"]).all()
    # the world has answers somewhere in every stage
    assert (cov.groupby("stage")["n_respondents_all"].max() > 0).all()


def test_blind_spots_on_sample_world_are_exactly_the_planted_ones(sample_dir):
    """The generator plants never-asked and low-base leaves (truth.json "coverage")."""
    import json

    from cxlib.data import datasets

    truth = json.loads((Path(sample_dir) / "truth.json").read_text(encoding="utf-8"))
    assert "coverage" in truth, "stale sample: regenerate it with `make sample`"
    planted = truth["coverage"]
    world = datasets.load(sample_dir)
    flagged = cv.blind_spots(world.responses, world.catalog)
    got = dict(zip(flagged["touchpoint_id"], flagged["status"].astype(str), strict=True))
    assert got == {**dict.fromkeys(planted["never_asked"], "blind_spot"),
                   **dict.fromkeys(planted["low_base"], "low_base")}
    assert 2 <= len(planted["never_asked"]) <= 3 and len(planted["low_base"]) == 1
    # worst first: blind spots, then the low base with its (small, non-zero) count
    assert flagged["status"].astype(str).tolist()[-1] == "low_base"
    low = flagged.set_index("touchpoint_id").loc[planted["low_base"][0], "n_respondents_all"]
    assert 0 < low == planted["n_respondents"][planted["low_base"][0]] < 30


def test_coverage_on_airline_matches_raw_csv_counts():
    """Independent reference: count non-zero ratings (0 = not applicable) in the raw CSV."""
    from tests.conftest import shared_file_or_skip

    path = shared_file_or_skip("airline_satisfaction_train.csv")
    datasets = pytest.importorskip("cxlib.data.datasets")
    world = datasets.load("airline")
    cov = cv.coverage(world.responses, world.catalog).set_index("touchpoint_id")
    raw = pd.read_csv(path, usecols=["Inflight wifi service", "Baggage handling"])
    assert cov.loc["inflight_wifi", "n_responses"] == int((raw["Inflight wifi service"] != 0).sum())
    assert cov.loc["baggage_handling", "n_responses"] == int((raw["Baggage handling"] != 0).sum())
    assert (cov["status"] == "covered").all()
    assert len(cov) == 14


# --------------------------------------------------------------------- journey map
def test_journey_layout(tiny, answers):
    from cxlib.plots.coverage import journey_layout

    lay = journey_layout(tiny, language="tr")
    assert lay["touchpoint_id"].tolist() == tiny.ids
    assert lay.groupby("stage", sort=False)["row"].max().tolist() == [0, 4, 0]
    r = lay.set_index("touchpoint_id")
    assert r.loc["checkout_queue", "x"] > r.loc["store_checkout", "x"] > r.loc["store", "x"]
    assert r.loc["checkout_queue", "width"] < r.loc["store", "width"]
    assert r.loc["store", "stage_label"] == "Sırasında"
    assert r.loc["store_checkout", "label"] == "Kasa"
    cov = cv.coverage(answers, tiny, min_base=4)
    lay = journey_layout(tiny, values=cov, color="status").set_index("touchpoint_id")
    assert lay.loc["ads", "value"] == "blind_spot"
    with pytest.raises(ParameterError, match="one row per"):
        journey_layout(tiny, values=cv.coverage(answers, tiny, by="segment"), color="status")
    with pytest.raises(ParameterError, match="color"):
        journey_layout(tiny, values=cov, color="nope")


def test_journey_map_draws_every_touchpoint(tiny, answers):
    import matplotlib.pyplot as plt

    from cxlib.plots.coverage import journey_map

    cov = cv.coverage(answers, tiny, min_base=4)
    ax = journey_map(tiny, values=cov, color="status", language="az")
    from matplotlib.text import Text

    texts = [t.get_text() for t in ax.texts if type(t) is Text]  # not the stage arrows
    assert "Kassa" in texts and "Zamanı" in texts and "Növbə" in texts
    assert len(texts) == len(tiny) + len(tiny.stages)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["əhatə olunub", "az baza", "kor nöqtə"]
    plt.close(ax.figure)
    fig, ax0 = plt.subplots()
    ax = journey_map(tiny, values=cov, color="n_respondents_all", ax=ax0)
    assert ax is ax0
    plt.close(fig)


def test_coverage_bars_one_bar_per_touchpoint(tiny, answers):
    import matplotlib.pyplot as plt

    from cxlib.plots.coverage import coverage_bars

    cov = cv.coverage(answers, tiny, min_base=4, language="tr")
    ax = coverage_bars(cov, min_base=4, language="tr")
    assert len(ax.patches) == len(tiny)
    assert [p.get_width() for p in ax.patches] == cov["n_respondents_all"].tolist()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[4] == "      Kuyruk"  # depth 2: indented under Kasa
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "yeterli", "düşük taban", "kör nokta"]
    plt.close(ax.figure)
    with pytest.raises(ParameterError):
        coverage_bars(cv.coverage(answers, tiny, by="segment"))


def test_catalog_frame_is_a_copy(tiny):
    f = tiny.frame
    f["touchpoint_id"] = "x"
    assert tiny.frame["touchpoint_id"].iloc[0] == "ads"


def test_stage_summary_by_segment_and_heatmap(tiny, answers):
    import matplotlib.pyplot as plt

    from cxlib.plots.coverage import coverage_heatmap

    cov = cv.coverage(answers, tiny, min_base=3, by="segment")
    s = cv.stage_summary(cov, by="segment").set_index(["segment", "stage"])
    # business: store (3: r3..r5) and store_air (3) covered; checkout subtree only r3 -> low
    assert s.loc[("business", "sale")].tolist() == [5, 2, 2, 1]
    # mass: r1, r2 everywhere they answered -> all low base or blind
    assert s.loc[("mass", "sale")].tolist() == [5, 0, 4, 1]
    ax = coverage_heatmap(cov, by="segment", language="en")
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == len(tiny) * 2
    # annotations are the counts, row-major in journey order x sorted segments
    assert cells[2:4] == ["3", "2"]  # store: business 3, mass 2
    plt.close(ax.figure)
    with pytest.raises(ParameterError):
        coverage_heatmap(cov, by="region")
