"""Personal data and unsafe markup out of shared reports: one place to import both halves.

Share layer. The work is split by job: :mod:`cxlib.share.mask` hides who is in
a page (known personal values, table structure, e-mail and phone patterns,
pseudonyms), :mod:`cxlib.share.sanitize` makes a page inert (allow-lists, customer
text shown as text, images only from the notebook's own figures, a
Content-Security-Policy). This module re-exports their public names for callers
that want both (``from cxlib.share import privacy``).
"""

from __future__ import annotations

from cxlib.share.mask import (
    EMAIL_RE,
    PERSONAL,
    PHONE_RE,
    PersonalValues,
    is_personal_column,
    learn_dataset,
    mask_frame,
    mask_html,
    mask_soup,
    mask_text,
    mask_value,
)
from cxlib.share.sanitize import CSP, sanitize_css, sanitize_html, svg_to_img

__all__ = ["CSP", "EMAIL_RE", "PERSONAL", "PHONE_RE", "PersonalValues", "is_personal_column",
           "learn_dataset", "mask_frame", "mask_html", "mask_soup", "mask_text", "mask_value",
           "sanitize_css", "sanitize_html", "svg_to_img"]
