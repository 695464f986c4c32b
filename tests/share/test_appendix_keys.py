"""Every detail key a notebook records reaches the methods appendix in words (issue 15).

The keys come from two independent places: the methods entries the six notebooks
actually recorded on the sample data (``fixtures/recorded_methods.json``, built from
their ``results.json`` files under reports/) and every keyword of a
``note_method(...)`` call in cxlib's source (read with ``ast``, so a key added
to the code later fails here until it has a message). The appendix printed
``n_min`` and ``pretrend_p`` raw in English, and ``by`` raw in Turkish.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import cxlib
from cxlib import i18n
from cxlib.share import appendix as ap

FIXTURE = Path(__file__).parent / "fixtures" / "recorded_methods.json"
#: A snake_case id (``n_min``, ``drop_units``): never words for a manager.
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def recorded() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["methods"]


def source_keys() -> set[str]:
    """Keywords of every ``note_method`` call in cxlib (and keys of literal dicts in them)."""
    keys: set[str] = set()
    for path in Path(cxlib.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(
                    node.func, "attr", getattr(node.func, "id", None)) == "note_method":
                for kw in node.keywords:
                    if kw.arg:
                        keys.add(kw.arg)
                    if kw.arg == "diagnostics" and isinstance(kw.value, ast.Dict):
                        keys |= {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
    return keys


def recorded_keys() -> set[str]:
    keys: set[str] = set()
    for m in recorded():
        keys |= {k for k in m if k not in ("step", "method")}
        keys |= set((m.get("diagnostics") or {}) if isinstance(m.get("diagnostics"), dict)
                    else ())
    return keys


def test_fixture_covers_the_six_notebooks_and_the_reported_keys() -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(data["notebooks"]) == 6
    assert {"n_min", "pretrend_p", "by", "unbalanced"} <= recorded_keys()
    assert recorded_keys() - {"step", "method"} <= source_keys() | recorded_keys()


@pytest.mark.parametrize("key", sorted(source_keys() | recorded_keys()))
def test_every_recorded_key_has_a_message_in_every_language(key: str) -> None:
    assert i18n.has(f"detail_{key}"), f"no message detail_{key} for the appendix"
    for lang in i18n.LANGUAGES:
        text = ap.key_words(key, lang)
        assert text and "_" not in text, (lang, key, text)


@pytest.mark.parametrize("lang", ["en", "tr", "az"])
def test_no_raw_key_or_value_in_the_appendix(lang: str) -> None:
    i18n.reset_untranslated()
    groups = ap.appendix_groups(recorded(), lang)
    rows = [r for g in groups for r in g["common"] + [x for v in g["variants"] for x in v]]
    assert rows
    keys = recorded_keys()
    for label, value in rows:
        assert label not in keys or label == i18n.t(f"detail_{label}", lang), (lang, label)
        assert not SNAKE.search(label), (lang, label)
        assert not SNAKE.search(value), (lang, label, value)
    assert not [u for u in i18n.untranslated() if u[0] == "message"]
    html = re.sub(r"<[^>]+>", " ", ap.appendix_html({"methods": recorded()}, lang))
    assert not SNAKE.search(html), SNAKE.findall(html)[:5]


def test_named_keys_and_values_read_as_words() -> None:
    # the words themselves are the catalog's (messages.yml); here only that they arrive
    assert ap.key_words("pretrend_p", "en") == "pre-trend test p-value"
    assert ap.key_words("n_min", "tr") == i18n.t("detail_n_min", "tr") != "n_min"
    assert ap.key_words("by", "az") == i18n.t("detail_by", "az") != "by"
    assert ap.detail("drop_units", "en", "unbalanced") == i18n.t(
        "detail_unbalanced_drop_units", "en")
    # a dict keyed by columns reads with the columns' labels
    assert ap.detail({"csat_contact": "gaussian"}, "en", "outcomes").startswith(
        i18n.t("col_csat_contact", "en"))
