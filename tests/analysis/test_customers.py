"""The customer card (cxlib.analysis.customers) in the notebook's language (issue 15).

References, independent of cxlib: numbers, percents and dates are Babel's
(``format_decimal``, ``format_percent``, ``format_date`` in tr_TR, az_AZ and en,
i.e. CLDR's marks); labels and words are the message catalog's entries read from
the YAML file itself; the card is read back with BeautifulSoup (what a browser shows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from bs4 import BeautifulSoup

from cxlib.analysis.customers import Profile, customer_360
from cxlib.errors import ParameterError

MESSAGES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cxlib" / "locales"
                           / "messages.yml").read_text(encoding="utf-8"))
LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}


def profile(language: str = "en") -> Profile:
    summary = {
        "customer_id": "C00000042", "name": "<b>Ayşe</b> Yılmaz", "segment": "affluent",
        "customer_type": "trade", "region": "Istanbul", "specialist_id": "S007",
        "n_orders": 1234, "revenue": 2018.5, "last_purchase": "2025-03-14",
        "last_channel": "online", "top_channel": "online", "open_orders": 2,
        "n_payments": 1500, "payment_method": "transfer", "late_payments": 3,
        "overdue_amount": 1250.25, "n_contacts": 1100, "complaints": 7, "n_answers": 4,
        "last_comment": "<script>alert(1)</script> & more", "churn_probability": 0.256,
        "expected_value": 31415.9, "horizon_weeks": 52.0,
    }
    orders = pd.DataFrame({"date": pd.to_datetime(["2025-03-14"]), "status": ["shipped"],
                           "revenue": [2018.5]})
    contacts = pd.DataFrame({"date": pd.to_datetime(["2025-02-01"]), "channel": ["phone"],
                             "direction": ["inbound"], "complaint": [True]})
    responses = pd.DataFrame({"date": pd.to_datetime(["2025-01-10"]),
                              "touchpoint_id": ["website"], "metric": ["csat"], "score": [4.5]})
    return Profile("C00000042", summary, {"orders": orders, "contacts": contacts,
                                          "responses": responses}, language=language)


def card_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ")


@pytest.mark.parametrize("lang", ["tr", "az"])
def test_card_labels_numbers_and_dates_in_the_language(lang):
    html = profile(lang).card_html()
    text = card_text(html)
    loc = LOCALES[lang]
    # numbers with the language's marks (tr/az: 2.018,50), never the English ones
    assert format_decimal(2018.5, format="#,##0.00", locale=loc) in text
    assert "2.018,50" in text and "2,018.50" not in text
    assert format_decimal(1234, locale=loc) in text  # orders: 1.234
    assert format_decimal(31415.9, format="#,##0.00", locale=loc) in text
    assert format_percent(0.256, locale=loc) in text  # churn risk: tr %26
    assert format_date(dt.date(2025, 3, 14), format="long", locale=loc) in text
    # labels and words from the catalog
    for key in ("card_orders", "card_last_purchase", "card_churn_risk", "card_expected_value",
                "card_date", "card_kind_order", "card_kind_complaint"):
        assert MESSAGES[key][lang] in text, key
    for key in ("v_segment_affluent", "v_customer_type_trade", "v_method_transfer",
                "v_channel_online", "v_status_shipped", "v_direction_inbound"):
        assert MESSAGES[key][lang] in text, key
    assert MESSAGES["card_orders"]["en"] != MESSAGES["card_orders"][lang]
    assert ">orders<" not in html and "churn risk" not in text
    assert f'lang="{lang}"' in html


def test_english_card_keeps_english_marks_and_words():
    text = card_text(profile().card_html())
    assert "2,018.50" in text and "1,234" in text and "churn risk" in text
    assert "26%" in text and "March 14, 2025" in text
    # the language can also be asked of an English profile, per call
    assert "2.018,50" in card_text(profile().card_html(language="tr"))


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_customer_text_is_escaped_in_every_language(lang):
    html = profile(lang).card_html()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("b") is None  # text never becomes markup
    assert "&lt;script&gt;" in html and "&lt;b&gt;Ayşe&lt;/b&gt;" in html
    assert "<script>alert(1)</script> & more" in soup.get_text()  # shown as written
    assert 'data-cx-personal="customer-card"' in html  # masking still finds the card


def test_timeline_in_the_language_and_missing_model_values():
    p = profile("tr")
    t = p.timeline()
    assert list(t.columns) == ["date", "kind", "detail"]
    assert t["kind"].tolist() == [MESSAGES[k]["tr"] for k in
                                  ("card_kind_order", "card_kind_complaint", "card_kind_answer")]
    assert t["detail"].iloc[0] == MESSAGES["v_status_shipped"]["tr"] + " 2.018,50"
    assert t["detail"].iloc[2] == "website csat = " + format_decimal(4.5, locale="tr_TR")
    p.summary |= {"churn_probability": np.nan, "expected_value": np.nan}
    text = card_text(p.card_html())
    assert "nan" not in text.lower() and MESSAGES["n/a"]["tr"] in text


def test_unknown_language_is_refused():
    with pytest.raises(ParameterError, match="language"):
        profile("de")
    with pytest.raises(ParameterError, match="language"):
        profile().card_html(language="fr")
    with pytest.raises(ParameterError, match="language"):
        customer_360(None, "C1", language="de")  # refused before any data is read


def test_card_amounts_carry_the_dataset_currency(tmp_path):
    """Issue 15: "2.270,48 gelir" named no currency. The currency is the world's planted
    truth (truth.json, as the manager brief reads it), written after every amount."""
    import json

    p = profile("tr")
    p.currency = "AZN"
    text = card_text(p.card_html())
    for amount in ("2.018,50", "1.250,25", "31.415,90"):  # revenue, overdue, expected value
        assert f"{amount}\u00a0AZN" in text, amount
    assert "2.018,50\u00a0AZN gelir" in text
    assert "%26" in text and "%26\u00a0AZN" not in text  # a share is not money
    assert "AZN" not in card_text(profile("tr").card_html())  # unknown: amounts as they were

    class Store:  # the profile store's answer for one customer (cxlib.data.profiles)
        def lookup(self, cid):
            return {"customers": pd.DataFrame({"customer_id": [cid], "name": ["A B"]}),
                    "orders": pd.DataFrame({"date": pd.to_datetime(["2025-01-02"]),
                                            "revenue": [10.0]})}

    (tmp_path / "truth.json").write_text(json.dumps({"currency": "TRY"}), encoding="utf-8")
    assert customer_360(tmp_path, "C1", store=Store()).currency == "TRY"
    assert customer_360(tmp_path, "C1", store=Store(), currency="EUR").currency == "EUR"
    assert customer_360(tmp_path / "none", "C1", store=Store()).currency is None
    assert "10,00\u00a0TRY" in card_text(customer_360(tmp_path, "C1", store=Store(),
                                                      language="tr").card_html())
