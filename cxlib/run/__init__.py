"""Run layer: batch files, notebook parameters, kernels and the zygote, execution (``cx run``).

May import every layer below it (core, data, analysis, plots, share); only ``cxlib.cli`` imports it.
"""

__all__: list[str] = []
