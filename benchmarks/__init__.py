"""Benchmarks: ``make bench`` runs every ``benchmarks/bench_*.py``.

Each module defines ``run() -> list[dict]``; each row has at least
``benchmark``, ``case``, ``seconds``, and optionally ``peak_mib``, ``ratio``
(against a baseline measured in the same run), ``goal`` and ``met``.
"""
