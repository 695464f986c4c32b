"""Text encodings of exports: detect them, check declared ones, explain decoding errors.

Exports from Turkish and Azerbaijani systems come in UTF-8, UTF-16 ("Unicode text"
from Excel) and legacy code pages (cp1254 / ISO-8859-9 for Turkish, cp1251 for
Cyrillic Azerbaijani and Russian). :func:`detect_encoding` is certain about
byte-order marks and valid UTF-8, prefers our users' code pages otherwise, and
says when it guessed; :func:`check_declared_encoding` refuses a declared encoding
the bytes contradict.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
import unicodedata
from pathlib import Path

from cxlib.errors import DataError

__all__ = [
    "CONFIDENT_SHARE",
    "LEGACY_ENCODINGS",
    "SNIFF_BYTES",
    "EncodingGuessWarning",
    "check_declared_encoding",
    "decode_error",
    "detect_encoding",
    "plausibility",
    "rank_legacy_encodings",
]

SNIFF_BYTES = 64 * 1024


class EncodingGuessWarning(UserWarning):
    """A CSV's encoding was guessed from its bytes; declare it to be sure."""


# ------------------------------------------------------------------ encodings
#: Legacy code pages of our users' systems, in order of preference on ties: Turkish
#: (cp1254, ISO-8859-9, which also carry Azerbaijani Latin but for ``ə``), Cyrillic
#: (cp1251: Azerbaijani Cyrillic, Russian), then Western and Central European.
LEGACY_ENCODINGS = ("cp1254", "iso8859_9", "cp1251", "cp1252", "cp1250")
#: Letters of the Turkish and Azerbaijani Latin alphabets beyond ASCII.
_TR_AZ = frozenset("çğıöşüəÇĞİÖŞÜƏâîûÂÎÛ")
#: Western European letters (brand and loan words: "Nestlé", "Café", "Müller").
_WESTERN = frozenset("àáãäåæèéêëìíïñòóôõøùúÿßÀÁÃÄÅÆÈÉÊËÌÍÏÑÒÓÔÕØÙÚ") - _TR_AZ
#: What Turkish letters look like through a Western code page (ğ ı ş İ Ş Ğ -> ð ý þ Ý Þ Ð).
_MOJIBAKE = frozenset("ðýþÐÝÞ")
#: Non-letters that real text holds (typographic quotes, dashes, currency, degrees...).
_PUNCTUATION = frozenset("“”‘’‚„–—…«»€№°·•±×÷§©®™¢£¥¬´¨¸ºª¹²³¼½¾¿¡µ¶\u00a0")
#: A guess is confident when every other decoding scores below this share of its score.
CONFIDENT_SHARE = 0.5
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _bom_encoding(raw: bytes) -> str | None:
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return enc
    return None


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte is mostly NUL (ASCII-heavy UTF-16)."""
    sample = raw[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(path: str | os.PathLike[str], *, whole_file: bool = False
                    ) -> tuple[str, str | None]:
    """Detect a text file's encoding, or say that it cannot be told.

    Parameters
    ----------
    path
        A text file (CSV).
    whole_file
        Scan every byte even when the first 256 KiB are UTF-8 (a reader that met a
        non-UTF-8 byte later asks again with it).

    Returns
    -------
    (encoding, note)
        ``note`` is None when the bytes leave no doubt (a byte-order mark: UTF-8,
        UTF-16 or UTF-32; or valid UTF-8 from the first byte to the last) and
        otherwise says which encoding was assumed and how to declare it (UTF-16
        without a byte-order mark, or a legacy code page: see Notes).

    Raises
    ------
    DataError
        When the file mixes encodings (valid UTF-8 lines with non-ASCII letters and
        lines that are not UTF-8: a legacy line appended to a UTF-8 export), naming
        the lines; or when no legacy code page reads clearly better than another
        (say how to declare ``encoding=``).

    Notes
    -----
    Each legacy code page of :data:`LEGACY_ENCODINGS` decodes the bytes, and the
    text is scored word by word (:func:`plausibility`): +1 per Turkish, Azerbaijani
    or Cyrillic letter, +0.5 per Western European letter (``é`` in "Nestlé"; -1 in a
    word made mostly of them, as Cyrillic looks through a Western code page: ``Ïðèâåò``),
    -1 per letter that Turkish text shows through a Western code page (``ð ý þ``),
    -2 per other symbol, and every non-ASCII letter of a word that mixes Latin and
    Cyrillic letters counts -2 (``Nestlй``, ``зok``: Turkish read as cp1251).
    Identical decodings tie and the first in :data:`LEGACY_ENCODINGS` (our users'
    code pages first) wins. The guess is confident when it scores above zero and no
    decoding giving another text scores :data:`CONFIDENT_SHARE` of it or more.
    Detectors such as charset-normalizer guess poorly on short Turkish samples,
    which is why this small scorer exists.

    Example
    -------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tr.csv"
    >>> _ = f.write_bytes("yorum\\nNestlé Café çok güzel, ğış İŞ\\n".encode("cp1254"))
    >>> detect_encoding(f)[0]
    'cp1254'
    """
    p = Path(path)
    with open(p, "rb") as fh:
        raw = fh.read(4 * SNIFF_BYTES)
    bom = _bom_encoding(raw)
    if bom:
        return bom, None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return utf16, _declare_note(p, utf16, f"it has no byte-order mark but every other "
                                              f"byte is zero, as in {utf16.upper()}")
    # a UTF-8 head is taken as UTF-8 (reading checks the rest, and calls back with
    # whole_file=True if a later byte is not UTF-8); any other file is scanned whole
    utf8_lines, bad_lines = _utf8_scan(p, max_bytes=None if whole_file else 4 * SNIFF_BYTES)
    if bad_lines and not whole_file:
        utf8_lines, bad_lines = _utf8_scan(p)
    if not bad_lines:
        return "utf-8", None
    if utf8_lines:
        raise _mixed_error(p, utf8_lines, bad_lines)
    ranked = rank_legacy_encodings(b"\n".join(line for _, line in bad_lines)[:SNIFF_BYTES])
    enc, score = ranked[0]
    rival = next(((e, s) for e, s in ranked[1:] if s >= CONFIDENT_SHARE * score), None)
    if score <= 0 or rival is not None:
        raise _unsure_error(p, ranked, bad_lines)
    return enc, _declare_note(p, enc, "it is not UTF-8; its letters read best as "
                                      f"{enc!r} among {list(LEGACY_ENCODINGS)}")


#: A line with a non-ASCII character and no undecodable byte (after surrogateescape).
_UTF8_LINE = re.compile("^[^\n\udc80-\udcff]*[^\\x00-\\x7f\udc80-\udcff][^\n\udc80-\udcff]*$",
                        re.M)
#: A character that is not ASCII and not an undecodable byte.
_VALID_NON_ASCII = re.compile("[^\\x00-\\x7f\udc80-\udcff]")
#: A line holding an undecodable byte (surrogateescape turns it into U+DC80..U+DCFF).
_BAD_LINE = re.compile("^[^\n]*[\udc80-\udcff][^\n]*$", re.M)


def _utf8_scan(p: Path, limit: int = 5, *, max_bytes: int | None = None
               ) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """Lines (number, bytes) that are non-ASCII UTF-8, and lines that are not UTF-8.

    The file (or its first ``max_bytes``) is read in line-aligned blocks: a block that
    decodes is skipped at C speed; one that does not is decoded with surrogateescape
    and searched by regular expression. At most ``limit`` UTF-8 lines are kept, and the
    non-UTF-8 lines up to ``limit`` or SNIFF_BYTES (the sample the legacy guess
    scores), whichever is more.
    """
    good: list[tuple[int, bytes]] = []
    bad: list[tuple[int, bytes]] = []
    bad_bytes = 0
    line_no = 1
    read = 0
    with open(p, "rb") as fh:
        while max_bytes is None or read < max_bytes:
            block = fh.read(1 << 20 if max_bytes is None else min(1 << 20, max_bytes - read))
            if not block:
                break
            read += len(block)
            if not block.endswith(b"\n") and max_bytes is None:
                block += fh.readline()
            try:
                block.decode("utf-8")
                if len(good) < limit and not block.isascii():
                    text = block.decode("utf-8")
                    for m in _UTF8_LINE.finditer(text):
                        n = line_no + text.count("\n", 0, m.start())
                        good.append((n, m.group().encode("utf-8")))
                        if len(good) >= limit:
                            break
            except UnicodeDecodeError as exc:
                if max_bytes is not None and exc.start >= len(block) - 3:
                    continue  # a character cut at the end of the sample
                text = block.decode("utf-8", errors="surrogateescape")
                if len(good) < limit and _VALID_NON_ASCII.search(text):
                    for m in _UTF8_LINE.finditer(text):
                        n = line_no + text.count("\n", 0, m.start())
                        good.append((n, m.group().encode("utf-8")))
                        if len(good) >= limit:
                            break
                if len(bad) < limit or bad_bytes < SNIFF_BYTES:
                    pos, n = 0, line_no
                    for m in _BAD_LINE.finditer(text):
                        n += text.count("\n", pos, m.start())
                        pos = m.start()
                        line = m.group().encode("utf-8", errors="surrogateescape")
                        bad.append((n, line))
                        bad_bytes += len(line)
                        if len(bad) >= limit and bad_bytes >= SNIFF_BYTES:
                            break
            line_no += block.count(b"\n")
    return good, bad


def _mixed_error(p: Path, utf8_lines: list[tuple[int, bytes]],
                 bad_lines: list[tuple[int, bytes]]) -> DataError:
    enc = rank_legacy_encodings(b"\n".join(line for _, line in bad_lines))[0][0]
    shown = [f"line {n} (UTF-8): {_show(line, 'utf-8')!r}" for n, line in utf8_lines[:2]]
    shown += [f"line {n} (not UTF-8; as {enc}: {_show(line, enc)!r})"
              for n, line in bad_lines[:3]]
    first = ", ".join(str(n) for n, _ in bad_lines[:10])
    return DataError(
        f"the file mixes encodings: lines with UTF-8 letters and lines that are not UTF-8 "
        f"(line(s) {first}{'...' if len(bad_lines) > 10 else ''}; they read like {enc!r}), "
        "e.g. a line appended by another program. No single encoding reads both: re-save the "
        f"file as UTF-8 (convert those lines from {enc}), or re-export it in one go",
        path=p, rule="one encoding per file", rows=shown)


def _show(line: bytes, encoding: str) -> str:
    return line[:100].rstrip(b"\r").decode(encoding, errors="replace")


def _unsure_error(p: Path, ranked: list[tuple[str, float]],
                  bad_lines: list[tuple[int, bytes]]) -> DataError:
    n, line = bad_lines[0]
    readings = [f"as {e}: {_show(line, e)!r}" for e, _ in ranked[:3]]
    return DataError(
        "the file is not UTF-8 and its encoding cannot be told safely: the legacy code pages "
        f"read its letters about equally well ({', '.join(e for e, _ in ranked[:3])}). "
        "Declare it: read_table(..., encoding='cp1254') for Turkish or Azerbaijani Latin, "
        "'cp1251' for Cyrillic (or `read: {encoding: ...}` in a mapping); better, re-export "
        "as UTF-8",
        path=p, rule="encoding detected with confidence",
        rows=[f"line {n} {r}" for r in readings])


def _declare_note(p: Path, enc: str, why: str) -> str:
    return (f"{p.name}: encoding guessed as {enc!r} ({why}). If letters look wrong, declare "
            f"the right one; to confirm this guess and silence the warning, declare it: "
            f"read_table(..., encoding={enc!r}) or `read: {{encoding: {enc}}}` in a mapping.")


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    if ch.isascii():
        return "latin" if ch.isalpha() else ""
    name = unicodedata.name(ch, "")
    return "latin" if name.startswith("LATIN") else "cyrillic" if name.startswith(
        "CYRILLIC") else ""


def plausibility(text: str) -> float:
    """How much ``text`` reads like Turkish, Azerbaijani or Cyrillic text (see
    :func:`detect_encoding`, Notes, for the points)."""
    score = 0.0
    for word in _WORD_RE.findall(text):
        scripts = {_script(c) for c in word} - {""}
        mixed = len(scripts) > 1
        n_western = sum(ch in _WESTERN for ch in word)
        # Western words carry an accent or two among plain letters; a word made mostly
        # of accented letters is Cyrillic read through a Western code page ("Ïðèâåò")
        dense = n_western > 1 and 3 * n_western > len(word)
        for ch in word:
            if ch.isascii():
                continue
            if mixed:
                score -= 2
            elif ch in _TR_AZ or _script(ch) == "cyrillic":
                score += 1
            elif ch in _WESTERN:
                score += -1 if dense else 0.5
            elif ch in _MOJIBAKE:
                score -= 1
            else:
                score -= 2
    for ch in _NON_WORD_RE.findall(text):
        if ch not in _PUNCTUATION:
            score -= 2
    return score


#: A word (letters only) holding at least one non-ASCII letter: ASCII words score 0.
_WORD_RE = re.compile(r"[^\W\d_]*[^\W\d_\x00-\x7f][^\W\d_]*")
_NON_WORD_RE = re.compile(r"[^\x00-\x7f\w]")


def rank_legacy_encodings(raw: bytes) -> list[tuple[str, float]]:
    """Each legacy code page that decodes ``raw`` giving a distinct text, best first,
    with its :func:`plausibility` (ties keep :data:`LEGACY_ENCODINGS` order)."""
    seen: dict[str, tuple[str, float]] = {}
    for enc in LEGACY_ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if text not in seen:
            seen[text] = (enc, plausibility(text))
    ranked = list(seen.values())
    ranked.sort(key=lambda es: -es[1])  # stable: ties keep the preference order
    return ranked or [(LEGACY_ENCODINGS[0], float("-inf"))]


def _best_legacy_encoding(raw: bytes) -> str:
    return rank_legacy_encodings(raw)[0][0]


def _is_single_byte(encoding: str) -> bool:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("cp12", "cp8", "cp4", "iso8859", "latin", "koi8", "mac-"))


def check_declared_encoding(p: Path, encoding: str, notes: list[str]) -> str:
    """The encoding to read with, after checking the declared one against the bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                        "'utf-8', 'cp1254', 'cp1251' or 'utf-16'", path=p,
                        rule="known encoding") from None
    with open(p, "rb") as fh:
        raw = fh.read(4 * SNIFF_BYTES)
    bom = _bom_encoding(raw)
    if bom and bom.startswith("utf-16") and not name.startswith("utf-16"):
        raise DataError(
            f"encoding={encoding!r} was declared, but the file starts with a UTF-16 byte-order "
            "mark (an Excel 'Unicode text' export): pass encoding='utf-16'",
            path=p, rule="declared encoding matches the bytes")
    if bom == "utf-8-sig" and name == "utf-8":
        notes.append(f"{p.name}: UTF-8 byte-order mark skipped")
        return "utf-8-sig"
    if bom == "utf-8-sig" and name != "utf-8":
        raise DataError(
            f"encoding={encoding!r} was declared, but the file starts with a UTF-8 byte-order "
            "mark: pass encoding='utf-8' (or leave encoding undeclared)",
            path=p, rule="declared encoding matches the bytes")
    if _is_single_byte(name) and any(b > 127 for b in raw):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # not UTF-8, unless it is only a character cut at the end of the sample
            if exc.start < len(raw) - 3 or len(raw) < 4 * SNIFF_BYTES:
                return encoding
        raise DataError(
            f"encoding={encoding!r} was declared, but the file is valid UTF-8 with non-ASCII "
            f"letters: read as {encoding!r} they would be garbled (e.g. 'İ' -> 'Ä°'). "
            "Pass encoding='utf-8' (or leave encoding undeclared)",
            path=p, rule="declared encoding matches the bytes")
    return encoding


def decode_error(p: Path, encoding: str, declared: bool) -> DataError:
    """Where the bytes stop being ``encoding``, and what they look like instead."""
    dec = codecs.getincrementaldecoder(encoding)()
    data = p.read_bytes()
    pos, block = 0, 1 << 20
    bad = None
    for start in range(0, len(data), block):
        try:
            dec.decode(data[start:start + block], final=start + block >= len(data))
        except UnicodeDecodeError as exc:
            bad = start + exc.start
            break
        pos = start
    bad = pos if bad is None else bad
    line_no = data.count(b"\n", 0, bad) + 1
    line_start = data.rfind(b"\n", 0, bad) + 1
    line_end = data.find(b"\n", bad)
    line = data[line_start: line_end if line_end >= 0 else len(data)]
    bom = _bom_encoding(data[:4])
    guess = bom or _utf16_without_bom(data[:4096]) or _best_legacy_encoding(line)
    how = "declared" if declared else "assumed"
    shown = line[:120].rstrip(b"\r").decode(guess, errors="replace")
    return DataError(
        f"cannot decode the file as {encoding!r} ({how}): byte 0x{data[bad]:02X} on line "
        f"{line_no} is not valid {encoding!r}. Those bytes look like {guess!r}: "
        f"pass encoding={guess!r}",
        path=p, rule=f"text in the declared encoding ({encoding})",
        rows=[f"line {line_no}: {shown!r}"],
    )


