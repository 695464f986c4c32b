"""Former home of reading and validating exports; kept as a re-export for old imports.

Reading lives in :mod:`cxlib.data.readers` (with :mod:`cxlib.data.encodings`),
validating in :mod:`cxlib.data.validate`. New code imports from those.
"""

from __future__ import annotations

from cxlib.data.encodings import LEGACY_ENCODINGS, EncodingGuessWarning, detect_encoding
from cxlib.data.readers import parse_dates, read_table
from cxlib.data.validate import check_touchpoints, load, validate

__all__ = [
    "LEGACY_ENCODINGS",
    "EncodingGuessWarning",
    "check_touchpoints",
    "detect_encoding",
    "load",
    "parse_dates",
    "read_table",
    "validate",
]
