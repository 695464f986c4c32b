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
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

import yaml

from cxlib.errors import CxError

__all__ = ["LANGUAGES", "format_date", "format_number", "format_percent", "format_signed",
           "lower", "phrase", "t", "title", "upper"]

LANGUAGES = ("en", "tr", "az")
LOCALES = {"en": "en", "tr": "tr_TR", "az": "az_AZ"}
_DOTTED = ("tr", "az")


def _check(lang: str) -> str:
    if lang not in LANGUAGES:
        raise CxError(f"language must be one of {LANGUAGES}, not {lang!r}")
    return lang


@lru_cache(maxsize=1)
def _messages() -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "locales" / "messages.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def t(key: str, lang: str = "en") -> str:
    """The label ``key`` in ``lang`` (falls back to English, then to the key)."""
    entry = _messages().get(key)
    if entry is None:
        return key
    return entry.get(_check(lang)) or entry.get("en") or key


def has(key: str) -> bool:
    """Whether ``key`` is a label of ``messages.yml``."""
    return key in _messages()


@lru_cache(maxsize=1)
def _phrases() -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "locales" / "phrases.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k).casefold(): v for k, v in raw.items()}


_PIECES = re.compile(r"(\s*[():;,]\s*|\s+[x×=]\s+)")


def phrase(text: str, lang: str = "en") -> str:
    """An English phrase from cxlib in ``lang``: whole, else piece by piece.

    Pieces are split at brackets, colons, semicolons and commas; a piece not
    in ``phrases.yml`` stays as it is (English, a reference, a number).
    """
    if _check(lang) == "en" or not text:
        return text
    whole = _phrases().get(text.strip().casefold())
    if whole and whole.get(lang):
        return whole[lang]
    parts = _PIECES.split(text)
    out = []
    for part in parts:
        entry = _phrases().get(part.strip().casefold()) if part.strip() else None
        out.append(entry[lang] if entry and entry.get(lang) else part)
    return "".join(out)


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


def format_signed(x: float, lang: str = "en", digits: int = 2, *, trim: bool = False) -> str:
    """A change with its sign: ``+1,5`` or ``−0,25`` (a true minus sign), and
    ``0`` when it rounds to zero (never ``-0,00``)."""
    r = round(float(x), digits)
    if r == 0:
        return format_number(0, lang, digits=0)
    return ("+" if r > 0 else "\u2212") + format_number(abs(r), lang, digits=digits, trim=trim)


def format_percent(x: float, lang: str = "en") -> str:
    """A share (0.256) as the locale's percent, in its own pattern (26%, tr: %26)."""
    from babel.numbers import format_percent as fp

    return fp(x, locale=LOCALES[_check(lang)])


def format_date(d: dt.date | str, lang: str = "en") -> str:
    """A date in the locale's long form (14 Mart 2025)."""
    from babel.dates import format_date as fd

    if isinstance(d, str):
        d = dt.date.fromisoformat(d[:10])
    return fd(d, format="long", locale=LOCALES[_check(lang)])
