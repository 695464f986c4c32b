"""Seaborn figures, one submodule per topic.

Every plotting function takes a tidy DataFrame (as returned by the matching
computing function), keyword-only options, ``ax=`` (created when None), and
returns the ``Axes``. Computing and drawing are separate functions.
"""
