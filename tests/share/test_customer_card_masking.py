"""The 360 card is personal data: a shared manager page never shows it unmasked."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    from cxlib.data import datasets, synth

    out = tmp_path_factory.mktemp("w") / "world"
    synth.generate(out, size=3_000, seed=5)
    return datasets.load(out)


def test_card_displayed_in_a_notebook_is_masked_in_the_manager_page(world, tmp_path) -> None:
    # the manager brief copies no notebook output but figures; a card displayed in a
    # cell stays out, and one recorded into the results file is masked (ids, names)
    from cxlib.analysis.customers import customer_360
    from cxlib.share.render import render_notebook
    from cxlib.share.results import Results, results_path_for

    cid = "C00000007"
    from cxlib.data.profiles import ProfileStore, build

    store = ProfileStore.load(build(world.folder, out=tmp_path / "store"))
    card = customer_360(world, cid, store=store)
    row = world.customers.set_index("customer_id").loc[cid]
    html = card.card_html()
    assert cid in html and row["name"] in html  # the card itself is personal
    params = new_code_cell(f'dataset = "{world.folder}"', metadata={"tags": ["parameters"]})
    shown = new_code_cell("card", outputs=[new_output(
        "execute_result", data={"text/html": html, "text/plain": repr(card)},
        execution_count=2)], execution_count=2)
    printed = new_code_cell("print(card.summary)", outputs=[new_output(
        "stream", name="stdout", text=f"{card.summary}\n{row['email']} {row['phone']}\n")],
        execution_count=3)
    nb = new_notebook(cells=[params, shown, printed])
    path = tmp_path / "05_customer_360_profitability.ipynb"
    nbformat.write(nb, path)
    out = Results("05_customer_360_profitability", parameters={"dataset": str(world.folder)})
    out.headline("card_customer", cid, label=f"card of {row['name']}")
    out.table("card", pd.DataFrame([card.summary]))
    out.table("orders", card.tables["orders"][["customer_id", "date", "revenue"]])
    out.save(results_path_for(path))
    pages = render_notebook(path, dataset=str(world.folder))
    manager = pages["manager"].read_text(encoding="utf-8")
    assert "Profile(" not in manager and "cx-card" not in manager  # outputs are not copied
    # a notebook that records the card into its results: the table is there, masked
    assert "card of \u2022\u2022\u2022" in manager  # the recorded card is there, pseudonymised
    for value in (cid, row["name"], row["email"], row["phone"]):
        assert value not in manager, value
    # a masked customer name: neither the first nor the last name is left
    first, last = row["name"].split(" ", 1)
    assert f"{first} {last}" not in manager
