"""``python -m benchmarks [NAME ...]``: run the benchmarks and print one table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import benchmarks

COLUMNS = ["benchmark", "case", "seconds", "peak_mib", "ratio", "goal", "met"]


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    rows: list[dict] = []
    failed = 0
    for name in names:
        print(f"# running {name} ...", flush=True)
        try:
            rows.extend(importlib.import_module(f"benchmarks.{name}").run())
        except Exception:  # a failing benchmark must not hide the others
            failed += 1
            traceback.print_exc()
            rows.append({"benchmark": name, "case": "FAILED"})
    print()
    print(format_table(rows))
    return 1 if failed else 0


def format_table(rows: list[dict]) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return "" if v is None else str(v)

    cols = COLUMNS + sorted({k for r in rows for k in r} - set(COLUMNS))
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    line = " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, sep, *body])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
