"""The layout of cxlib as a contract: layers, private names, module size, public API.

The layer order lives in ``pyproject.toml`` (``[tool.importlinter]``) and is
checked by import-linter, the tool made for this (also run by ``make lint``).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import cxlib

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "cxlib"
MODULES = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Modules may grow to about 800 lines; above this one does two jobs.
MAX_LINES = 850


def _modname(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


def test_layers_contract_is_kept():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


@pytest.mark.parametrize("upward", [
    ("cxlib/analysis/satisfaction.py", "from cxlib.share import results as _r  # noqa\n"),
    ("cxlib/data/catalog.py", "import cxlib.analysis.coverage  # noqa\n"),
    ("cxlib/io.py", "from cxlib.data import schemas as _s  # noqa\n"),
])
def test_an_upward_import_breaks_the_lint(tmp_path, upward):
    """A copy of the package with one import that goes up a layer must fail lint-imports."""
    shutil.copytree(PKG, tmp_path / "cxlib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert _lint(tmp_path).returncode == 0  # the copy itself is clean
    target = tmp_path / upward[0]
    target.write_text(target.read_text(encoding="utf-8") + "\n" + upward[1], encoding="utf-8")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "BROKEN" in out.stdout or "broken" in out.stdout


def test_no_module_imports_another_modules_private_names():
    cx_modules = {_modname(p) for p in MODULES}
    found = []
    for path in MODULES:
        me = _modname(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cxlib"):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in cx_modules:
                        aliases[a.asname or a.name] = full
                    elif a.name.startswith("_") and node.module != me:
                        found.append(f"{me}: from {node.module} import {a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in cx_modules:
                        aliases[a.asname or a.name] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__") and aliases[node.value.id] != me):
                found.append(f"{me}: {aliases[node.value.id]}.{node.attr}")
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_module_is_over_about_800_lines():
    big = {_modname(p): n for p in MODULES
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules doing more than one job (> {MAX_LINES} lines): {big}"


def test_every_module_declares_all_and_a_docstring():
    missing = []
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not ast.get_docstring(tree):
            missing.append(f"{_modname(path)}: no docstring")
        if path.name == "__main__.py" or (path.name == "__init__.py" and path.parent != PKG):
            continue
        names = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                 for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                 if isinstance(t, ast.Name)}
        if "__all__" not in names:
            missing.append(f"{_modname(path)}: no __all__")
    assert not missing, "\n".join(missing)


def test_subpackages_say_what_lives_there_and_what_they_may_import():
    for sub in ("data", "analysis", "plots", "share", "run"):
        doc = ast.get_docstring(ast.parse((PKG / sub / "__init__.py").read_text()))
        assert doc and "import" in doc, f"cxlib.{sub} docstring must say what it may import"


def test_top_level_api_is_lazy_and_complete():
    code = ("import sys, cxlib; heavy = [m for m in ('pandas', 'duckdb', 'statsmodels') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", "import cxlib must not import heavy libraries"
    for name in cxlib.__all__:
        assert getattr(cxlib, name) is not None
    with pytest.raises(AttributeError):
        _ = cxlib.no_such_name


def test_every_imported_third_party_package_is_declared():
    """Every top-level import of cxlib is the standard library, cxlib, or a declared dependency."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {re.split(r"[<>=\[; ]", d, maxsplit=1)[0].lower().replace("-", "_") for d in meta}
    # import name -> distribution name, where they differ
    dist = {"yaml": "pyyaml", "dask": "dask", "distributed": "dask", "bs4": "beautifulsoup4",
            "charset_normalizer": "charset_normalizer", "jupyter_client": "nbclient",
            "IPython": "ipykernel", "ipykernel": "ipykernel", "zmq": "ipykernel",
            "pandera": "pandera", "diff_diff": "diff_diff", "great_tables": "great_tables",
            "sklearn": "scikit_learn", "pyxform": "pyxform", "docx": "python_docx"}
    undeclared = set()
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for n in names:
                top = n.split(".")[0]
                if top in sys.stdlib_module_names or top == "cxlib" or top == "__future__":
                    continue
                d = dist.get(top, top).lower().replace("-", "_")
                if d not in declared:
                    undeclared.add(f"{top} ({_modname(path)})")
    assert not undeclared, f"imported but not declared in pyproject.toml: {sorted(undeclared)}"


def test_py_typed_is_shipped():
    assert (PKG / "py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in data["package-data"]["cxlib"]


def test_tests_mirror_the_package():
    tests = ROOT / "tests"
    loose = [p.name for p in tests.glob("test_*.py")]
    assert not loose, f"tests belong in a layer folder (core, data, analysis, ...): {loose}"
    for p in tests.rglob("test_*.py"):
        assert p.parent.name in {"core", "data", "analysis", "plots", "run", "share",
                                 "notebooks"}, p


#: names retired by the layout issue: one name per idea across notebooks
RETIRED_PARAMETERS = {"segment", "segment_column", "segment_value", "segment_filter_column",
                      "by", "lang"}


def test_notebook_parameters_use_one_name_per_idea():
    """Every notebook: dataset, language and results_path; filters are filter_column and
    filter_value together; a comparison column is compare_by; no retired name."""
    from cxlib.run.params import notebook_parameters

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 6
    for nb in notebooks:
        names = set(notebook_parameters(nb))
        assert {"dataset", "language", "results_path"} <= names, nb.name
        assert not names & RETIRED_PARAMETERS, (nb.name, names & RETIRED_PARAMETERS)
        assert ("filter_column" in names) == ("filter_value" in names), nb.name
