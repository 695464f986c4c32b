"""cxlib: the helper library behind the cx research notebooks.

The package is laid out in layers; a module imports only from its own layer
and the layers below it (checked by ``make lint`` and ``tests/core/test_layout.py``):

========================  ==============================================================
``cxlib.config`` …        core: paths (``config``), the exception family (``errors``),
                          file I/O (``io``), the methods record (``methods``), ``i18n``
``cxlib.data``            contracts, catalogs, reading exports, wide→long, caches,
                          DuckDB helpers, datasets, the partitioned store, synthetic worlds
``cxlib.analysis``        one module per analyst question, plus the shared statistics
``cxlib.plots``           one module of seaborn figures per analysis area
``cxlib.share``           results files, rendering, masking and sanitising of shared pages
``cxlib.run``             batch files, parameters, kernels, execution (``cx run``)
``cxlib.cli``             the ``cx`` command
========================  ==============================================================

A new analyst question goes in ``cxlib/analysis/<area>.py``, its figures in
``cxlib/plots/<area>.py``, its notebook ``notebooks/NN_<area>.ipynb`` and its
tests ``tests/analysis/test_<area>*.py``; a formula two areas use goes in
``cxlib/analysis/stats.py``.

The names notebooks use most are available here, imported on first use (so
``import cxlib`` stays cheap)::

    import cxlib
    world = cxlib.load_dataset("sample")
    cxlib.satisfaction.summarize(world.responses, metric="csat")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> (module, attribute or None for the module itself)
_EXPORTS: dict[str, tuple[str, str | None]] = {
    # loading data
    "load_dataset": ("cxlib.data.datasets", "load"),
    "load_catalog": ("cxlib.data.catalog", "load_catalog"),
    "datasets": ("cxlib.data.datasets", None),
    # one module per analyst question
    "coverage": ("cxlib.analysis.coverage", None),
    "satisfaction": ("cxlib.analysis.satisfaction", None),
    "compare": ("cxlib.analysis.compare", None),
    "weighting": ("cxlib.analysis.weighting", None),
    "drivers": ("cxlib.analysis.drivers", None),
    "innovation": ("cxlib.analysis.innovation", None),
    "contacts": ("cxlib.analysis.contacts", None),
    "specialists": ("cxlib.analysis.specialists", None),
    "customers": ("cxlib.analysis.customers", None),
    "profitability": ("cxlib.analysis.profitability", None),
    "service": ("cxlib.analysis.service", None),
    "clv": ("cxlib.analysis.clv", None),
    # recording and sharing what a notebook found
    "Results": ("cxlib.share.results", "Results"),
    "results": ("cxlib.share.results", None),
    "note_method": ("cxlib.methods", "note_method"),
    # languages
    "LANGUAGES": ("cxlib.i18n", "LANGUAGES"),
    # the exception family
    "CxError": ("cxlib.errors", "CxError"),
    "DataError": ("cxlib.errors", "DataError"),
    "CatalogError": ("cxlib.errors", "CatalogError"),
    "ParameterError": ("cxlib.errors", "ParameterError"),
    "EstimationError": ("cxlib.errors", "EstimationError"),
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'cxlib' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
