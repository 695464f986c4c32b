"""The methods appendix of a report, and the templates every shared page uses.

The appendix is generated from the ``methods`` cxlib recorded in a notebook's
results file (:func:`cxlib.methods.note_method`): grouped by step and method,
with what the entries have in common said once and what tells them apart
(outcome, level, n...) listed per use. Steps, methods and detail keys are
translated through ``phrases.yml``; values through :func:`detail`. Entries that
say nothing to a reader (empty lists, internal keys such as ``by: []``) are
left out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.share import formats

__all__ = ["TEMPLATES", "appendix_groups", "appendix_html", "detail", "env"]

TEMPLATES = Path(__file__).parent / "templates"


def env(lang: str) -> Any:
    """A Jinja environment over ``templates/`` with ``t`` and ``upper`` for ``lang``."""
    import jinja2

    e = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    e.globals.update(t=lambda k: i18n.t(k, lang), upper=lambda s: i18n.upper(s, lang),
                     lang=lang)
    return e


def detail(v: Any, lang: str) -> str:
    """A recorded detail for people: numbers by Babel, words and phrases translated."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return i18n.t("yes" if v else "no", lang)
    if isinstance(v, int):
        return i18n.format_number(v, lang, digits=0)
    if isinstance(v, float):
        if not math.isfinite(v):
            return formats.MISSING
        a = abs(v)
        digits = 0 if a == 0 or (a >= 1 and v.is_integer()) else (
            1 if a >= 10 else (3 if a >= 0.001 else min(8, 1 - math.floor(math.log10(a)))))
        return i18n.format_number(v, lang, digits=digits, trim=True)
    if isinstance(v, list | tuple):
        return "[" + "; ".join(detail(x, lang) for x in v) + "]"
    if isinstance(v, dict):
        return "; ".join(f"{i18n.phrase(str(k), lang)}: {detail(x, lang)}"
                         for k, x in v.items())
    s = str(v)
    return i18n.t(s, lang) if i18n.has(s) else i18n.phrase(s, lang)


def _says_something(v: Any) -> bool:
    return v is not None and v != [] and v != {} and v != ""


def appendix_groups(methods: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Methods grouped by step and method: shared details once, the rest per use."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in methods:
        key = (str(m.get("step", "")), str(m.get("method", "")))
        details = {k: v for k, v in m.items()
                   if k not in ("step", "method") and _says_something(v)}
        if details not in groups.setdefault(key, []):
            groups[key].append(details)
    out = []
    for (step, method), uses in groups.items():
        keys = list(dict.fromkeys(k for u in uses for k in u))
        common = [k for k in keys if all(k in u and u[k] == uses[0][k] for u in uses)]
        varying = [k for k in keys if k not in common]
        out.append({
            "step": i18n.phrase(step, lang), "method": i18n.phrase(method, lang),
            "common": [(i18n.phrase(k, lang), detail(uses[0][k], lang)) for k in common],
            "variants": [[(i18n.phrase(k, lang), detail(u[k], lang))
                          for k in varying if k in u]
                         for u in uses] if len(uses) > 1 else [],
        })
    return out


def appendix_html(results: dict[str, Any] | None, lang: str, note: str | None = None) -> str:
    """The appendix section (HTML) of a results file's methods, with a privacy note."""
    groups = appendix_groups((results or {}).get("methods", []), lang)
    return env(lang).get_template("appendix.html.j2").render(groups=groups, privacy_note=note)
