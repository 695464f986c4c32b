"""Masking known personal values in report text: plain tokens against glued ones.

A managers' view masks every known id, name, e-mail and phone of the dataset in
every output (:class:`cxlib.share.mask.PersonalValues`). Values glued to other
text (``C00000012-2024-03-01``, ``statement_C00000012.pdf``) are looked up part
by part, which costs more than one set lookup per token. The baseline masks a
text whose parts all stand alone as tokens; the second case the same text with
the ids glued into file names and dates, as printed paths and keys show them.
Goal: glued at most 2x the baseline (both on 200,000 known ids and the same 3 MB
of text, split differently).
"""

from __future__ import annotations

from benchmarks.harness import timed

GOAL = 2.0
N_IDS = 200_000
N_LINES = 50_000


def run() -> list[dict]:
    from cxlib.share.mask import PersonalValues

    values = PersonalValues.from_values([f"C{i:08d}" for i in range(N_IDS)])
    glued = " ".join(f"row_{i} on 2024-03-{i % 28 + 1:02d} statement_C{i:08d}.pdf seg-mass "
                     f"0.{i}" for i in range(N_LINES))
    plain = glued.translate(str.maketrans("_-.", "   "))  # same text, every part a token
    base, out = timed(lambda: values.mask(plain))
    assert " C00000001 " not in out
    glue, out = timed(lambda: values.mask(glued))
    assert "C00000001." not in out
    row = {"benchmark": "masking", "peak_mib": None}
    return [
        {**row, "case": f"{len(plain) / 1e6:.1f} MB text, {N_IDS:,} known ids, standing alone "
                        "(baseline)", "seconds": base, "ratio": 1.0, "goal": "baseline",
         "met": None},
        {**row, "case": "the same text, ids glued into file names and dates",
         "seconds": glue, "ratio": glue / base, "goal": f"<= {GOAL:g}x the baseline",
         "met": glue / base <= GOAL},
    ]
