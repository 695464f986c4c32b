"""Data layer: contracts, catalogs, exports, wide→long, caches, DuckDB, datasets, store, synth.

May import the core (``cxlib.config``, ``errors``, ``io``, ``methods``, ``i18n``) and
third-party libraries; never ``cxlib.analysis``, ``plots``, ``share`` or ``run``.
"""

__all__: list[str] = []
