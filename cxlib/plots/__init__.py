"""Plots layer: seaborn figures, one module per analysis area.

May import the core, ``cxlib.data`` and ``cxlib.analysis``; never ``cxlib.share`` or ``run``.
Every plotting function takes a tidy DataFrame (as returned by the matching
computing function), keyword-only options, ``ax=`` (created when None), and
returns the ``Axes``. Computing and drawing are separate functions.
"""

__all__: list[str] = []
