"""Reading exports: ``cxlib.data.readers.read_table`` against plain ``pandas.read_csv``.

The reader adds encoding detection over the whole file (mixed encodings are found
wherever the odd line is), header checks and line bookkeeping on top of pandas.
Goals (ratios to pandas reading the same file with the encoding and delimiter
given, measured in the same run):

- a UTF-8 export (1M rows): at most 1.5x pandas;
- an undeclared cp1254 export (1M rows), detected by scanning every byte: at most 3x.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import timed

N_ROWS = 1_000_000


def _export(folder: Path, encoding: str) -> Path:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "response_id": [f"R{i:08d}" for i in range(N_ROWS)],
        "score": rng.integers(1, 6, N_ROWS),
        "region": rng.choice(["İstanbul", "Bakı", "Ankara", "Ganja"], N_ROWS),
        "comment": rng.choice(["çok güzel", "kötü", "", "normal", "Müşteri memnun"], N_ROWS),
    })
    p = folder / f"export_{encoding}.csv"
    df.to_csv(p, index=False, sep=";", encoding=encoding, errors="replace")
    return p


def run() -> list[dict]:
    from cxlib.data.readers import read_table

    rows = []
    with tempfile.TemporaryDirectory(prefix="cxbench-") as tmp:
        for encoding, goal in (("utf-8", 1.5), ("cp1254", 3.0)):
            p = _export(Path(tmp), encoding)
            base, _ = timed(lambda p=p, e=encoding: pd.read_csv(p, sep=";", encoding=e))

            def ours(p: Path = p) -> pd.DataFrame:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the cp1254 guess is announced
                    return read_table(p)

            secs, df = timed(ours)
            assert len(df) == N_ROWS
            common = {"benchmark": "readers", "peak_mib": None}
            rows.append({**common, "case": f"pandas.read_csv, {encoding} declared, 1M rows",
                         "seconds": base, "ratio": 1.0, "goal": "baseline", "met": None})
            rows.append({**common, "case": f"read_table, {encoding} undeclared, 1M rows",
                         "seconds": secs, "ratio": secs / base, "goal": f"<= {goal}x pandas",
                         "met": secs <= goal * base})
    return rows
