"""Analysis layer: one module per analyst question, the shared statistics, the DiD estimators.

May import the core and ``cxlib.data``; never ``cxlib.plots``, ``share`` or ``run``.
A new question goes in ``analysis/<area>.py``; a formula two areas use goes in
``analysis/stats.py``. Functions take tidy DataFrames and return tidy DataFrames
(or result objects whose accessors derive from one ``tidy()`` table).

Shared by every area: ``stats`` (intervals, multiple testing, bootstrap helpers),
``did`` (difference-in-differences estimators and the pre-trend test), ``filters``
(the notebooks' ``filter_column`` / ``filter_value``). Areas: ``coverage``,
``satisfaction`` and ``compare`` (touchpoint satisfaction and its tests),
``weighting`` (raking), ``drivers`` with ``importance`` (Shapley/LMG, relative
weights) and ``driver_value`` (importance–performance, margin per point),
``innovation`` (panel, money, decision); the customer area: ``customers`` (the 360
profile and card), ``profitability`` (cost to serve, whale curve, value groups),
``clv`` (BG/NBD and Gamma-Gamma), ``service`` (self-service, lead times and the
cut-off rule, partner touchpoints).
"""

__all__: list[str] = []
