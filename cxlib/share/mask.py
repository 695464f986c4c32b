"""Personal data out of shared reports: pseudonyms, known values, table structure, patterns.

Share layer (masking); :mod:`cxlib.share.sanitize` makes pages inert, this module
hides who is in them. Used for the managers' view, the run index and file names.

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
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib.data.schemas import personal_columns

__all__ = ["EMAIL_RE", "PERSONAL", "PHONE_RE", "PersonalValues", "is_personal_column",
           "learn_dataset", "mask_frame", "mask_html", "mask_soup", "mask_text", "mask_value"]

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


_GLUE = re.compile(r"[_\-.@+'’]")
_PART = re.compile(r"[^\W_]+")
_MAX_PARTS = 16  # parts of one glued token tried (a token longer than that: its first 16)


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
    #: first parts of known values that hold a glue character (``ab-123``, e-mails):
    #: a glued token is searched for runs of parts only when one of its parts is known
    #: or is such a head
    heads: set[str] = field(default_factory=set)

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
                    self._single(f, s)
                continue
            toks = tuple(_TOKEN.findall(f))
            if len(toks) == 1 and not _ambiguous(toks[0]):
                self._single(toks[0], s)
            elif len(toks) > 1:
                self.multi.setdefault(toks[0], {})[toks] = s
                self.max_words = max(self.max_words, len(toks))

    def _single(self, folded: str, value: str) -> None:
        self.single[folded] = value
        if _GLUE.search(folded):
            head = _PART.search(folded)
            if head:
                self.heads.add(head.group())

    def __len__(self) -> int:
        return len(self.single) + sum(len(m) for m in self.multi.values()) + len(self.phones)

    def __or__(self, other: PersonalValues) -> PersonalValues:
        out = PersonalValues(dict(self.single), {k: dict(v) for k, v in self.multi.items()},
                             dict(self.phones), max(self.max_words, other.max_words),
                             [*self.sources, *other.sources], self.columns | other.columns,
                             self.skipped + other.skipped, self.heads | other.heads)
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
                if _GLUE.search(tok):  # C00000012-2024-03-01, statement_C00000012.pdf
                    glued = self._mask_glued(text[start:_end], tok)
                    if glued is not None:
                        parts += [text[last:start], glued]
                        last = _end
                i += 1
                continue
            n, canon = hit
            parts += [text[last:start], mask_value(canon)]
            last = toks[i + n - 1][1]
            i += n
        parts.append(text[last:])
        return "".join(parts)

    def _mask_glued(self, token: str, folded: str) -> str | None:
        """A token made of parts glued by ``_ - . @ + '`` with known values among its
        parts (one part or several in a row, e.g. ``murad_rzayev``) masked; None if none.

        ``folded`` is the token case-folded (:func:`_fold`); when folding kept its
        length (nearly always), parts are looked up as slices of it, with no new fold.
        """
        same = len(folded) == len(token)
        if same:  # the common case first: no part is, or begins, a known value (C speed)
            single, multi, heads = self.single, self.multi, self.heads
            if not any(p in single or p in multi or p in heads
                       for p in _PART.findall(folded)):
                return None
        spans = [(m.start(), m.end()) for m in _PART.finditer(token)][:_MAX_PARTS]
        if not spans or spans == [(0, len(token))]:  # the whole token was looked up already
            return None

        def key(a: int, b: int) -> str:
            return folded[a:b] if same else _fold(token[a:b])

        parts = [key(a, b) for a, b in spans]
        if not any(p in self.single or p in self.multi or p in self.heads for p in parts):
            return None  # no part is, or begins, a known value: nothing to look for
        out, last, i, changed = [], 0, 0, False
        while i < len(spans):
            hit = None
            for j in range(len(spans) - 1, i - 1, -1):  # the longest run of parts first
                whole = parts[i] if j == i else key(spans[i][0], spans[j][1])
                canon = self.single.get(whole) if not _ambiguous(whole) else None
                if canon is None and j > i and parts[i] in self.multi:
                    words = tuple(parts[i:j + 1])
                    canon = self.multi[parts[i]].get(words)
                if canon is not None:
                    hit = (j, canon)
                    break
            if hit is None:
                i += 1
                continue
            j, canon = hit
            out += [token[last:spans[i][0]], mask_value(canon)]
            last, i, changed = spans[j][1], j + 1, True
        return "".join([*out, token[last:]]) if changed else None

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


def mask_soup(soup: Any, values: PersonalValues | None) -> None:
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
    mask_soup(soup, values)
    return str(soup)
