"""Share layer: results files, rendering of shared reports, masking and sanitising.

May import the core, ``cxlib.data``, ``cxlib.analysis`` and ``cxlib.plots``; never ``cxlib.run``.
"""

__all__: list[str] = []
