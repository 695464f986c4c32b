"""Property-based tests of reading and loading exports (hypothesis).

Whatever bytes a file holds and whatever read options are given, reading and
loading it either returns a table or raises an error of the project's family
(:class:`cxlib.errors.CxError`, with a message); never another exception, never a
hang (a hard alarm bounds each example), and the file's bytes are unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib.data.readers import read_table
from cxlib.data.validate import load
from cxlib.errors import CxError

#: A hard bound per example (seconds): a hang fails the test instead of blocking it.
ALARM_SECONDS = 10
SETTINGS = settings(max_examples=1500, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow])

LETTERS = "abcçdefgğhıijklmnoöprsştuüvyzəABCÇĞİÖŞÜƏйцукенЖЭЮé0123456789 .,;:-_/'\"\t|"
ENCODINGS = ["utf-8", "utf-8-sig", "cp1254", "cp1251", "cp1252", "iso8859_9", "utf-16"]
HEADERS = ["response_id", "customer_id", "date", "touchpoint_id", "metric", "score",
           "scale_min", "scale_max", "weight", "comment", "region", "score"]


@contextlib.contextmanager
def alarm(seconds: int = ALARM_SECONDS) -> Iterator[None]:
    def on_alarm(signum, frame):
        raise TimeoutError(f"reading took more than {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _check(path: Path, call) -> None:
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with alarm(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call()
        except CxError as exc:
            assert str(exc).strip(), "an error without a message"
        else:
            assert isinstance(out, pd.DataFrame)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "raw bytes changed"


cells = st.text(alphabet=LETTERS, max_size=12)
rows = st.lists(st.lists(cells, min_size=1, max_size=6), min_size=0, max_size=8)
seps = st.sampled_from([",", ";", "\t", "|"])
newlines = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_bytes(draw) -> bytes:
    sep, nl = draw(seps), draw(newlines)
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8))
    body = draw(rows)

    def cell(c: str) -> str:
        return f'"{c}"' if draw(st.booleans()) and '"' not in c else c

    text = nl.join(sep.join(cell(c) for c in r) for r in [header, *body])
    if draw(st.booleans()):
        text += nl
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # sometimes a line in another encoding
        data += draw(st.sampled_from(["\nşç;ğ", "\nжэ;ю", "\né;è"])).encode(
            draw(st.sampled_from(["cp1254", "cp1251", "utf-8"])), errors="replace")
    return data


read_options = st.fixed_dictionaries({}, optional={
    "encoding": st.sampled_from([*ENCODINGS, "latin-1", "no-such-codec"]),
    "sep": seps,
    "decimal": st.sampled_from([",", "."]),
    "dayfirst": st.booleans(),
    "date_format": st.sampled_from(["mixed", "%d.%m.%Y", "%Y-%m-%d"]),
})


def _tmp(suffix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="cxprop-"))
    return d / f"export{suffix}"


@SETTINGS
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".txt", ".parquet",
                                                               ".xlsx", ".tsv"]))
def test_any_bytes_read_or_fail_clearly(data: bytes, suffix: str) -> None:
    p = _tmp(suffix)
    p.write_bytes(data)
    _check(p, lambda: read_table(p))


@SETTINGS
@given(data=csv_bytes(), options=read_options)
def test_csv_like_text_reads_or_fails_clearly(data: bytes, options: dict) -> None:
    p = _tmp(".csv")
    p.write_bytes(data)
    _check(p, lambda: read_table(p, **options))


@SETTINGS
@given(data=csv_bytes(), contract=st.sampled_from(["responses", "customers", "orders"]))
def test_loading_against_a_contract_validates_or_fails_clearly(data: bytes,
                                                               contract: str) -> None:
    p = _tmp(".csv")
    p.write_bytes(data)
    _check(p, lambda: load(p, contract))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_truncated_real_file_fails_clearly(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"response_id": ["R1", "R2"], "comment": ["İyi", "Kötü"]})
    p = tmp_path / f"r{suffix}"
    if suffix == ".csv":
        df.to_csv(p, index=False)
    elif suffix == ".parquet":
        df.to_parquet(p)
    else:
        df.to_excel(p, index=False)
    full = p.read_bytes()
    for cut in (1, len(full) // 3, len(full) // 2, len(full) - 1):
        p.write_bytes(full[:cut])
        _check(p, lambda: read_table(p))


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    import shutil

    w = tmp_path_factory.mktemp("world") / "w"
    w.mkdir()
    for name in ("responses.parquet", "truth.json"):
        shutil.copy(sample_dir / name, w / name)
    return w


@settings(max_examples=300, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(truth=st.one_of(st.binary(max_size=400), st.just(b"")),
       cut=st.one_of(st.none(), st.integers(0, 5000)),
       table=st.sampled_from(["responses", "customers", "orders"]))
def test_a_damaged_world_folder_loads_or_fails_clearly(small_world: Path, truth: bytes,
                                                       cut: int | None, table: str) -> None:
    import shutil

    from cxlib.data import datasets

    w = Path(tempfile.mkdtemp(prefix="cxworld-")) / "w"
    shutil.copytree(small_world, w)
    (w / "truth.json").write_bytes(truth)
    if cut is not None:  # a responses file cut short (an interrupted copy)
        data = (w / "responses.parquet").read_bytes()
        (w / f"{table}.parquet").write_bytes(data[:cut])
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in w.iterdir()}
    with alarm(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            world = datasets.load(w)
            world.table(table)
            _ = world.truth
        except CxError as exc:
            assert str(exc).strip()
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in w.iterdir()} == before, "raw bytes changed"
    shutil.rmtree(w.parent)
