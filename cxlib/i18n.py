"""English, Turkish and Azerbaijani: labels, numbers, dates and correct casing.

``t(key, lang)`` looks a report label up in ``cxlib/locales/messages.yml``;
:func:`phrase` translates the English phrases cxlib writes into results files
(method steps and names, units, detail keys: ``cxlib/locales/phrases.yml``),
piece by piece around brackets, colons and commas, keeping what it does not
know in English; numbers and dates are formatted by Babel with the language's
locale (``tr_TR``: 12.345,68 and %26; ``az_AZ``: 12.345,68); :func:`upper`,
:func:`lower` and :func:`title` apply the Turkish and Azerbaijani dotted and
dotless i (i ↔ İ, ı ↔ I), which Python's ``str.upper`` gets wrong
("istanbul".upper() gives "ISTANBUL", Turkish wants "İSTANBUL").

The catalog is YAML rather than gettext ``.po`` files: one line per message
holds all three languages side by side, so a missing translation shows in
review, analysts adding a notebook need no compile step, and what ``msgfmt
--check`` would catch is caught by the test that renders every notebook's
brief in tr and az: every look-up without a translation is recorded
(:func:`untranslated`). Babel still does what gettext cannot: numbers,
percentages, currency and dates by locale.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from pathlib import Path

import yaml

from cxlib.errors import CxError, ParameterError
from cxlib.io import yaml_loader

__all__ = ["LANGUAGES", "check_language", "format_date", "format_number", "format_percent",
           "format_signed", "format_significant", "has", "lower", "minus_sign", "phrase",
           "reset_untranslated", "t", "title", "untranslated", "upper"]

LANGUAGES = ("en", "tr", "az")
LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}
_DOTTED = ("tr", "az")


def check_language(language: str, *, source: str | None = None) -> str:
    """``language`` when it is one of :data:`LANGUAGES`; else a
    :class:`~cxlib.errors.ParameterError` naming them (for a function's ``language=``).

    Examples
    --------
    >>> check_language("az")
    'az'
    """
    if language not in LANGUAGES:
        raise ParameterError([f"language={language!r}: use one of {', '.join(LANGUAGES)}"],
                             source=source)
    return language


def _check(lang: str) -> str:
    if lang not in LANGUAGES:
        raise CxError(f"language must be one of {LANGUAGES}, not {lang!r}")
    return lang


@lru_cache(maxsize=1)
def _messages() -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "locales" / "messages.yml"
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml_loader())


#: (kind, text, language) looked up without a translation since the last
#: :func:`reset_untranslated` (kind "message": a key of messages.yml, "phrase": a
#: piece of an English phrase that phrases.yml lacks).
_UNTRANSLATED: set[tuple[str, str, str]] = set()


def untranslated() -> set[tuple[str, str, str]]:
    """What was looked up in tr/az without a translation (a copy)."""
    return set(_UNTRANSLATED)


def reset_untranslated() -> None:
    """Forget the record of untranslated look-ups (tests)."""
    _UNTRANSLATED.clear()


def t(key: str, lang: str = "en") -> str:
    """The label ``key`` in ``lang`` (falls back to English, then to the key)."""
    entry = _messages().get(key)
    if entry is None:
        _UNTRANSLATED.add(("message", key, _check(lang)))
        return key
    if not entry.get(_check(lang)):
        _UNTRANSLATED.add(("message", key, lang))
    return entry.get(lang) or entry.get("en") or key


def has(key: str) -> bool:
    """Whether ``key`` is a label of ``messages.yml``."""
    return key in _messages()


@lru_cache(maxsize=1)
def _phrases() -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "locales" / "phrases.yml"
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml_loader()) or {}
    return {str(k).casefold(): v for k, v in raw.items()}


_PIECES = re.compile(r"(\s*[():;,]\s*|\s+[x×=]\s+)")


def phrase(text: str, lang: str = "en") -> str:
    """An English phrase from cxlib in ``lang``: whole, else piece by piece.

    Pieces are split at brackets, colons, semicolons and commas; a piece not
    in ``phrases.yml`` stays as it is (English, a reference, a number).
    """
    if _check(lang) == "en" or not text:
        return text
    whole = _lookup(text, lang)
    if whole is not None:
        return whole
    parts = _PIECES.split(text)
    out = []
    for part in parts:
        found = _lookup(part, lang) if part.strip() else None
        if found is not None:
            out.append(part[:len(part) - len(part.lstrip())] + found
                       + part[len(part.rstrip()):])
            continue
        if _WORDS.search(part) and not _KEPT.search(part):
            _UNTRANSLATED.add(("phrase", part.strip(), lang))
        out.append(part)
    return "".join(out)


#: A piece with an English word in it (three letters or more) ...
_WORDS = re.compile(r"[A-Za-z]{3,}")
#: ... that is not a reference, a formula or a name kept as it is (a year or an
#: "et al." marks a reference: "Benjamini & Hochberg (1995)").
_KEPT = re.compile(r"\b(1[89]|20)\d\d\b|et al\.|&")


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _lookup(text: str, lang: str) -> str | None:
    """``text`` in ``lang`` from phrases.yml: exactly, else with its numbers as ``{n}``
    (``"seed {n}"`` translates ``"seed 1"``; the numbers are put back in order)."""
    key = text.strip().casefold()
    entry = _phrases().get(key)
    if entry and entry.get(lang):
        return entry[lang]
    numbers = _NUMBER.findall(key)
    if not numbers:
        return None
    entry = _phrases().get(_NUMBER.sub("{n}", key))
    if not entry or not entry.get(lang):
        return None
    it = iter(numbers)
    return re.sub(r"\{n\}", lambda _: next(it, "?"), entry[lang])


def upper(s: str, lang: str = "en") -> str:
    """Upper case with Turkish/Azerbaijani i → İ and ı → I."""
    if _check(lang) in _DOTTED:
        s = s.replace("i", "İ").replace("ı", "I")
    return s.upper()


def lower(s: str, lang: str = "en") -> str:
    """Lower case with Turkish/Azerbaijani I → ı and İ → i."""
    if _check(lang) in _DOTTED:
        s = s.replace("I", "ı").replace("İ", "i")
    return s.lower()


def title(s: str, lang: str = "en") -> str:
    """Title case word by word, with the language's i rules."""
    return " ".join(upper(w[:1], lang) + lower(w[1:], lang) if w else w for w in s.split(" "))


def format_number(x: float, lang: str = "en", digits: int = 2, *, trim: bool = False) -> str:
    """A number with the locale's grouping and decimal marks (``trim``: without
    trailing zeros of the decimals)."""
    from babel.numbers import format_decimal

    fmt = "#,##0" + ("." + ("#" if trim else "0") * digits if digits > 0 else "")
    return format_decimal(x, format=fmt, locale=LOCALES[_check(lang)])


def minus_sign(lang: str = "en") -> str:
    """The locale's minus sign (CLDR, by Babel), the one its negative numbers carry.

    Every negative figure and signed change uses it, so a page never mixes two
    minus characters (``-5,0`` next to ``−%9,4``).

    Examples
    --------
    >>> minus_sign("tr") == format_number(-1, "tr", digits=0)[0]
    True
    """
    from babel.numbers import get_minus_sign_symbol

    return get_minus_sign_symbol(LOCALES[_check(lang)])


def format_signed(x: float, lang: str = "en", digits: int = 2, *, trim: bool = False) -> str:
    """A change with its sign: ``+1,5`` or ``-0,25`` (the locale's minus,
    :func:`minus_sign`), and ``0`` when it rounds to zero (never ``-0,00``)."""
    r = round(float(x), digits)
    if r == 0:
        return format_number(0, lang, digits=0)
    return ("+" if r > 0 else minus_sign(lang)) + format_number(abs(r), lang, digits=digits,
                                                               trim=trim)


def format_percent(x: float, lang: str = "en", digits: int | None = None, *,
                   trim: bool = False) -> str:
    """A share (0.256) as the locale's percent, in its own pattern (26%, tr: %26);
    ``digits``: that many decimals; ``trim``: the decimals the value has, no more
    (0.025 -> 2.5%, not 2% or 3%: the ticks of a share axis).

    Examples
    --------
    >>> format_percent(0.139, "tr", 1), format_percent(0.139, "az", 1), format_percent(0.25)
    ('%13,9', '13,9%', '25%')
    >>> format_percent(0.025, "az", trim=True)
    '2,5%'
    """
    from babel import Locale
    from babel.numbers import format_percent as fp

    loc = LOCALES[_check(lang)]
    if trim:
        return fp(x, locale=loc, decimal_quantization=False)
    if digits is None:
        return fp(x, locale=loc)
    pattern = Locale.parse(loc).percent_formats[None].pattern
    decimals = "." + "0" * digits if digits else ""
    return fp(x, format=pattern.replace("#,##0", "#,##0" + decimals, 1), locale=loc)


def format_significant(x: float, lang: str = "en", sig: int = 4) -> str:
    """About ``sig`` significant digits (like ``:.4g``, but never in exponent form),
    with the locale's marks and no trailing zeros.

    Examples
    --------
    >>> format_significant(0.0123456, "tr"), format_significant(123456.7, "en")
    ('0,01235', '123,457')
    """
    a = abs(x)
    digits = 0 if a == 0 else max(0, min(8, sig - 1 - math.floor(math.log10(a))))
    return format_number(x, lang, digits=digits, trim=True)


def format_date(d: dt.date | str, lang: str = "en") -> str:
    """A date in the locale's long form (14 Mart 2025)."""
    from babel.dates import format_date as fd

    if isinstance(d, str):
        d = dt.date.fromisoformat(d[:10])
    return fd(d, format="long", locale=LOCALES[_check(lang)])
