"""Every notebook's brief and the index, rendered in Turkish and Azerbaijani, say
nothing in English: no message looked up without a translation (messages.yml,
phrases.yml) and no English catalog text on the page.

Break it on purpose: drop the ``tr`` of a message a brief uses (``s_nps``) and
the test fails naming it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from cxlib import i18n
from cxlib.share import render

from .conftest import NOTEBOOKS

LOCALES = Path(i18n.__file__).parent / "locales"


def _english_fragments(lang: str) -> list[str]:
    """English texts of the catalogs that differ from their ``lang`` translation:
    the pieces between placeholders, of two words and ten characters or more."""
    out = set()
    messages = yaml.safe_load((LOCALES / "messages.yml").read_text(encoding="utf-8"))
    phrases = yaml.safe_load((LOCALES / "phrases.yml").read_text(encoding="utf-8"))
    pairs = [(v["en"], v.get(lang, "")) for v in messages.values()]
    pairs += [(str(k), v.get(lang, "")) for k, v in phrases.items()]
    for en, other in pairs:
        for piece in re.split(r"\{\w*\}", en):
            piece = piece.strip(" .,:;()[]")
            if len(piece) >= 10 and " " in piece and piece not in other:
                out.add(piece)
    return sorted(out)


@pytest.mark.parametrize("lang", ["tr", "az"])
def test_briefs_and_index_are_fully_translated(real_run, tmp_path, lang):
    run = tmp_path / real_run.name
    shutil.copytree(real_run, run, ignore=shutil.ignore_patterns("*.html", "*.pdf", "*.zip",
                                                                  "*.xlsx"))
    i18n.reset_untranslated()
    pages = []
    for nb in sorted(run.glob("*.ipynb")):
        pages.append(render.render_notebook(nb, language=lang)["manager"])
    pages.append(render.build_index(run, language=lang, exports=False))
    assert {p.name.split("--")[0] for p in pages[:-1]} == set(NOTEBOOKS)
    missing = sorted(m for m in i18n.untranslated() if m[2] == lang)
    assert not missing, missing
    english = _english_fragments(lang)
    assert len(english) > 100  # the check has something to find
    for page in pages:
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        text = re.sub(r"\s+", " ", text)
        found = [e for e in english if e in text]
        assert not found, (page.name, found[:5])


def test_the_check_fails_on_an_untranslated_message(monkeypatch):
    messages = dict(i18n._messages())
    messages["s_nps"] = {k: v for k, v in messages["s_nps"].items() if k != "tr"}
    monkeypatch.setattr(i18n, "_messages", lambda: messages)
    i18n.reset_untranslated()
    assert i18n.t("s_nps", "tr") == messages["s_nps"]["en"]  # falls back to English ...
    assert ("message", "s_nps", "tr") in i18n.untranslated()  # ... and is recorded
    i18n.reset_untranslated()
    i18n.phrase("a method nobody translated", "az")
    assert ("phrase", "a method nobody translated", "az") in i18n.untranslated()
