"""cxlib: the helper library behind the cx research notebooks.

Modules are named for what they mean to an analyst and imported on demand
(``from cxlib import metrics``), so that importing ``cxlib`` stays cheap.
"""

__version__ = "0.1.0"
