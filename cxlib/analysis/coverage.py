"""Feedback coverage: where in the journey do we hear from customers, and where not?

A touchpoint nobody is asked about is a *blind spot*: its faults stay invisible
however good the statistics elsewhere are.  A touchpoint with answers from
fewer than ``min_base`` respondents is *low base*: its estimates are flagged,
never dropped.  Both are judged on the touchpoint **together with its
sub-touchpoints** (a store rated only through its checkout is still heard).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cxlib import config
from cxlib.data.catalog import JOURNEY_ID, LANGUAGES, Catalog
from cxlib.errors import DataError, ParameterError
from cxlib.methods import note_method

__all__ = ["STATUSES", "blind_spots", "coverage", "stage_summary"]

#: Coverage statuses, from best to worst.
STATUSES: tuple[str, ...] = ("covered", "low_base", "blind_spot")


def _status(n: pd.Series, min_base: int) -> pd.Series:
    out = pd.Series("covered", index=n.index, dtype=object)
    out[n < min_base] = "low_base"
    out[n == 0] = "blind_spot"
    return out.astype(pd.CategoricalDtype(list(STATUSES), ordered=True))


def coverage(
    responses: pd.DataFrame,
    catalog: Catalog,
    *,
    min_base: int = config.MIN_BASE,
    by: Sequence[str] | str | None = None,
    respondent: str = "response_id",
    metric: str | Sequence[str] | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Count answers and respondents at every touchpoint of a catalog.

    Parameters
    ----------
    responses
        Long responses (one row per answer: ``touchpoint_id``, the
        ``respondent`` column, ``metric``...).  Rows at ``"journey"`` are not
        touchpoints and are counted only in the segment totals.
    catalog
        The touchpoint catalog; every touchpoint gets a row, heard or not.
    min_base
        Minimum number of respondents for a touchpoint to count as covered.
    by
        Segment column(s); one row per touchpoint and per segment combination
        present in ``responses``.
    respondent
        Column identifying a respondent: ``"response_id"`` (default: one
        completed survey) or ``"customer_id"`` (one person, however many surveys).
    metric
        Count only answers of these metric(s) (``"csat"``...); None counts all.
    language
        Language of the ``name`` column (``en``, ``tr`` or ``az``).

    Returns
    -------
    DataFrame
        One row per touchpoint (x segment), in journey order:

        - ``touchpoint_id``, ``name``, ``stage``, ``stage_order``, ``parent``,
          ``depth``, ``is_leaf``, ``owner``: from the catalog.
        - the ``by`` columns.
        - ``n_responses``: answers at the touchpoint itself (own).
        - ``n_respondents``: distinct respondents at the touchpoint itself (own).
        - ``n_responses_all``: answers at the touchpoint and all its descendants.
        - ``n_respondents_all``: distinct respondents who answered at the
          touchpoint or any descendant (each counted once).
        - ``share_respondents``: ``n_respondents_all`` / respondents of the segment
          (all respondents with any answer, ``"journey"`` included).
        - ``status``: ``"blind_spot"`` when ``n_respondents_all`` is 0,
          ``"low_base"`` when below ``min_base``, else ``"covered"`` (ordered categorical).
        - ``status_own``: the same rule on the own count ``n_respondents``.

    Notes
    -----
    Counting rule: a touchpoint :math:`t` with descendants :math:`D(t)` has
    :math:`n^{all}_t = |\\{r : r \\text{ answered at some } u \\in \\{t\\}\\cup D(t)\\}|`.
    Blind spot: :math:`n^{all}_t = 0`; low base: :math:`0 < n^{all}_t < m`
    with :math:`m` = ``min_base``.  Rows with a missing score are still answers
    (a "not applicable" answer is not a row under the responses contract).

    References
    ----------
    Minimum-base flagging as in ESOMAR/GRBN (2014) *Guideline on Customer
    Satisfaction Studies* (report bases; flag small bases rather than suppress).
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    if language not in LANGUAGES:
        raise ParameterError([f"language={language!r}: use one of {list(LANGUAGES)}"])
    if not isinstance(min_base, int) or isinstance(min_base, bool) or min_base < 1:
        raise ParameterError([f"min_base={min_base!r}: give a whole number of respondents >= 1"])
    need = ["touchpoint_id", respondent, *by_cols] + (["metric"] if metric is not None else [])
    missing = [c for c in need if c not in responses.columns]
    if missing:
        raise DataError(
            f"coverage needs column(s) {missing}; the responses have {list(responses.columns)}",
            column=missing[0], rule="required column",
        )
    df = responses[need]
    if metric is not None:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        df = df[df["metric"].isin(metrics)]
    catalog.check_ids(df["touchpoint_id"], source="the responses")
    df = df.assign(touchpoint_id=df["touchpoint_id"].astype(object))
    if by_cols:
        seg_tot = (df.groupby(by_cols, observed=True, dropna=False)[respondent]
                   .nunique().rename("_seg_respondents").reset_index())
        segments = seg_tot[by_cols]
    else:
        seg_tot = pd.DataFrame({"_seg_respondents": [df[respondent].nunique()]})
        segments = None

    tp = df[df["touchpoint_id"] != JOURNEY_ID]
    keys = ["touchpoint_id", *by_cols]
    own = tp.groupby(keys, observed=True, dropna=False).agg(
        n_responses=(respondent, "size"), n_respondents=(respondent, "nunique")
    ).reset_index()
    anc = catalog.ancestry()[["touchpoint_id", "ancestor_id"]]
    rolled = (
        tp.merge(anc, on="touchpoint_id")
        .drop(columns="touchpoint_id")
        .rename(columns={"ancestor_id": "touchpoint_id"})
        .groupby(keys, observed=True, dropna=False)
        .agg(n_responses_all=(respondent, "size"), n_respondents_all=(respondent, "nunique"))
        .reset_index()
    )

    cat = catalog.frame[["touchpoint_id", f"name_{language}", "stage", "stage_order", "parent",
                         "depth", "is_leaf", "owner"]].rename(columns={f"name_{language}": "name"})
    cat = cat.assign(_ord=range(len(cat)))
    grid = cat.merge(segments, how="cross") if segments is not None else cat
    out = grid.merge(own, on=keys, how="left").merge(rolled, on=keys, how="left")
    counts = ["n_responses", "n_respondents", "n_responses_all", "n_respondents_all"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out = out.merge(seg_tot, on=by_cols, how="left") if by_cols else out.assign(
        _seg_respondents=int(seg_tot["_seg_respondents"].iloc[0]))
    denom = out["_seg_respondents"].where(out["_seg_respondents"] > 0)
    out["share_respondents"] = out["n_respondents_all"] / denom
    out["status"] = _status(out["n_respondents_all"], min_base)
    out["status_own"] = _status(out["n_respondents"], min_base)
    out = out.sort_values(["_ord", *by_cols], kind="stable").reset_index(drop=True)

    note_method(
        "feedback coverage",
        "answers and distinct respondents per touchpoint, own and including sub-touchpoints; "
        "blind spot = nobody heard, low base = fewer respondents than the minimum base",
        n=int(df[respondent].nunique()), min_base=min_base, respondent=respondent,
    )
    cols = ["touchpoint_id", "name", "stage", "stage_order", "parent", "depth", "is_leaf",
            "owner", *by_cols, *counts, "share_respondents", "status", "status_own"]
    return out[cols]


def blind_spots(
    responses: pd.DataFrame,
    catalog: Catalog,
    *,
    min_base: int = config.MIN_BASE,
    by: Sequence[str] | str | None = None,
    include_low_base: bool = True,
    **kwargs: object,
) -> pd.DataFrame:
    """Touchpoints we (almost) never hear about: the rows of :func:`coverage`
    whose ``status`` is ``"blind_spot"`` (and ``"low_base"`` when
    ``include_low_base``), worst first, then in journey order.

    Returns
    -------
    DataFrame
        The columns of :func:`coverage` (see there), only the flagged rows.
    """
    cov = coverage(responses, catalog, min_base=min_base, by=by, **kwargs)  # type: ignore[arg-type]
    keep = ["blind_spot", "low_base"] if include_low_base else ["blind_spot"]
    flagged = cov[cov["status"].isin(keep)]
    order = flagged["status"].cat.codes.mul(-1)
    return (flagged.assign(_o=order).sort_values("_o", kind="stable")
            .drop(columns="_o").reset_index(drop=True))


def stage_summary(cov: pd.DataFrame, *, by: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Count touchpoints by stage (and segment) and coverage status.

    Parameters
    ----------
    cov
        Output of :func:`coverage`.
    by
        Segment column(s) of ``cov`` to keep (those passed to :func:`coverage`);
        None counts touchpoint x segment rows together.

    Returns
    -------
    DataFrame
        One row per (segment and) stage, journey order: the ``by`` columns,
        ``stage``, ``n_touchpoints``, ``n_covered``, ``n_low_base``, ``n_blind_spot``.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    keys = [*by_cols, "stage_order", "stage"]
    counts = (cov.groupby(keys, observed=True, sort=True)["status"]
              .value_counts().unstack("status").reindex(columns=list(STATUSES), fill_value=0)
              .fillna(0).astype("int64"))
    counts.columns = [f"n_{c}" for c in counts.columns]
    counts.insert(0, "n_touchpoints", counts.sum(axis=1))
    return counts.reset_index().drop(columns="stage_order")
