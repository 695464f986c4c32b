"""The profile store (lookup equals a full scan; unknown ids) and the commerce contracts."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlib.data.integrity import check_references
from cxlib.data.profiles import ProfileStore, build
from cxlib.data.validate import validate
from cxlib.errors import DataError


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    from cxlib.data import datasets, synth

    out = tmp_path_factory.mktemp("w") / "world"
    synth.generate(out, size=5_000, seed=4)
    return datasets.load(out)


@pytest.fixture(scope="module")
def store(world, tmp_path_factory: pytest.TempPathFactory) -> ProfileStore:
    # small row groups so that a lookup really picks a few of many
    return ProfileStore.load(build(world.folder, out=tmp_path_factory.mktemp("s") / "p",
                                   row_group_size=500))


def test_lookup_equals_full_scan(world, store: ProfileStore) -> None:
    for cid in ["C00000001", world.customers["customer_id"].iloc[-1], "C00000200"]:
        got = store.lookup(cid)
        for table in ("orders", "contacts", "payments", "responses"):
            full = world.table(table)
            want = full[full["customer_id"] == cid]
            key = want.columns[0]
            assert sorted(got[table][key]) == sorted(want[key]), (cid, table)
    assert len(store.tables["orders"].mins) > 1  # the index has several row groups


def test_unknown_id_names_closest(store: ProfileStore) -> None:
    with pytest.raises(DataError, match="closest ids") as e:
        store.lookup("C0000042")
    assert "C00000042" in str(e.value).split("closest ids:")[1].split(",")[0]
    assert e.value.column == "customer_id"


def test_customer_360_card_escapes(world, store: ProfileStore) -> None:
    from cxlib.analysis.customers import customer_360

    p = customer_360(world, "C00000003", store=store)
    p.summary["last_comment"] = "<script>alert(1)</script>"
    html = p.card_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert p.summary["n_orders"] == int((world.orders["customer_id"] == "C00000003").sum())


def _orders() -> pd.DataFrame:
    return pd.DataFrame({"order_id": ["O1", "O2"], "customer_id": ["C1", "C2"],
                         "date": pd.to_datetime(["2025-01-02", "2025-01-03"]),
                         "revenue": [10.0, 20.0], "cost": [5.0, 5.0],
                         "delivered_date": pd.to_datetime(["2025-01-04", "2025-01-01"])})


def test_delivered_before_ordered_is_an_error() -> None:
    with pytest.raises(DataError, match="delivered_date on or after date") as e:
        validate(_orders(), "orders", path="orders.csv")
    assert "row 1" in str(e.value) and "orders.csv" in str(e.value)


def test_negative_amounts_are_errors() -> None:
    with pytest.raises(DataError, match="revenue"):
        validate(_orders().assign(revenue=[-1.0, 20.0], delivered_date=pd.NaT), "orders")
    pay = pd.DataFrame({"payment_id": ["P1"], "order_id": ["O1"], "customer_id": ["C1"],
                        "method": ["card"], "amount": [-3.0],
                        "due_date": pd.to_datetime(["2025-01-01"]), "paid_date": [pd.NaT]})
    with pytest.raises(DataError, match="amount"):
        validate(pay, "payments", path="payments.csv")


def test_references_orders_of_unknown_customers_and_orphan_payments() -> None:
    cust = pd.DataFrame({"customer_id": ["C1"]})
    orders = _orders()
    with pytest.raises(DataError, match="customer not in customers") as e:
        check_references({"customers": cust, "orders": orders}, paths={"orders": "o.csv"})
    assert e.value.path == "o.csv" and "C2" in str(e.value)
    pay = pd.DataFrame({"payment_id": ["P1"], "order_id": ["O9"], "customer_id": ["C1"]})
    with pytest.raises(DataError, match="order not in orders") as e:
        check_references({"customers": cust, "orders": orders.head(1), "payments": pay})
    assert e.value.column == "order_id"


def test_world_references_hold(world) -> None:
    check_references({t: world.table(t) for t in ("customers", "orders", "contacts",
                                                   "payments")})
