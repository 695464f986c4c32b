"""The 360 card is personal data: a shared manager page never shows it unmasked."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
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


def _card_page(language: str = "tr", name: str = "<h1>Murad</h1> Rzayev") -> str:
    """Notebook 05's last output, the card, as nbconvert exports it (tests/share/test_privacy)."""
    import nbformat
    from nbconvert import HTMLExporter

    from cxlib.analysis.customers import Profile

    summary = {"customer_id": "C00000001", "name": name, "segment": "regular",
               "region": "Baku", "n_orders": 12, "revenue": 2270.48,
               "last_comment": "<b>slow</b> delivery", "churn_probability": 0.2,
               "expected_value": 596.61, "horizon_weeks": 52.0}
    orders = pd.DataFrame({"date": pd.to_datetime(["2025-03-14"]), "status": ["shipped"],
                           "revenue": [2270.48]})
    card = Profile("C00000001", summary, {"orders": orders}, language=language, currency="AZN")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("card", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/html": card._repr_html_(), "text/plain": repr(card)}, execution_count=1)]
    nb.cells = [cell]
    body, _ = HTMLExporter(template_name="lab", embed_images=True).from_notebook_node(nb)
    return body


@pytest.mark.parametrize("mask", [False, True])
def test_card_renders_as_a_card_in_the_sanitised_page(mask) -> None:
    """Issue 15: the analysts' page showed the card as raw markup, because the sanitiser
    keeps only table structure of a notebook's HTML output. The card is that structure
    now: its heading is a <caption>, its labels <th>, its values escaped text. Read back
    with BeautifulSoup (what a browser shows); customer text stays text."""
    from cxlib.share.mask import PersonalValues
    from cxlib.share.sanitize import sanitize_html

    values = PersonalValues.from_values(["C00000001", "<h1>Murad</h1> Rzayev", "Murad",
                                         "Rzayev"])
    soup = BeautifulSoup(sanitize_html(_card_page(), values=values, mask=mask), "html.parser")
    text = soup.body.get_text(" ")
    assert "<table" not in text and "<caption" not in text and "<th" not in text  # not raw
    [card] = soup.find_all("table", class_="cx-card")
    heads = [th.get_text() for th in card.find_all("th")]
    assert "siparişler" in heads and "beklenen değer" in heads  # tr labels, as headings
    caption = card.caption.get_text()
    assert ("C00000001" in caption) is not mask  # the id heads the card, masked for managers
    assert not soup.find("h1") and not soup.find("b")  # a name or comment never becomes markup
    if not mask:
        assert "<h1>Murad</h1> Rzayev" in caption and "<b>slow</b> delivery" in text
    # money with the dataset's currency, kept with its amount (a non-breaking space)
    assert "2.270,48\u00a0AZN gelir" in text and "596,61\u00a0AZN" in text
    assert soup.find("table", class_="cx-card-timeline").find("th") is not None
