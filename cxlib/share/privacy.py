"""Personal data out of shared reports, and HTML that can neither run code nor fetch.

Masking (the managers' view and the run index)
----------------------------------------------
Three lines, each catching what the one before cannot:

1. **Known values.** :func:`learn_dataset` reads the columns the data contracts
   mark personal (:func:`cxlib.data.schemas.personal_columns`: customer ids, names,
   e-mails, phones) from the run's dataset, and :class:`PersonalValues`
   replaces every occurrence of those values as whole tokens in any text:
   printed frames and Series, ``to_dict()`` reprs, Markdown, HTML, SVG text,
   headline values. Names with spaces match word by word; matching ignores
   case and the dotted/dotless i; phones also match by their digits (last
   nine), whatever the spacing. It is one set lookup per token, linear in the
   text and fast for a million values. Values too ambiguous to mask as free
   text (shorter than 3 characters, or all digits and shorter than 8, such as
   the airline survey's row numbers) are left to lines 2 and 3.
2. **Table structure.** In HTML tables (parsed, with row and column spans laid
   out on a grid): cells under a personal column header, index cells under a
   personal index name (``set_index``/``groupby``, MultiIndex with row spans),
   the rest of a row whose label is personal (transposed tables) and column
   labels beside a personal columns name. Column names are recognised in their
   variants (:func:`is_personal_column`: ``Customer ID``, ``customer_name``,
   ``E-mail``, ``phone_number``...).
3. **Patterns.** E-mail addresses, and phone numbers written as phone numbers:
   international ``+…`` with 10 to 15 digits, or national with a trunk ``0``
   and 10 or 11 digits. ISO dates, decimals, 8-digit seeds and runs of small
   numbers are left alone.

Pseudonyms are stable (``•••`` and eight letters of a keyed hash), so one
customer has one mask in every table and every run. They are keyed with the
environment variable ``CX_MASK_KEY`` when set: without a secret key, anyone
with this code can hash every candidate id (C00000001...) and reverse them.

Figures: PNG pixels cannot be masked, so no cxlib plot labels points with a
personal column (a test reads the plot sources). SVG figures are masked where
their text is text (matplotlib ``svg.fonttype = "none"``); glyphs drawn as
paths cannot be.

Sanitising (both views)
-----------------------
:func:`sanitize_html` rebuilds every page from allow-lists:

* markup that would run or fetch, found in the content (``<script>``, frames,
  forms, ``on*=`` handlers, ``javascript:`` or other non-web links, images
  from anywhere but a ``data:image`` URI, CSS with ``url()``), is not deleted
  but shown as escaped text, since it is nearly always a customer's comment
  that a table (pandas ``Styler`` does not escape), ``display(HTML(...))`` or
  a Markdown cell passed on raw;
* web links become their text followed by the address in brackets; only
  ``#fragment`` and relative links (the index's links to views) stay links;
  URLs are checked after removing control characters and white space, as a
  browser reads them (``java&#x09;script:`` is ``javascript:``);
* inline SVG is cleaned (no script, ``foreignObject``, animation, handlers or
  outside references) and embedded as a ``data:image/svg+xml`` image, in
  which a browser neither runs scripts nor fetches;
* style sheets lose ``@import`` and every ``url()`` that is not a data image;
* finally the body passes nh3 (Ammonia) with an allow-list of tags,
  attributes, style properties and a URL filter, and the page gets a fresh
  ``<head>`` whose Content-Security-Policy forbids scripts and every fetch
  (a second line, not the first: the tests check the sanitiser without it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib.data.schemas import personal_columns
from cxlib.errors import CxError

__all__ = ["PERSONAL", "PersonalValues", "is_personal_column", "learn_dataset", "mask_frame",
           "mask_html", "mask_text", "mask_value", "sanitize_css", "sanitize_html"]

# --------------------------------------------------------------------------- columns

#: Column names (normalised: case-folded, non-alphanumerics as ``_``) treated as
#: personal in any table: the contracts' personal columns plus common variants.
PERSONAL: frozenset[str] = frozenset(personal_columns() | {
    "customer", "client", "client_id", "customer_no", "customer_number", "customerid",
    "e_mail", "email_address", "mail", "telefon", "telephone", "phone_number", "mobile",
    "msisdn", "gsm", "full_name", "first_name", "last_name", "surname", "customer_name",
    "employee_name", "ad", "soyad", "ad_soyad", "adi_soyadi", "müşteri", "müşteri_no",
    "müştəri", "müştəri_id"})
_CONTACT_WORDS = {"email", "mail", "phone", "telephone", "telefon", "mobile", "msisdn"}
_NOT_CONTACT = {"format", "consent", "opt", "domain", "verified", "valid", "count", "n",
                "share", "rate", "pct", "channel", "contacts", "template", "campaign"}
_WHO = {"customer", "client", "employee", "person", "contact", "specialist", "staff",
        "user", "first", "last", "full", "given", "family", "müşteri", "müştəri"}
_NAMEISH = {"name", "names", "surname"}
_IDISH = {"id", "no", "number", "nr", "code", "key", "ref"}
_AMBIGUOUS = {"name", "names"}
_PERSONAL_COMPACT = {p.replace("_", "") for p in PERSONAL}


def _normalise_column(name: Any) -> str:
    if isinstance(name, tuple):  # a MultiIndex column: its levels together
        name = "_".join(str(n) for n in name if str(n).strip())
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name))  # customerId -> customer_Id
    s = _fold(s)
    return re.sub(r"[^\w]+", "_", s).strip("_")


def is_personal_column(name: Any, *, ambiguous: bool = True) -> bool:
    """Whether a column (or index, or row label) name means personal data.

    The contracts' personal columns and variants: ``Customer ID``,
    ``customerId``, ``customer_name``, ``E-mail``, ``phone_number``...;
    ``email_format`` or ``n_email`` are not personal. A bare ``name`` is
    personal in the customers and employees contracts but also names
    touchpoints, stages and innovations: it counts only when ``ambiguous``
    (the renderer passes False once it knows the dataset's personal values,
    which then mask customers' and employees' names wherever they appear).
    """
    n = _normalise_column(name)
    if not n:
        return False
    if n in _AMBIGUOUS:
        return ambiguous
    if n in PERSONAL or n.replace("_", "") in _PERSONAL_COMPACT:
        return True
    words = set(n.split("_"))
    if words & _CONTACT_WORDS and not words & _NOT_CONTACT:
        return True
    if words & _NAMEISH and words & _WHO:
        return True
    return bool(words & _IDISH and words & {"customer", "client", "person", "müşteri",
                                            "müştəri"})


# --------------------------------------------------------------------------- pseudonyms

_SALT = b"cx-report"
_LETTERS = str.maketrans("0123456789abcdef", "bcdfghjkmnpqrstv")


def mask_value(v: object) -> str:
    """Stable pseudonym of a personal value (same input, same mask).

    ``•••`` and eight letters (no digits, so that no later pattern mistakes a
    mask for a number) of an HMAC keyed by ``CX_MASK_KEY`` when set.
    """
    key = os.environ.get("CX_MASK_KEY", "").encode() or _SALT
    h = hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:8]
    return "•••" + h.translate(_LETTERS)


def mask_frame(df: pd.DataFrame, columns: set[str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with personal columns (and a personal index) pseudonymised."""
    pick = (lambda c: str(c) in columns) if columns else is_personal_column
    out = df.copy()
    for c in [c for c in df.columns if pick(c)]:
        out[c] = out[c].map(lambda v: v if pd.isna(v) else mask_value(v))
    if any(n is not None and pick(n) for n in out.index.names):
        if isinstance(out.index, pd.MultiIndex):
            out.index = out.index.set_levels(
                [lv.map(mask_value) if n is not None and pick(n) else lv
                 for lv, n in zip(out.index.levels, out.index.names, strict=True)])
        else:
            out.index = out.index.map(mask_value)
    return out


# --------------------------------------------------------------------------- known values

def _fold(s: str) -> str:
    """Case-fold, ignoring the dotted/dotless i (İ, I, ı, i all become i)."""
    return unicodedata.normalize("NFKC", s).casefold().replace("\u0307", "").replace("ı", "i")


# a token starts with a word character or "+" and ends with a word character
_TOKEN = re.compile(r"[\w+](?:[\w@.+'’\-]*\w)?")
_PHONE_CHARS = re.compile(r"[\d\s+().\-]{9,}")
_NON_DIGIT = re.compile(r"\D")
_GAP = re.compile(r"[ \t\u00a0\u202f]{1,3}")
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?(?:\(\d+\)|\d+)(?:[ .\-\u00a0]?(?:\(\d+\)|\d+))+(?!\w)")


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), _fold(m.group())) for m in _TOKEN.finditer(text)]


def _ambiguous(token: str) -> bool:
    return len(token) < 3 or (token.isdigit() and len(token) < 8)


@dataclass
class PersonalValues:
    """Personal values of one or more datasets, replaced as tokens in any text.

    Build with :func:`learn_dataset` (or :meth:`from_values`); combine with ``|``.
    """

    single: dict[str, str] = field(default_factory=dict)
    multi: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    max_words: int = 1
    sources: list[str] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    skipped: int = 0

    @classmethod
    def from_values(cls, values: Iterable[Any], *, source: str = "",
                    phone: bool = False) -> PersonalValues:
        """Learn values (strings or numbers; missing values are ignored)."""
        out = cls(sources=[source] if source else [])
        out.add(values, phone=phone)
        return out

    def add(self, values: Iterable[Any], *, phone: bool = False) -> None:
        """Learn more values (about a second per million ids, four per million names)."""
        norm = unicodedata.normalize
        for v in values:
            if v is None or (isinstance(v, float) and v != v):
                continue
            s = str(v).strip()
            if not s:
                continue
            f = norm("NFKC", s).casefold()
            if "ı" in f or "\u0307" in f:
                f = f.replace("\u0307", "").replace("ı", "i")
            if phone or _PHONE_CHARS.fullmatch(s):
                digits = _NON_DIGIT.sub("", s)
                if len(digits) >= 9:
                    self.phones[digits[-9:]] = s
            if _TOKEN.fullmatch(f):
                if _ambiguous(f):
                    self.skipped += 1
                else:
                    self.single[f] = s
                continue
            toks = tuple(_TOKEN.findall(f))
            if len(toks) == 1 and not _ambiguous(toks[0]):
                self.single[toks[0]] = s
            elif len(toks) > 1:
                self.multi.setdefault(toks[0], {})[toks] = s
                self.max_words = max(self.max_words, len(toks))

    def __len__(self) -> int:
        return len(self.single) + sum(len(m) for m in self.multi.values()) + len(self.phones)

    def __or__(self, other: PersonalValues) -> PersonalValues:
        out = PersonalValues(dict(self.single), {k: dict(v) for k, v in self.multi.items()},
                             dict(self.phones), max(self.max_words, other.max_words),
                             [*self.sources, *other.sources], self.columns | other.columns,
                             self.skipped + other.skipped)
        out.single.update(other.single)
        out.phones.update(other.phones)
        for k, v in other.multi.items():
            out.multi.setdefault(k, {}).update(v)
        return out

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds a known value (as :meth:`mask` would replace)."""
        return self.mask(text) != text

    def mask(self, text: str) -> str:
        """``text`` with every known value replaced by its pseudonym."""
        if not text or not len(self):
            return text
        if self.phones:
            text = _DIGIT_RUN.sub(self._phone, text)
        toks = _tokens(text)
        if not toks:
            return text
        parts, last, i = [], 0, 0
        while i < len(toks):
            start, _end, tok = toks[i]
            hit: tuple[int, str] | None = None
            if tok in self.multi:
                cands = self.multi[tok]
                j, words = i, [tok]
                while j + 1 < len(toks) and len(words) < self.max_words \
                        and _GAP.fullmatch(text, toks[j][1], toks[j + 1][0]):
                    j += 1
                    words.append(toks[j][2])
                    if tuple(words) in cands:
                        hit = (j - i + 1, cands[tuple(words)])
            if hit is None and tok in self.single:
                hit = (1, self.single[tok])
            if hit is None:
                i += 1
                continue
            n, canon = hit
            parts += [text[last:start], mask_value(canon)]
            last = toks[i + n - 1][1]
            i += n
        parts.append(text[last:])
        return "".join(parts)

    def _phone(self, m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 9 and digits[-9:] in self.phones:
            return mask_value(self.phones[digits[-9:]])
        return m.group()


_LEARNED: dict[tuple[Any, ...], PersonalValues] = {}


def learn_dataset(dataset: str | os.PathLike[str]) -> PersonalValues:
    """The personal values of a dataset (``"sample"``, ``"airline"``, a world folder).

    Reads only the columns :func:`cxlib.data.schemas.personal_columns` marks, from
    every table the dataset has (Parquet column projection for a generated
    world, so a million customers load in about a second); cached per process
    while the files are unchanged.

    Raises
    ------
    cxlib.errors.DataError
        The dataset cannot be found.
    """
    from cxlib.data import datasets

    world = datasets.load(dataset)
    paths = {t: world.path(t) for t in datasets.TABLES}
    stamp = tuple(sorted((t, str(p), _mtime(p)) for t, p in paths.items() if p is not None))
    key = (str(dataset), world.folder and str(world.folder.resolve()), stamp)
    if key in _LEARNED:
        return _LEARNED[key]
    out = PersonalValues(sources=[str(dataset)])
    for table in datasets.TABLES:
        cols = personal_columns(table)
        if not cols:
            continue
        frame = _personal_frame(world, table, paths[table], cols)
        if frame is None:
            continue
        for col in frame.columns:
            vals = pd.unique(frame[col].dropna().astype(str))
            out.add(vals, phone=is_personal_column(col) and "phone" in col)
            out.columns.add(f"{table}.{col}")
    if len(_LEARNED) > 8:
        _LEARNED.clear()
    _LEARNED[key] = out
    return out


def _mtime(p: Path) -> int:
    if p.is_dir():
        return max((f.stat().st_mtime_ns for f in p.rglob("*.parquet")), default=0)
    return p.stat().st_mtime_ns


def _personal_frame(world: Any, table: str, path: Path | None,
                    cols: set[str]) -> pd.DataFrame | None:
    if path is not None:
        import pyarrow.dataset as ds

        present = [c for c in ds.dataset(path).schema.names if c in cols]
        return pd.read_parquet(path, columns=present) if present else None
    frame = world.table(table)  # a mapped (real) dataset: loaded, validated, cached
    if frame is None:
        return None
    present = [c for c in frame.columns if c in cols]
    return frame[present] if present else None


# --------------------------------------------------------------------------- patterns

EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}(?![\w\-])")
_SEP = r"[ .\-\u00a0]?"
PHONE_RE = re.compile(
    r"(?<![\w+.,])\+\d{1,3}(?:" + _SEP + r"\(?\d{1,4}\)?){2,6}(?![\w]|[.,\-/]\d)"
    r"|(?<![\w+.,\-/])\(?0\d{2,4}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP
    + r"\d{2}(?![\w]|[.,\-/]\d)")


def _phone_pattern(m: re.Match[str]) -> str:
    digits = len(re.sub(r"\D", "", m.group()))
    ok = 10 <= digits <= 15 if m.group().startswith("+") else 10 <= digits <= 11
    return mask_value(m.group()) if ok else m.group()


def mask_text(text: str, values: PersonalValues | None = None) -> str:
    """Known personal values, then e-mail addresses and phone numbers, masked in text."""
    if values is not None:
        text = values.mask(text)
    text = EMAIL_RE.sub(lambda m: mask_value(m.group()), text)
    return PHONE_RE.sub(_phone_pattern, text)


# --------------------------------------------------------------------------- HTML tables

_EMPTY = {"", "nan", "none", "<na>", "nat", "…", "...", "—", "-"}


def _own_rows(table: Any) -> list[Any]:
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _mask_cell(cell: Any, done: set[int]) -> None:
    if id(cell) in done:
        return
    done.add(id(cell))
    text = cell.get_text(" ", strip=True)
    if text.lower() not in _EMPTY and not text.startswith("•••"):
        cell.clear()
        cell.append(mask_value(text))


def _mask_table(table: Any, ambiguous: bool = True) -> None:
    def personal(cell: Any) -> bool:
        return is_personal_column(cell.get_text(" ", strip=True), ambiguous=ambiguous)

    rows = _own_rows(table)
    grid: dict[tuple[int, int], Any] = {}
    layout: list[list[tuple[int, int, Any]]] = []
    for r, tr in enumerate(rows):
        c, placed = 0, []
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in grid:
                c += 1
            cs = _span(cell.get("colspan"))
            rs = _span(cell.get("rowspan"))
            for dr in range(rs):
                for dc in range(cs):
                    grid[(r + dr, c + dc)] = cell
            placed.append((c, cs, cell))
            c += cs
        layout.append(placed)
    head = [bool(tr.find_parent("thead")) for tr in rows]
    if not any(head):  # no <thead>: leading rows of <th> only are the header
        for r, tr in enumerate(rows):
            if tr.find("td"):
                break
            head[r] = True
    body = [r for r in range(len(rows)) if not head[r]]
    n_index = 0
    for r in body:
        c = 0
        while (r, c) in grid and grid[(r, c)].name == "th":
            c += 1
        n_index = max(n_index, c)
    cols: set[int] = set()
    done: set[int] = set()
    for r, placed in enumerate(layout):
        if not head[r]:
            continue
        for c, cs, cell in placed:
            if not personal(cell):
                continue
            if c >= n_index:
                cols.update(range(c, c + cs))
                continue
            right = [x for x in placed if x[0] >= n_index]
            if all(not x[2].get_text(strip=True) for x in right):
                cols.update(range(c, c + cs))  # an index name: its index column
            else:
                for x in right:  # a columns name: the labels beside it are values
                    _mask_cell(x[2], done)
    for r in body:
        labels = [grid[(r, c)] for c in range(n_index) if (r, c) in grid]
        first = grid.get((r, 0))
        personal_row = any(personal(x) for x in labels) or (
            n_index == 0 and first is not None and first.name == "td" and personal(first))
        skip = {id(x) for x in labels} | ({id(first)} if n_index == 0 and first else set())
        for c, _, cell in layout[r]:
            if c in cols or (personal_row and id(cell) not in skip):
                _mask_cell(cell, done)


def _span(v: Any) -> int:
    try:
        return max(1, min(int(str(v).strip() or 1), 1000))
    except ValueError:
        return 1


_MASKED_ATTRS = ("title", "alt", "aria-label", "value", "placeholder")


def _mask_soup(soup: Any, values: PersonalValues | None) -> None:
    from bs4 import Comment, NavigableString

    for table in soup.find_all("table"):
        _mask_table(table, ambiguous=not values)
    for node in list(soup.find_all(string=True)):
        if isinstance(node, Comment):
            node.extract()
            continue
        if isinstance(node, NavigableString) and node.parent is not None \
                and node.parent.name not in ("style", "script"):
            new = mask_text(str(node), values)
            if new != str(node):
                node.replace_with(new)
    for tag in soup.find_all(True):
        for attr in _MASKED_ATTRS:
            if isinstance(tag.attrs.get(attr), str):
                tag[attr] = mask_text(tag[attr], values)


def mask_html(html: str, columns: set[str] | None = None,
              values: PersonalValues | None = None) -> str:
    """Mask personal data in an HTML fragment (tables, text, SVG text, attributes).

    ``columns`` is accepted for compatibility; column names are recognised by
    :func:`is_personal_column`.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    _mask_soup(soup, values)
    return str(soup)


# --------------------------------------------------------------------------- URLs and CSS

_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpe?g|gif|webp|svg\+xml)(?:;[\w=.+\-]+)*,", re.I)
_RELATIVE = re.compile(r"^(?![/\\])[\w\-.~%/]+(?:\?[\w\-.=&%]*)?(?:#[\w\-.:%]*)?$")


def _url_kind(value: str) -> str:
    """``fragment``, ``relative``, ``data_image``, ``web`` or ``bad``."""
    v = _URL_JUNK.sub("", value)
    if v == "" or v.startswith("#"):  # within the page, whatever the anchor's name
        return "fragment"
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", v)
    if m:
        scheme = m.group(1).lower()
        if scheme in ("http", "https", "mailto"):
            return "web"
        return "data_image" if _DATA_IMAGE.match(v) else "bad"
    return "relative" if _RELATIVE.match(v) and "\\" not in v else "bad"


def _css_unescape(css: str) -> str:
    css = re.sub(r"\\([0-9a-fA-F]{1,6})\s?", lambda m: chr(min(int(m.group(1), 16), 0x10FFFF)
                                                           or 0xFFFD), css)
    return re.sub(r"\\(.)", r"\1", css)


_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_IMAGE_SET = re.compile(r"(?<![\w-])(?:-webkit-)?image-set\s*\([^()]*(?:\([^()]*\)[^()]*)*\)",
                        re.I)
_CSS_BAD = re.compile(r"@import|expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:"
                      r"|(?<![\w-])(?:-webkit-)?image-set\s*\(|@namespace|(?<![\w-])src\s*\(",
                      re.I)


def _css_fetches(css: str) -> bool:
    """Whether CSS could fetch or run anything (checked after CSS unescaping)."""
    plain = re.sub(r"/\*.*?\*/", "", _css_unescape(css), flags=re.S)
    if _CSS_BAD.search(plain):
        return True
    return any(not _DATA_IMAGE.match(_URL_JUNK.sub("", m.group(2)))
               and not m.group(2).strip().lower().startswith("data:font/")
               for m in _CSS_URL.finditer(plain))


def sanitize_css(css: str) -> str:
    """A style sheet without ``@import``, outside ``url()`` or script-ish constructs.

    ``url()`` other than a data image becomes ``none``; ``image-set()`` is
    disabled; a sheet that still could fetch or run anything (hidden behind
    CSS escapes, ``expression()``...) is dropped whole.
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@(?:import|namespace)\b[^;]*;?", "", css, flags=re.I)
    css = _CSS_URL.sub(lambda m: m.group(0) if _DATA_IMAGE.match(_URL_JUNK.sub("", m.group(2)))
                       else "none", css)
    css = _IMAGE_SET.sub("none", css)
    if _css_fetches(css):
        return ""
    return css.replace("<", "\\3c ")


# --------------------------------------------------------------------------- sanitiser

_ALLOWED_TAGS = {
    "a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite",
    "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
    "hr", "i", "img", "ins", "kbd", "label", "li", "main", "mark", "nav", "ol", "p", "pre",
    "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "tt", "u", "ul", "var", "wbr", "center", "font"}
#: Elements that run, fetch, submit or swallow text: shown as text when found in content.
_SHOWN_AS_TEXT = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "input", "button", "textarea", "select", "option", "link", "meta", "template", "noscript",
    "portal", "video", "audio", "source", "track", "param", "dialog", "marquee", "xmp",
    "plaintext", "noembed", "noframes", "title", "math", "keygen", "isindex", "image", "area",
    "map", "html", "head", "body", "picture", "canvas", "slot", "fencedframe", "search"}
_URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "background", "poster",
              "srcset", "data", "codebase", "cite", "longdesc", "lowsrc", "dynsrc", "ping",
              "manifest", "usemap", "imagesrcset", "archive", "classid", "profile"}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "style"},
    "a": {"href"}, "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "headers", "valign"},
    "th": {"colspan", "rowspan", "align", "headers", "scope", "valign"},
    "table": {"border", "summary", "align"}, "col": {"span", "align"},
    "colgroup": {"span", "align"}, "ol": {"start", "type"}, "time": {"datetime"},
    "details": {"open"}, "font": {"color"}, "data": {"value"},
}
_STYLE_PROPS = {
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
    "text-align", "vertical-align", "text-decoration", "white-space", "border",
    "border-top", "border-bottom", "border-left", "border-right", "border-color",
    "border-width", "border-style", "border-collapse", "border-spacing", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "margin",
    "margin-top", "margin-bottom", "margin-left", "margin-right", "width", "height",
    "max-width", "min-width", "max-height", "display", "opacity", "line-height",
    "text-transform", "letter-spacing", "word-break", "overflow-x", "overflow",
}
_CONTENT_DROPPED = {"script", "style", "template", "noscript", "iframe", "object", "embed",
                    "textarea", "title", "xmp", "noembed", "noframes", "plaintext", "svg",
                    "math", "select", "frameset", "applet"}
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")


def _nh3_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "href":
        return value if _url_kind(value) in ("fragment", "relative") else None
    if attr == "src":
        return value if _url_kind(value) == "data_image" else None
    if attr == "style":
        return None if _css_fetches(value) else value
    return value


def _unsafe(tag: Any) -> str | None:
    """Why an element in content must be shown as text (None: it may stay)."""
    if tag.name in _SHOWN_AS_TEXT:
        return "element"
    for attr, val in tag.attrs.items():
        sval = " ".join(val) if isinstance(val, list) else str(val)
        a = attr.lower()
        if a.startswith("on") or a in ("formaction", "srcdoc", "xlink:href"):
            return "handler"
        if a == "style" and _css_fetches(sval):
            return "style"
        if a == "src":
            if _url_kind(sval) != "data_image":
                return "src"
        elif a == "href":
            if _url_kind(sval) in ("bad", "data_image"):
                return "href"
        elif a in _URL_ATTRS and sval.strip():
            kind = _url_kind(sval)
            if kind not in ("fragment", "relative"):
                return "url"
    return None


_SHEET_PARENTS = ("jp-OutputArea-output", "jp-RenderedHTMLCommon", "cx-appendix")


def _sheet_place(style: Any) -> bool:
    """Whether a ``<style>`` stands where style sheets belong: the head, the top of
    the body or of a fragment, the top of a notebook output (pandas Styler puts its
    sheet there) or of the methods appendix."""
    parent = style.parent
    if parent is None or parent.name in (None, "[document]", "head", "body", "html"):
        return True
    classes = parent.get("class") or []
    return any(c in classes for c in _SHEET_PARENTS)


def _as_text(tag: Any) -> None:
    from bs4 import NavigableString

    tag.replace_with(NavigableString(str(tag)))


def _unwrap_web_link(tag: Any) -> list[Any]:
    """Replace a web link by its text and address; returns its child elements."""
    href = _URL_JUNK.sub("", str(tag.get("href", "")))
    children = [c for c in tag.children if getattr(c, "name", None)]
    text = tag.get_text()
    if href.lower().startswith("mailto:"):
        href = href[7:]
    tag.attrs.pop("href", None)
    if href and href not in text:
        tag.append(f" ({href})")
    tag.unwrap()
    return children


_SVG_DROP = {"script", "foreignobject", "animate", "animatemotion", "animatetransform", "set",
             "iframe", "handler", "listener", "discard", "a"}
_SVG_CASE = {n.lower(): n for n in (
    "viewBox", "preserveAspectRatio", "clipPath", "clipPathUnits", "linearGradient",
    "radialGradient", "gradientUnits", "gradientTransform", "textPath", "patternUnits",
    "patternTransform", "patternContentUnits", "markerWidth", "markerHeight", "markerUnits",
    "refX", "refY", "stdDeviation", "textLength", "lengthAdjust", "startOffset",
    "maskUnits", "maskContentUnits", "filterUnits", "primitiveUnits", "spreadMethod",
    "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feFlood", "feComposite",
    "feMerge", "feMergeNode", "baseFrequency", "numOctaves", "stitchTiles")}


def svg_to_img(svg: str, values: PersonalValues | None = None, *, mask: bool = False,
               alt: str = "figure") -> str:
    """A cleaned SVG as an ``<img>`` with a data URI (text masked when ``mask``).

    In an image a browser runs no script and fetches nothing; scripts,
    ``foreignObject``, animations, handlers and outside references are removed
    beforehand as well.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(svg, "html.parser")
    root = soup.find("svg")
    if root is None:
        return ""
    for t in root.find_all(lambda x: x.name in _SVG_DROP or x.name == "style"):
        if t.name == "style":
            t.string = sanitize_css(t.get_text())
        elif t.name == "a":  # a link: keep what it shows
            t.unwrap()
        else:
            t.decompose()
    for t in [root, *root.find_all(True)]:
        for attr in list(t.attrs):
            val = str(t.attrs[attr])
            if attr.startswith("on") or (attr in _URL_ATTRS and not val.strip().startswith("#")
                                         and _url_kind(val) != "data_image") \
                    or (attr == "style" and _css_fetches(val)):
                del t.attrs[attr]
        t.name = _SVG_CASE.get(t.name, t.name)
        t.attrs = {_SVG_CASE.get(k, k): v for k, v in t.attrs.items()}
    if mask:
        _mask_soup(root, values)
    root.attrs.setdefault("xmlns", "http://www.w3.org/2000/svg")
    if "xmlns:xlink" not in root.attrs and "xlink:" in str(root):
        root["xmlns:xlink"] = "http://www.w3.org/1999/xlink"
    data = base64.b64encode(str(root).encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'


def sanitize_html(html: str, *, values: PersonalValues | None = None, mask: bool = False,
                  title: str | None = None, lang: str | None = None) -> str:
    """An HTML page (or fragment) that runs nothing and fetches nothing.

    See the module docstring. With ``mask=True`` personal data is masked too
    (tables, text, SVG text, attributes; known ``values`` first), after unsafe
    markup has been turned into text, so a masked value hidden in a payload is
    masked as well. A full page (with ``<html>`` or ``<body>``) comes back as a
    full page with a fresh ``<head>``: ``title`` and ``lang`` default to the
    page's own, and only its (sanitised) style sheets are kept.
    """
    from bs4 import BeautifulSoup

    try:
        import nh3
    except ImportError as exc:  # a dependency of cxlib (pyproject.toml)
        raise CxError("rendering reports needs the HTML sanitiser nh3: pip install 'nh3>=0.3'"
                      ) from exc
    is_page = bool(re.search(r"<(?:!doctype|html|body)\b", html[:2000], re.I))
    soup = BeautifulSoup(html, "html.parser")
    styles = []
    for s in soup.find_all("style"):
        if _sheet_place(s):  # a page's or an output's own style sheet: kept, sanitised
            styles.append(s.get_text())
            s.decompose()
        else:  # inside a table cell or text: a pasted comment, shown as text
            _as_text(s)
    page_title = title if title is not None else (
        soup.title.get_text() if soup.title else "")
    html_tag = soup.find("html")
    page_lang = lang or (html_tag.get("lang") if html_tag else None) or "en"
    body = soup.body if (is_page and soup.body) else soup
    if is_page and soup.head:
        soup.head.decompose()
    body_attrs = {k: v for k, v in (soup.body.attrs.items() if is_page and soup.body else [])
                  if k == "class" or k.startswith("data-jp-theme")}
    stack = [c for c in body.children if getattr(c, "name", None)]
    while stack:
        tag = stack.pop()
        if tag.name == "svg":
            tag.replace_with(BeautifulSoup(svg_to_img(str(tag), values, mask=mask),
                                           "html.parser"))
            continue
        if tag.name == "a" and tag.get("href") is not None \
                and _url_kind(str(tag["href"])) == "web":
            stack.extend(_unwrap_web_link(tag))
        elif _unsafe(tag):
            _as_text(tag)
        else:
            stack.extend(c for c in tag.children if getattr(c, "name", None))
    if mask:
        _mask_soup(body, values)
    inner = body.decode_contents() if body is not soup else str(soup)
    clean = nh3.clean(
        inner, tags=_ALLOWED_TAGS, clean_content_tags=_CONTENT_DROPPED,
        attributes=_ATTRIBUTES, attribute_filter=_nh3_filter, strip_comments=True,
        link_rel="noopener noreferrer", url_schemes={"data"},
        filter_style_properties=_STYLE_PROPS, generic_attribute_prefixes={"data-"})
    if not is_page:
        return clean
    css = "\n".join(f"<style>\n{sanitize_css(s)}\n</style>" for s in styles if s.strip())
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", str(page_lang)):
        page_lang = "en"
    if mask:
        page_title = mask_text(page_title, values)
    attrs = "".join(f' {k}="{escape(" ".join(v) if isinstance(v, list) else str(v))}"'
                    for k, v in body_attrs.items())
    return ("<!DOCTYPE html>\n"
            f'<html lang="{page_lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f"<title>{escape(page_title)}</title>\n{css}\n</head>\n"
            f"<body{attrs}>\n{clean}\n</body>\n</html>\n")
