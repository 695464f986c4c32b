"""The methods appendix of a report, and the templates every shared page uses.

The appendix is generated from the ``methods`` cxlib recorded in a notebook's
results file (:func:`cxlib.methods.note_method`): grouped by step and method,
with what the entries have in common said once and what tells them apart
(outcome, level, n...) listed per use. Steps and methods are translated through
``phrases.yml``; detail keys by :func:`key_words` (their ``detail_<key>``
message, in every language); values through :func:`detail`. Entries that
say nothing to a reader (empty lists, internal keys such as ``by: []``) are
left out.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

from cxlib import i18n
from cxlib.share import formats

__all__ = ["COLUMN_DETAILS", "TEMPLATES", "appendix_groups", "appendix_html", "column_words",
           "detail", "env", "key_words", "plain", "words"]

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def env(lang: str) -> Any:
    """A Jinja environment over ``templates/`` with ``t`` and ``upper`` for ``lang``.

    One per language and process, so each template is compiled once (a worker
    renders many reports; issue 17). Callers must not change it."""
    import jinja2

    e = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    e.globals.update(t=lambda k: i18n.t(k, lang), upper=lambda s: i18n.upper(s, lang),
                     lang=lang)
    return e


#: Details whose values are column names (``dose: proactive_per_month``): said in words.
COLUMN_DETAILS = frozenset({"by", "controls", "dose", "group", "groups", "compare_by",
                            "unit", "respondent"})


def detail(v: Any, lang: str, key: str | None = None) -> str:
    """A recorded detail for people: numbers by Babel, words and phrases translated.

    Lists read as words (``a, b and c``; empty: "none"); a column name as its
    catalog label (``col_<name>``), and under a :data:`COLUMN_DETAILS` key an
    id without one with spaces for underscores. A value with a message of its
    own under its key (``detail_unbalanced_drop_units``) reads as that message.
    """
    if key and isinstance(v, str) and i18n.has(f"detail_{key}_{v}"):
        return i18n.t(f"detail_{key}_{v}", lang)
    if key in COLUMN_DETAILS:
        if isinstance(v, str) and not i18n.has(v) and (i18n.has(f"col_{v}")
                                                      or _IDENT.fullmatch(v)):
            return column_words(v, lang)
        if isinstance(v, list | tuple):
            return words([detail(x, lang, key) for x in v], lang)
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
        if v and all(formats.is_number(x) for x in v):  # an interval, a grid: numbers
            return "[" + "; ".join(detail(x, lang) for x in v) + "]"
        return words([detail(x, lang) for x in v], lang)
    if isinstance(v, dict):  # outcomes: column names; diagnostics: detail keys
        name = column_words if key in _COLUMN_KEYED else key_words
        return "; ".join(f"{name(str(k), lang)}: {detail(x, lang)}" for k, x in v.items())
    s = str(v)
    if i18n.has(s):
        return i18n.t(s, lang)
    return plain(i18n.phrase(s, lang), lang)


#: Details that are dicts keyed by column names (``outcomes: {retained: binomial}``).
_COLUMN_KEYED = frozenset({"outcomes"})


def key_words(key: str, lang: str) -> str:
    """A recorded detail's key in words: its ``detail_<key>`` message
    (``pretrend_p`` -> "pre-trend test p-value"), else its phrase
    (``phrases.yml``), else the id with spaces for underscores.

    Examples
    --------
    >>> key_words("n_min", "en"), key_words("n_min", "tr")
    ('smallest n', 'en küçük n')
    """
    if i18n.has(f"detail_{key}"):
        return i18n.t(f"detail_{key}", lang)
    text = i18n.phrase(key, lang)
    return column_words(key, lang) if text == key and _IDENT.fullmatch(key) else text


#: A column or code id (``branch_id``, ``proactive_per_month``): shown in words.
_IDENT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
#: A Python list written into a recorded text (``controls ['branch_id']``, ``[]``).
_PY_LIST = re.compile(r"\[((?:'[^'\]]*'(?:,\s*)?)*)\]")


def words(items: list[str], lang: str) -> str:
    """Items as a list in words (``a, b and c`` in the language); none as "none"."""
    from babel.lists import format_list

    items = [x for x in items if x]
    if not items:
        return i18n.t("none", lang)
    return format_list(items, locale=i18n.LOCALES[lang])


def column_words(name: str, lang: str) -> str:
    """A column id in words: its ``col_<name>`` label, else the id with spaces."""
    if i18n.has(f"col_{name}"):
        return i18n.t(f"col_{name}", lang)
    return name.replace("_", " ")


def plain(text: str, lang: str) -> str:
    """A recorded method text with Python lists and short references in words.

    ``controls ['branch_id']`` -> ``controls: Branch``; ``per data, controls []``
    -> ``controls: none``; ``ch. 5`` -> ``chapter 5``.
    """
    text = re.sub(r" per data(?=[,;)]|$)", "", text)
    text = re.sub(r"\bcontrols (?=\[)", "controls: ", text)
    text = _PY_LIST.sub(lambda m: words([column_words(x, lang) for x in
                                        re.findall(r"'([^']*)'", m.group(1))], lang), text)
    return re.sub(r"\bch\. (\d+)", lambda m: i18n.t("chapter", lang).format(n=m.group(1)),
                  text)


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
        variants: list[list[tuple[str, str]]] = []
        for u in uses if len(uses) > 1 else []:
            row = [(key_words(k, lang), detail(u[k], lang, k)) for k in varying if k in u]
            if row not in variants:  # uses that read the same (p 0.2947 twice) once
                variants.append(row)
        shared = [(key_words(k, lang), detail(uses[0][k], lang, k)) for k in common]
        if len(variants) == 1:  # the uses differ in nothing a reader sees
            shared += variants.pop()
        out.append({
            "step": plain(i18n.phrase(step, lang), lang),
            "method": plain(i18n.phrase(method, lang), lang),
            "common": shared, "variants": variants,
        })
    return out


def appendix_html(results: dict[str, Any] | None, lang: str, note: str | None = None) -> str:
    """The appendix section (HTML) of a results file's methods, with a privacy note."""
    groups = appendix_groups((results or {}).get("methods", []), lang)
    return env(lang).get_template("appendix.html.j2").render(groups=groups, privacy_note=note)
