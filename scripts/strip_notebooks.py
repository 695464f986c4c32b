"""Strip notebook outputs except the key-figure cells checked by nbval.

Usage: python scripts/strip_notebooks.py notebooks/*.ipynb

A code cell keeps its outputs when its source contains ``# NBVAL_CHECK_OUTPUT``
(or its metadata has ``keep_output: true``); every other cell loses outputs
and execution counts.  Notebook metadata keeps only the kernelspec and
language info, so diffs stay small.
"""

from __future__ import annotations

import sys

import nbformat

MARK = "NBVAL_CHECK_OUTPUT"


def strip(path: str) -> bool:
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        keep = MARK in cell.source or cell.metadata.get("keep_output")
        if not keep:
            cell.outputs = []
            cell.execution_count = None
        else:
            # keep text outputs only: figures are not stable across versions
            cell.outputs = [o for o in cell.outputs if o.get("output_type") == "stream"
                            or "text/plain" in o.get("data", {})]
            for o in cell.outputs:
                if "data" in o:
                    o["data"] = {"text/plain": o["data"]["text/plain"]}
                o.pop("metadata", None) if o.get("output_type") == "stream" else None
    keep_meta = {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
    nb.metadata = nbformat.from_dict(keep_meta)
    after = nbformat.writes(nb)
    if after != before:
        nbformat.write(nb, path)
        return True
    return False


if __name__ == "__main__":
    changed = [p for p in sys.argv[1:] if strip(p)]
    for p in changed:
        print(f"stripped {p}")
