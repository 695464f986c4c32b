"""The brief names an innovation in its reader's language and says what notebook 04's
public-data panels are (issue 15).

References: the innovation's names are the ones the synthetic world's truth.json
carries (written here by hand, as the generator writes them); the sentences on the
public data are the catalog's (messages.yml ``real_bank_note``/``real_telecom_note``),
and what must be in them (the dataset's name, "not your data") is checked in words
a reader can verify against the shared data's README.
"""

from __future__ import annotations

import pytest

from cxlib import i18n
from cxlib.share.brief import build_brief

ATT = {"key": "att", "label": "Effect of Self-service kiosks on margin per unit-period",
       "value": 2018.0, "ci_low": 1727.0, "ci_high": 2310.0, "n": 20,
       "unit": "per unit-period"}
TRUTH = {"innovations": {"self_service_kiosk": {
    "name": "Self-service kiosks", "name_tr": "Self servis kiosklar",
    "name_az": "Özünəxidmət kioskları"}}}
PARAMS = {"innovation_id": "self_service_kiosk", "outcome": "margin"}


def innovation_results(**att) -> dict:
    return {"notebook": "03_service_innovation_margin", "parameters": PARAMS,
            "headlines": [{**ATT, **att}], "methods": []}


def brief_text(b) -> str:
    return " ".join(b.findings + [t["label"] for t in b.tiles])


@pytest.mark.parametrize("lang", ["tr", "az"])
def test_innovation_is_named_in_the_language_of_the_brief(lang: str) -> None:
    b = build_brief(innovation_results(), notebook="03_service_innovation_margin",
                    language=lang, truth=TRUTH)
    text = brief_text(b)
    assert TRUTH["innovations"]["self_service_kiosk"][f"name_{lang}"] in text
    assert "Self-service kiosks" not in text


def test_recorded_names_win_and_one_name_is_kept_everywhere() -> None:
    names = {"en": "Kiosks", "tr": "Kiosk (kayıtlı)", "az": "Kiosk (qeydə alınmış)"}
    b = build_brief(innovation_results(names=names), notebook="03_service_innovation_margin",
                    language="tr", truth=TRUTH)
    assert "Kiosk (kayıtlı)" in brief_text(b)
    # user data: no truth.json, no names recorded -> the plain name from the label
    for lang in ("en", "tr", "az"):
        b = build_brief(innovation_results(), notebook="03_service_innovation_margin",
                        language=lang)
        assert "Self-service kiosks" in brief_text(b)


def care_results(*pairs: tuple[str, str]) -> dict:
    methods = [{"step": "observed outcome by dose level",
                "method": "cross-tabulation; Wilson interval", "dose": d, "outcome": o}
               for d, o in pairs]
    return {"notebook": "04_care_vs_nuisance", "parameters": {}, "headlines": [],
            "methods": methods}


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_public_data_panels_are_said_to_be_an_outside_check(lang: str) -> None:
    b = build_brief(care_results(("contacts", "subscribed"), ("service_calls", "churned")),
                    notebook="04_care_vs_nuisance", language=lang)
    bank, telecom = i18n.t("real_bank_note", lang), i18n.t("real_telecom_note", lang)
    assert b.figure_notes == [bank, telecom]  # under the figures: findings stay short
    assert bank not in b.findings
    assert "UCI Bank Marketing" in bank  # which public dataset (the README's name)
    assert bank != i18n.t("real_bank_note", "en") or lang == "en"  # translated
    not_yours = {"en": "not your data", "tr": "sizin verileriniz değil",
                 "az": "sizin məlumatlarınız deyil"}[lang]
    assert not_yours in bank and not_yours in telecom
    assert bank.count(".") == 1 and telecom.count(".") == 1  # one sentence each


def test_only_the_panels_drawn_are_explained() -> None:
    b = build_brief(care_results(("service_calls", "churned"), ("service_calls", "churned")),
                    notebook="04_care_vs_nuisance", language="en")
    assert b.figure_notes == [i18n.t("real_telecom_note", "en")]  # once, no bank sentence
    # the client's own dose table (proactive contacts, retention) is not an outside check
    b = build_brief(care_results(("proactive_per_month", "retained")),
                    notebook="04_care_vs_nuisance", language="en")
    assert b.figure_notes == []
