"""Analysis layer: one module per analyst question, the shared statistics, the DiD estimators.

May import the core and ``cxlib.data``; never ``cxlib.plots``, ``share`` or ``run``.
A new question goes in ``analysis/<area>.py``; a formula two areas use goes in
``analysis/stats.py``. Functions take tidy DataFrames and return tidy DataFrames
(or result objects whose accessors derive from one ``tidy()`` table).
"""

__all__: list[str] = []
