"""DuckDB helpers (cxlib.data.duck): quoting, the column check, the one connection.

The quoting is checked against DuckDB itself (the reference: what it parses back).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd
import pytest

from cxlib.data import duck
from cxlib.errors import DataError


def test_quote_helpers_and_the_column_check():
    con = duck.connect()
    try:
        evil = 'x" FROM (SELECT 1 AS "x"); COPY (SELECT 42) TO \'/tmp/pwned.csv\'; --'
        rel = con.sql(f"SELECT 1 AS {duck.quote_ident(evil)}")
        assert rel.columns == [evil]
        assert con.sql(f"SELECT {duck.quote_literal(chr(39) + 'Ankara' + chr(39) + 'daki')} "
                       "AS v").fetchall() == [("'Ankara'daki",)]
        assert np.isnan(con.sql(f"SELECT {duck.quote_literal(float('nan'))}").fetchall()[0][0])
        with pytest.raises(DataError, match="did you mean 'segment'"):
            duck.check_column(["segment", "region"], "Segment")
        with pytest.raises(DataError, match="NUL"):
            duck.quote_literal("a\x00b")
    finally:
        con.close()


def test_one_connection_per_process():
    assert duck.connection() is duck.connection()




def test_a_forked_child_gets_its_own_connection():
    parent = duck.connection()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = duck.connection() is not parent and duck.connection().execute(
            "SELECT 41 + 1").fetchall() == [(42,)]
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    deadline = time.monotonic() + 20  # a child stuck after the fork must not hang the suite
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child did not finish in 20 s")
        time.sleep(0.05)
    assert os.read(r, 1) == b"1"


def test_read_parquet_columns_are_checked_and_the_path_is_not_sql(tmp_path):
    folder = tmp_path / "Ankara'daki [1]" / "responses" / "segment=mass"
    folder.mkdir(parents=True)
    pd.DataFrame({"score": [1.0, 2.0]}).to_parquet(folder / "part-0.parquet")
    rel = duck.read_parquet(folder.parent)
    assert sorted(rel.columns) == ["score", "segment"]
    assert rel.aggregate("sum(score)").fetchall() == [(3.0,)]
    assert duck.read_parquet(folder.parent, columns=["segment"]).fetchall() == [("mass",)] * 2
    with pytest.raises(DataError, match="did you mean 'score'"):
        duck.read_parquet(folder.parent, columns=["scor"])
    with pytest.raises(DataError, match="no such Parquet file"):
        duck.read_parquet(tmp_path / "nothing.parquet")
