"""Personal data out of shared reports, and HTML that cannot run code.

* :func:`mask_frame` replaces personal columns (those the data contracts mark
  ``{"personal": True}``: customer ids, names, e-mails, phones) with stable
  pseudonyms, so a table still joins but names nobody.
* :func:`mask_html` does the same inside rendered HTML: cells of table columns
  whose header is personal (parsed with an HTML parser, not regular
  expressions), and, as a second line of defence, e-mail addresses and phone
  numbers anywhere in the text.
* :func:`sanitize_html` removes everything executable from a page: script,
  iframe, object and embed elements, ``on*`` event attributes and
  ``javascript:`` links. Reports need no JavaScript.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from cxlib.schemas import personal_columns

__all__ = ["PERSONAL", "mask_frame", "mask_html", "mask_value", "sanitize_html"]

#: Column names treated as personal in any table.
PERSONAL: frozenset[str] = frozenset(personal_columns() | {"customer", "e-mail", "telefon"})
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<![\w.])\+?\d[\d ()-]{7,}\d(?![\w.])")
_SALT = "cx-report"
_DANGEROUS = ("script", "iframe", "object", "embed", "base", "form")


def mask_value(v: object) -> str:
    """Stable pseudonym of a personal value (same input, same mask)."""
    h = hashlib.sha256(f"{_SALT}:{v}".encode()).hexdigest()[:8]
    return f"•••{h}"


def mask_frame(df: pd.DataFrame, columns: set[str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with personal columns pseudonymised."""
    cols = [c for c in df.columns if str(c) in (columns or PERSONAL)]
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: v if pd.isna(v) else mask_value(v))
    return out


def _mask_text(text: str) -> str:
    text = EMAIL_RE.sub(lambda m: mask_value(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_value(m.group(0)), text)


def mask_html(html: str, columns: set[str] | None = None) -> str:
    """Mask personal table columns and e-mail/phone patterns in an HTML fragment."""
    from bs4 import BeautifulSoup, NavigableString

    personal = {c.lower() for c in (columns or PERSONAL)}
    soup = BeautifulSoup(html, "html.parser")
    for table in soup.find_all("table"):
        head_rows = table.find("thead").find_all("tr") if table.find("thead") else []
        idx: set[int] = set()
        for tr in head_rows or table.find_all("tr")[:1]:
            col = 0
            for cell in tr.find_all(["th", "td"]):
                if cell.get_text(strip=True).lower() in personal:
                    idx.add(col)
                col += int(cell.get("colspan", 1))
        if not idx:
            continue
        body = table.find("tbody") or table
        for tr in body.find_all("tr"):
            if tr in head_rows:
                continue
            for i, cell in enumerate(tr.find_all(["th", "td"])):
                if i in idx and cell.name == "td":
                    text = cell.get_text(strip=True)
                    if text and text.lower() not in personal:
                        cell.string = mask_value(text)
    for node in soup.find_all(string=True):
        if isinstance(node, NavigableString) and node.parent.name not in ("style", "script"):
            new = _mask_text(str(node))
            if new != str(node):
                node.replace_with(new)
    return str(soup)


def sanitize_html(html: str) -> str:
    """Remove executable content (scripts, frames, event handlers, javascript: URLs)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DANGEROUS):
        tag.decompose()
    for tag in soup.find_all("meta", attrs={"http-equiv": True}):
        tag.decompose()
    for tag in soup.find_all("link", href=re.compile(r"^\s*(https?:)?//", re.I)):
        tag.decompose()  # nothing is fetched: the page must work offline
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            val = tag.attrs[attr]
            sval = " ".join(val) if isinstance(val, list) else str(val)
            if attr.lower().startswith("on") or (
                attr.lower() in ("href", "src", "action", "formaction")
                and sval.strip().lower().startswith(("javascript:", "vbscript:"))
            ):
                del tag.attrs[attr]
    return str(soup)
