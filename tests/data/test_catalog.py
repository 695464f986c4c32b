"""Touchpoint catalog: validation errors, walking the tree, roll-ups, shipped catalogs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib import config
from cxlib.data.catalog import FRAME_COLUMNS, Catalog, load_catalog, rollup
from cxlib.errors import CatalogError

HEAD = """\
catalog: tiny
names: {en: Tiny, tr: Minik, az: Kiçik}
stages:
  - {id: pre_sale,  names: {en: Before, tr: Önce, az: Əvvəl}}
  - {id: sale,      names: {en: During, tr: Sırasında, az: Zamanı}}
  - {id: post_sale, names: {en: After, tr: Sonra, az: Sonra}}
touchpoints:
"""


def tp(id_, stage="sale", parent=None, owner="own", names=None, **extra) -> str:
    names = names if names is not None else f"{{en: {id_} en, tr: {id_} tr, az: {id_} az}}"
    par = "null" if parent is None else parent
    more = "".join(f", {k}: {v}" for k, v in extra.items())
    return (f"  - {{id: {id_}, names: {names}, stage: {stage}, parent: {par}, "
            f"channel: physical, owner: {owner}{more}}}\n")


def write(tmp_path: Path, body: str, name: str = "cat.yml") -> Path:
    p = tmp_path / name
    p.write_text(HEAD + body, encoding="utf-8")
    return p


GOOD = (tp("ads", "pre_sale") + tp("store") + tp("store_air", parent="store")
        + tp("store_checkout", parent="store") + tp("checkout_queue", parent="store_checkout")
        + tp("staff") + tp("crm", "post_sale"))


@pytest.fixture
def tiny(tmp_path: Path) -> Catalog:
    return load_catalog(write(tmp_path, GOOD))


# --------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (tp("store") + tp("air", parent="stor"), ["'air'", "unknown parent 'stor'", "store"]),
        (tp("a", parent="b") + tp("b", parent="a"), ["cycle", "'a'"]),
        (tp("a", parent="a"), ["cycle", "'a'"]),
        (tp("store") + tp("store"), ["'store'", "duplicate id"]),
        (tp("store", stage="checkout"), ["'store'", "unknown stage 'checkout'"]),
        (tp("store", names="{tr: Mağaza, az: Mağaza}"), ["'store'", "missing name", "en"]),
        (tp("store", names="{en: '', tr: Mağaza, az: Mağaza}"), ["'store'", "missing name", "en"]),
        (tp("store") + tp("store_air", stage="post_sale", parent="store"),
         ["'store_air'", "differs from its parent", "'store'"]),
        (tp("store", owner="agency"), ["'store'", "unknown owner 'agency'"]),
        (tp("Store"), ["'Store'", "snake_case"]),
        (tp("journey"), ["'journey'", "reserved"]),
        (tp("store", parnet="x"), ["'store'", "unknown key", "parnet"]),
        # an unquoted comma inside a flow mapping splits the name: caught, with the fix
        (tp("store", names="{en: Store (shop, showroom), tr: Mağaza, az: Mağaza}"),
         ["'store'", "quoted"]),
    ],
    ids=["unknown-parent", "cycle", "self-cycle", "duplicate", "unknown-stage", "missing-name",
         "empty-name", "stage-differs", "unknown-owner", "bad-id", "reserved-id", "unknown-key",
         "comma-in-name"],
)
def test_each_rule_raises_a_catalog_error_naming_file_and_touchpoint(tmp_path, body, words):
    path = write(tmp_path, body)
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    msg = str(err.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, msg


def test_all_problems_are_listed_at_once(tmp_path):
    body = tp("store", owner="agency") + tp("air", parent="nowhere") + tp("x", stage="nope")
    with pytest.raises(CatalogError) as err:
        load_catalog(write(tmp_path, body))
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert "'agency'" in msg and "'nowhere'" in msg and "'nope'" in msg


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.yml")
    with pytest.raises(CatalogError, match=r"not found.*retail"):
        load_catalog("no_such_catalog")
    bad = tmp_path / "bad.yml"
    bad.write_text("touchpoints: [ {id: a, names: {en: x}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(bad)


def test_missing_stage_names_and_duplicate_stage(tmp_path):
    p = tmp_path / "s.yml"
    p.write_text(textwrap.dedent("""\
        catalog: s
        names: {en: S, tr: S, az: S}
        stages:
          - {id: one, names: {tr: Bir, az: Bir}}
          - {id: one, names: {en: One, tr: Bir, az: Bir}}
        touchpoints:
          - {id: a, names: {en: A, tr: A, az: A}, stage: one}
        """), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(p)
    assert "stage 'one': missing name in ['en']" in str(err.value)
    assert "duplicate stage id" in str(err.value)


def test_child_inherits_stage_and_owner_defaults_to_own(tmp_path):
    body = tp("store") + (
        "  - {id: store_air, names: {en: Air, tr: Hava, az: Hava}, parent: store}\n")
    cat = load_catalog(write(tmp_path, body))
    row = cat.frame.set_index("touchpoint_id").loc["store_air"]
    assert row["stage"] == "sale" and row["owner"] == "own" and row["depth"] == 1


def test_default_stages_when_not_declared(tmp_path):
    p = tmp_path / "d.yml"
    p.write_text("catalog: d\nnames: {en: D, tr: D, az: D}\ntouchpoints:\n" + tp("a", "post_sale"),
                 encoding="utf-8")
    cat = load_catalog(p)
    assert cat.stages == ("pre_sale", "sale", "post_sale")
    assert cat.name("post_sale", "az") == "Satışdan sonra"


# --------------------------------------------------------------------- walking
def test_frame_columns_and_journey_order(tiny):
    f = tiny.frame
    assert list(f.columns) == FRAME_COLUMNS
    # stage order first, then depth-first: a parent is followed by its subtree
    assert f["touchpoint_id"].tolist() == [
        "ads", "store", "store_air", "store_checkout", "checkout_queue", "staff", "crm"]
    assert f["stage_order"].tolist() == [0, 1, 1, 1, 1, 1, 2]
    assert f["depth"].tolist() == [0, 0, 1, 1, 2, 0, 0]
    assert f["is_leaf"].tolist() == [True, False, True, False, True, True, True]
    assert f.set_index("touchpoint_id").loc["checkout_queue", "top_level_id"] == "store"
    assert f["parent"].isna().sum() == 4


def test_walking_functions(tiny):
    assert tiny.children("store") == ["store_air", "store_checkout"]
    assert tiny.children("ads") == []
    assert tiny.descendants("store") == ["store_air", "store_checkout", "checkout_queue"]
    assert tiny.ancestors("checkout_queue") == ["store_checkout", "store"]
    assert tiny.ancestors("store") == []
    assert tiny.leaves() == ["ads", "store_air", "checkout_queue", "staff", "crm"]
    assert tiny.top_level() == ["ads", "store", "staff", "crm"]
    assert tiny.by_stage("sale") == ["store", "store_air", "store_checkout", "checkout_queue",
                                     "staff"]
    assert tiny.by_stage("sale", top_only=True) == ["store", "staff"]
    assert tiny.stage_of("checkout_queue") == "sale"
    assert tiny.parent("store_air") == "store"
    assert "store" in tiny and "nope" not in tiny and len(tiny) == 7
    with pytest.raises(CatalogError, match=r"Did you mean.*store_air"):
        tiny.children("store_ai")
    with pytest.raises(CatalogError, match="unknown stage"):
        tiny.by_stage("checkout")


def test_names(tiny):
    assert tiny.name("store_air", "tr") == "store_air tr"
    assert tiny.name("sale", "az") == "Zamanı"
    assert tiny.name("journey", "tr") == "Yolculuğun tamamı"
    assert tiny.name("tiny", "az") == "Kiçik"
    with pytest.raises(CatalogError, match="language"):
        tiny.name("store", "de")
    with pytest.raises(CatalogError):
        tiny.name("nope")


def test_ancestry(tiny):
    anc = tiny.ancestry()
    assert list(anc.columns) == ["touchpoint_id", "ancestor_id", "level"]
    q = anc[anc["touchpoint_id"] == "checkout_queue"].sort_values("level")
    assert q["ancestor_id"].tolist() == ["checkout_queue", "store_checkout", "store"]
    assert q["level"].tolist() == [0, 1, 2]
    # one level-0 row per touchpoint, plus one row per (touchpoint, proper ancestor)
    assert len(anc) == 7 + sum(len(tiny.ancestors(t)) for t in tiny.ids)


def test_check_ids(tiny):
    tiny.check_ids(["store", "journey"])
    with pytest.raises(CatalogError, match=r"not in catalog 'tiny'.*\['shop'\]"):
        tiny.check_ids(["store", "shop"], source="x.csv")
    with pytest.raises(CatalogError):
        tiny.check_ids(["journey"], allow_journey=False)


# --------------------------------------------------------------------- roll-up
def test_rollup_to_parent_matches_hand_worked_weighted_mean(tiny):
    # Hand-worked (Cochran 1977, sec. 5.2: combined mean = sum w_i x_i / sum w_i):
    # store = own 3.0 (n 10) + store_air 4.0 (n 30) + store_checkout 2.0 (n 20)
    #         + checkout_queue 1.0 (n 40)
    #       = (30 + 120 + 40 + 40) / 100 = 2.30
    # store_checkout = (2*20 + 1*40) / 60 = 80/60 = 1.3333...
    table = pd.DataFrame({
        "touchpoint_id": ["store", "store_air", "store_checkout", "checkout_queue", "crm",
                          "journey"],
        "mean": [3.0, 4.0, 2.0, 1.0, 5.0, 9.9],
        "n": [10, 30, 20, 40, 7, 999],
    })
    out = tiny.rollup(table, value="mean", weight="n").set_index("touchpoint_id")
    assert out.loc["store", "mean"] == pytest.approx(2.30)
    assert out.loc["store", "weight_sum"] == 100
    assert out.loc["store", "n_parts"] == 4
    assert out.loc["store_checkout", "mean"] == pytest.approx(80 / 60)
    assert out.loc["checkout_queue", "mean"] == pytest.approx(1.0)
    assert "staff" not in out.index and "ads" not in out.index  # nothing to roll up
    assert out.loc["crm", "has_own"]
    # Same answer as pooling the raw answers (a mean of means would give 2.5 at store).
    raw = np.repeat([3.0, 4.0, 2.0, 1.0], [10, 30, 20, 40])
    assert out.loc["store", "mean"] == pytest.approx(raw.mean())


def test_rollup_to_stage_and_unweighted(tiny):
    table = pd.DataFrame({
        "touchpoint_id": ["ads", "store_air", "checkout_queue", "staff", "crm"],
        "mean": [2.0, 4.0, 1.0, 3.0, 5.0], "n": [5, 30, 40, 30, 7],
    })
    st = rollup(table, catalog=tiny, value="mean", weight="n", to="stage")
    assert st["stage"].tolist() == ["pre_sale", "sale", "post_sale"]
    sale = st.set_index("stage").loc["sale"]
    assert sale["mean"] == pytest.approx((4 * 30 + 1 * 40 + 3 * 30) / 100)  # = 2.5
    un = rollup(table, catalog=tiny, value="mean", to="stage").set_index("stage")
    assert un.loc["sale", "mean"] == pytest.approx((4 + 1 + 3) / 3)
    assert un.loc["sale", "n_parts"] == 3


def test_rollup_by_segment_zero_weight_and_errors(tiny):
    table = pd.DataFrame({
        "touchpoint_id": ["store_air", "store_checkout"] * 2,
        "segment": ["mass", "mass", "business", "business"],
        "mean": [4.0, 2.0, 5.0, 1.0], "n": [1, 3, 0, 0],
    })
    out = tiny.rollup(table, value="mean", weight="n", by=["segment"])
    store = out[out["touchpoint_id"] == "store"].set_index("segment")
    assert store.loc["mass", "mean"] == pytest.approx((4 + 6) / 4)
    assert np.isnan(store.loc["business", "mean"])  # zero total weight -> NaN, not 0
    with pytest.raises(CatalogError, match="not in catalog"):
        tiny.rollup(pd.DataFrame({"touchpoint_id": ["shop"], "mean": [1.0]}), value="mean")
    with pytest.raises(CatalogError, match="column"):
        tiny.rollup(table, value="avg")
    with pytest.raises(CatalogError, match="negative"):
        tiny.rollup(table.assign(n=-1), value="mean", weight="n")
    with pytest.raises(CatalogError, match="'parent' or 'stage'"):
        tiny.rollup(table, value="mean", to="branch")


# --------------------------------------------------------------------- shipped catalogs
RETAIL_IDS = {
    # before the sale
    "company_name", "brands", "office_location", "products_pre", "advertising",
    "customer_service_centre_pre", "website", "email_format", "stationery",
    "stationery_fax_paper", "stationery_envelopes", "business_cards", "company_cars",
    "reception", "reception_doorman", "reception_secretary", "reception_phone_voice",
    "social_responsibility",
    # during the sale
    "store", "store_exterior", "store_interior", "store_cleanliness", "store_space",
    "store_air", "store_windows", "store_movement_choice", "store_checkout", "sales_staff",
    "product", "product_packaging", "product_design", "product_name", "product_label",
    "product_display", "product_package_cleanliness", "product_freshness",
    "product_instructions", "product_expiry", "product_warranty", "product_barcode",
    # after the sale
    "customer_service_centre_post", "after_sales_staff", "after_sales_appearance",
    "after_sales_smile", "after_sales_dress", "after_sales_badges", "after_sales_behaviour",
    "after_sales_speech", "after_sales_product_knowledge", "product_in_use", "crm",
}


def test_retail_catalog_covers_seed_000():
    cat = load_catalog("retail")
    assert cat.path == config.catalog_path("retail")
    assert set(cat.ids) == RETAIL_IDS
    f = cat.frame.set_index("touchpoint_id")
    assert f.loc["customer_service_centre_pre", "stage"] == "pre_sale"
    assert f.loc["customer_service_centre_post", "stage"] == "post_sale"
    assert set(cat.children("store")) == {
        "store_exterior", "store_interior", "store_cleanliness", "store_space", "store_air",
        "store_windows", "store_movement_choice", "store_checkout"}
    assert len(cat.children("product")) == 11
    assert len(cat.children("after_sales_staff")) == 7
    assert set(cat.children("stationery")) == {"stationery_fax_paper", "stationery_envelopes"}
    assert set(cat.children("reception")) == {"reception_doorman", "reception_secretary",
                                              "reception_phone_voice"}
    assert [len(cat.by_stage(s, top_only=True)) for s in cat.stages] == [13, 3, 4]
    for lang in ("en", "tr", "az"):
        assert f[f"name_{lang}"].str.strip().str.len().gt(0).all()
    assert set(f["owner"]) <= {"own", "partner"}


@pytest.mark.parametrize(
    ("tp_id", "az_letter", "az_name_contains", "tr_name_contains"),
    [
        ("company_name", "ə", "Şirkətin adı", "Şirket"),
        ("office_location", "ə", "yerləşməsi", "ofisi"),
        ("customer_service_centre_pre", "ə", "Müştəri xidmətləri mərkəzi", "Müşteri"),
        ("stationery_envelopes", "ə", "Zərflər", "Zarf"),
        ("store_cleanliness", "ə", "Təmizlik", "Temizlik"),
        ("store_movement_choice", "ə", "seçim sərbəstliyi", "özgürlüğü"),
        ("store_checkout", "ə", "Kassa", "Kasa"),
        ("reception_doorman", "ı", "Qapıçı", "Kapı"),
        ("product_freshness", "ə", "Təzəlik", "Tazelik"),
        ("product_label", "ü", "üzərindəki", "üzerindeki"),
        ("after_sales_smile", "ü", "Gülümsəmə", "Gülümseme"),
        ("after_sales_speech", "ı", "Danışıq", "Konuşma"),
        ("product_in_use", "ə", "İstifadə", "Kullanım"),
    ],
)
def test_retail_names_use_azerbaijani_and_turkish_letters(tp_id, az_letter, az_name_contains,
                                                          tr_name_contains):
    cat = load_catalog("retail")
    az, tr = cat.name(tp_id, "az"), cat.name(tp_id, "tr")
    assert az_letter in az and az_name_contains in az
    assert tr_name_contains in tr
    assert "ə" not in tr  # Turkish has no schwa: a sign of a copy-paste between languages


def test_azerbaijani_names_never_use_turkish_only_spelling():
    # Azerbaijani writes q/x/ə where Turkish writes k/h/e: 'müşteri' or 'hizmet' in an
    # Azerbaijani name is a Turkish word left untranslated.
    az = load_catalog("retail").frame["name_az"].str.lower()
    for turkish in ("müşteri", "hizmet", "ürün", "mağazası"):
        assert not az.str.contains(turkish).any(), turkish


AIRLINE_IDS = {
    "inflight_wifi", "time_convenience", "online_booking", "gate_location", "food_drink",
    "online_boarding", "seat_comfort", "inflight_entertainment", "onboard_service", "leg_room",
    "baggage_handling", "checkin_service", "inflight_service", "cleanliness",
}


def test_airline_catalog_has_exactly_the_14_rated_touchpoints():
    cat = load_catalog("airline")
    assert len(cat) == 14 and set(cat.ids) == AIRLINE_IDS
    assert cat.stages == ("pre_flight", "in_flight", "post_flight")
    f = cat.frame.set_index("touchpoint_id")
    assert f.loc["online_booking", "stage"] == "pre_flight"
    assert f.loc["seat_comfort", "stage"] == "in_flight"
    assert f.loc["baggage_handling", "stage"] == "post_flight"
    assert f["depth"].eq(0).all()
    for lang in ("en", "tr", "az"):
        assert f[f"name_{lang}"].str.len().gt(0).all()


def test_airline_catalog_matches_the_rated_columns_of_the_csv():
    """Every 0-5 rated service column of the real survey has exactly one touchpoint."""
    from tests.conftest import shared_file_or_skip

    path = shared_file_or_skip("airline_satisfaction_train.csv")
    head = pd.read_csv(path, nrows=2000)
    rated = [c for c in head.columns
             if head[c].dtype.kind == "i" and head[c].between(0, 5).all() and c != "Unnamed: 0"]
    assert len(rated) == len(load_catalog("airline")) == 14


def test_tr_az_names_may_be_left_out_english_is_used_with_one_warning(tmp_path):
    # issue 16: a new touchpoint needs only its English name; one warning lists
    # every name still to translate, and tr/az tables show the English name.
    import warnings

    from cxlib.data.catalog import UntranslatedNamesWarning

    p = tmp_path / "partial.yml"
    p.write_text(textwrap.dedent("""\
        catalog: partial
        names: {en: Partial}
        stages:
          - {id: before, names: {en: Before, tr: Önce, az: Əvvəl}}
        touchpoints:
          - {id: online_support, names: {en: Online support}, stage: before}
          - {id: desk, names: {en: Desk, tr: Masa}, stage: before}
          - {id: kiosk, names: {en: Kiosk, tr: Kiosk, az: Kiosk}, stage: before}
        """), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cat = load_catalog(p)
    ours = [w for w in caught if issubclass(w.category, UntranslatedNamesWarning)]
    assert len(ours) == 1
    msg = str(ours[0].message)
    assert "touchpoint 'online_support' (tr, az)" in msg and "touchpoint 'desk' (az)" in msg
    assert "catalog (tr, az)" in msg and "kiosk" not in msg
    assert cat.name("online_support", "az") == "Online support"
    assert cat.name("desk", "tr") == "Masa" and cat.name("desk", "az") == "Desk"
    assert cat.names["tr"] == "Partial"
