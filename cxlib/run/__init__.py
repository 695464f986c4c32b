"""Run layer: batch files, notebook parameters, kernels and the zygote, execution (``cx run``).

May import every layer below it (core, data, analysis, plots, share); only ``cxlib.cli`` imports it.

``batchfile`` (the batch file: schema, grid, job ids), ``params`` (jobs checked
against a notebook's parameters cell and the data), ``kernels`` and ``zygote``
(warm forked kernels), ``workers`` (one job; local and Dask pools), ``batch``
(the run: manifest, resume, dead runs, ``cx run``).
"""

from cxlib.run.kernels import skip_slow_optional_imports

# Before anything here imports nbformat: its jsonschema would otherwise import a
# grammar package for seconds, in `cx run` and in every worker (cxlib.run.kernels).
skip_slow_optional_imports()

__all__: list[str] = []
