"""Who the specialist is: continuity with one specialist, and staff mood (seed 003).

The analyst's questions: *does continuity with one specialist pay?* and *does
staff mood reach the customer?*

Continuity
    :func:`service_frame` puts on every service answer the specialist serving the
    customer that day (from the relationships table), the years with that
    specialist, the number of specialist changes since the window start and the
    account age; :func:`continuity_effect` regresses CSAT at the service
    touchpoints on relationship length and changes, controlling for segment,
    branch and account age (errors clustered by customer), beside the
    uncontrolled estimate; :func:`customer_continuity` and
    :func:`retention_continuity` do the same for retention (logistic).
    Customers are not assigned at random: the estimate is causal only if, given
    the controls, nothing else drives both continuity and satisfaction (e.g.
    difficult customers being handed on more often). That remains an assumption.
Mood
    :func:`mood_effect` regresses customers' service CSAT on their specialist's
    pulse score in the same and the previous quarter with specialist and quarter
    fixed effects (the within-specialist variation over time; errors clustered by
    specialist; pyfixest), beside the cross-section (quarter effects only).  The
    cross-section compares happy with unhappy specialists, who may differ in other
    ways (skill, branch, customers); the within estimate compares each specialist
    with themselves in good and bad quarters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlib.errors import DataError, EstimationError, ParameterError
from cxlib.methods import note_method

__all__ = ["continuity_effect", "customer_continuity", "mood_effect", "retention_continuity",
           "service_frame"]

_DAYS_PER_YEAR = 365.25


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; it has {list(df.columns)[:20]}",
                        column=missing[0], rule="required column")


def _relations(relationships: pd.DataFrame) -> pd.DataFrame:
    _require(relationships, ["customer_id", "specialist_id", "start_date", "end_date"],
             "relationships")
    rel = relationships[["customer_id", "specialist_id", "start_date", "end_date"]].copy()
    rel["customer_id"] = rel["customer_id"].astype(str)
    rel["specialist_id"] = rel["specialist_id"].astype(str)
    rel["start_date"] = pd.to_datetime(rel["start_date"]).astype("datetime64[ns]")
    rel["end_date"] = pd.to_datetime(rel["end_date"]).astype("datetime64[ns]")
    bad = rel["end_date"].notna() & (rel["end_date"] < rel["start_date"])
    if bad.any():
        raise DataError("a relationship ends before it starts", column="end_date",
                        rule="end_date >= start_date", rows=rel[bad])
    rel = rel.sort_values(["customer_id", "start_date"], kind="stable").reset_index(drop=True)
    rel["first"] = ~rel["customer_id"].duplicated()
    return rel


def _at_dates(rel: pd.DataFrame, cust: pd.Series, dates: pd.Series, since: pd.Timestamp
              ) -> pd.DataFrame:
    """Specialist, years with them and changes since ``since`` at each (customer, date)."""
    q = pd.DataFrame({"customer_id": cust.astype(str).to_numpy(),
                      "date": pd.to_datetime(dates).to_numpy().astype("datetime64[ns]"),
                      "_row": np.arange(len(cust))})
    q = q.sort_values("date", kind="stable")
    r = rel.sort_values("start_date", kind="stable")
    cur = pd.merge_asof(q, r[["customer_id", "specialist_id", "start_date", "end_date"]],
                        left_on="date", right_on="start_date", by="customer_id",
                        direction="backward")
    ended = cur["end_date"].notna() & (cur["end_date"] <= cur["date"])
    cur.loc[ended, ["specialist_id", "start_date"]] = [None, pd.NaT]
    ch = r[~r["first"] & (r["start_date"] >= pd.Timestamp(since))][["customer_id",
                                                                     "start_date"]]
    ch = ch.assign(n=1)
    ch["n"] = ch.groupby("customer_id")["n"].cumsum()
    cnt = pd.merge_asof(q, ch.rename(columns={"start_date": "cd"}), left_on="date",
                        right_on="cd", by="customer_id", direction="backward")
    cur["specialist_changes"] = cnt["n"].fillna(0).to_numpy()
    cur["relationship_years"] = (cur["date"] - cur["start_date"]).dt.days / _DAYS_PER_YEAR
    return cur.sort_values("_row")[["specialist_id", "relationship_years",
                                    "specialist_changes"]].reset_index(drop=True)


def service_frame(responses: pd.DataFrame, relationships: pd.DataFrame,
                  customers: pd.DataFrame, *, touchpoints: Sequence[str] = ("after_sales_staff",),
                  metric: str = "csat", pulse: pd.DataFrame | None = None,
                  since: str | None = None) -> pd.DataFrame:
    """Service answers with the specialist, continuity and (optionally) mood attached.

    Parameters
    ----------
    responses
        The responses contract; rows of ``metric`` at ``touchpoints`` are kept.
    relationships
        customer_id, specialist_id, start_date, end_date (empty = current).
    customers
        customer_id, plus segment, branch_id, signup_date when present.
    touchpoints, metric
        The service touchpoints and the metric read there.
    pulse
        Optional pulse table: employee_id, quarter_start, score (1-5).
    since
        Changes are counted from this date (default: the first service answer's
        month).

    Returns
    -------
    DataFrame
        One row per service answer: response_id, customer_id, date, score,
        specialist_id (the relationship open that day; rows without one are dropped
        and counted in ``attrs["dropped_no_specialist"]``), relationship_years,
        specialist_changes, account_age_years (when signup_date exists), segment,
        branch_id, quarter_start, and with ``pulse``: pulse (same quarter),
        pulse_prev (previous quarter).

    Raises
    ------
    DataError
        Missing columns; relationships that end before they start.
    """
    _require(responses, ["customer_id", "date", "touchpoint_id", "metric", "score"],
             "responses")
    _require(customers, ["customer_id"], "customers")
    rel = _relations(relationships)
    r = responses[(responses["metric"] == metric)
                  & responses["touchpoint_id"].astype(str).isin(list(touchpoints))]
    if r.empty:
        raise EstimationError(f"no {metric} answers at {list(touchpoints)}: name the service "
                              "touchpoints of this dataset")
    cols = [c for c in ("response_id", "customer_id", "date", "score") if c in r]
    out = r[cols].reset_index(drop=True).copy()
    out["customer_id"] = out["customer_id"].astype(str)
    out["date"] = pd.to_datetime(out["date"])
    start = pd.Timestamp(since) if since else out["date"].min().to_period("M").start_time
    at = _at_dates(rel, out["customer_id"], out["date"], start)
    out = pd.concat([out, at], axis=1)
    cust = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index(
        "customer_id")
    for c in ("segment", "branch_id"):
        if c in cust:
            out[c] = out["customer_id"].map(cust[c])
    if "signup_date" in cust:
        signup = out["customer_id"].map(pd.to_datetime(cust["signup_date"]))
        out["account_age_years"] = (out["date"] - signup).dt.days / _DAYS_PER_YEAR
    out["quarter_start"] = out["date"].dt.to_period("Q").dt.start_time
    if pulse is not None:
        _require(pulse, ["employee_id", "quarter_start", "score"], "pulse")
        p = pulse.assign(employee_id=pulse["employee_id"].astype(str),
                         quarter_start=pd.to_datetime(pulse["quarter_start"]))
        bad = (p["score"] < 1) | (p["score"] > 5)
        if bad.any():
            raise DataError("pulse scores must lie in [1, 5]", column="score",
                            rule="in range [1, 5]", rows=p[bad])
        key = p.set_index(["employee_id", "quarter_start"])["score"]
        if key.index.duplicated().any():
            raise DataError("one pulse score per specialist and quarter, please",
                            column="quarter_start", rule="unique (employee_id, quarter_start)",
                            rows=p[key.index.duplicated()])
        prev = out["quarter_start"] - pd.offsets.QuarterBegin(startingMonth=1)
        out["pulse"] = key.reindex(pd.MultiIndex.from_arrays(
            [out["specialist_id"], out["quarter_start"]])).to_numpy()
        out["pulse_prev"] = key.reindex(pd.MultiIndex.from_arrays(
            [out["specialist_id"], prev])).to_numpy()
    dropped = int(out["specialist_id"].isna().sum())
    out = out[out["specialist_id"].notna()].reset_index(drop=True)
    out.attrs["dropped_no_specialist"] = dropped
    return out


def customer_continuity(relationships: pd.DataFrame, customers: pd.DataFrame, *, at: str,
                        since: str) -> pd.DataFrame:
    """Years with the current specialist and changes since ``since``, per customer at ``at``.

    Returns
    -------
    DataFrame
        customer_id, specialist_id, relationship_years, specialist_changes (customers
        without a relationship open at ``at`` have NaN).
    """
    rel = _relations(relationships)
    ids = customers["customer_id"].astype(str).reset_index(drop=True)
    at_ = _at_dates(rel, ids, pd.Series(pd.Timestamp(at), index=ids.index), pd.Timestamp(since))
    return pd.concat([ids.rename("customer_id"), at_], axis=1)


def _design(df: pd.DataFrame, terms: Sequence[str], controls: Sequence[str]) -> pd.DataFrame:
    """Intercept, ``terms`` and the controls (categorical as dummies, first level dropped)."""
    cols = {"Intercept": np.ones(len(df))}
    for t in terms:
        cols[t] = df[t].to_numpy(float)
    for c in controls:
        if c not in df:
            raise DataError(f"control {c!r} is not a column of the data", column=c,
                            rule="control exists")
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols[c] = s.to_numpy(float)
        else:
            cat = pd.Categorical(s.astype(str))
            for j, v in enumerate(cat.categories[1:], start=1):
                cols[f"{c}[{v}]"] = (np.asarray(cat.codes) == j).astype(float)
    return pd.DataFrame(cols)


def _ols_cluster(df: pd.DataFrame, outcome: str, terms: Sequence[str],
                 controls: Sequence[str], cluster: str, alpha: float, label: str
                 ) -> pd.DataFrame:
    import statsmodels.api as sm

    X = _design(df, terms, controls)
    fit = sm.OLS(df[outcome].to_numpy(float), X).fit(
        method="qr", cov_type="cluster", cov_kwds={"groups": pd.factorize(df[cluster])[0]})
    ci = fit.conf_int(alpha)
    return pd.DataFrame({"model": label, "term": list(terms),
                         "estimate": [float(fit.params[t]) for t in terms],
                         "se": [float(fit.bse[t]) for t in terms],
                         "ci_low": [float(ci.loc[t, 0]) for t in terms],
                         "ci_high": [float(ci.loc[t, 1]) for t in terms],
                         "p_value": [float(fit.pvalues[t]) for t in terms],
                         "n": int(fit.nobs), "n_clusters": int(df[cluster].nunique())})


def _controls_formula(df: pd.DataFrame, controls: Sequence[str]) -> str:
    parts = []
    for c in controls:
        if c not in df:
            raise DataError(f"control {c!r} is not a column of the data", column=c,
                            rule="control exists")
        s = df[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        parts.append(f"Q('{c}')" if numeric else f"C(Q('{c}'))")
    return " + ".join(parts)


def continuity_effect(frame: pd.DataFrame, *, outcome: str = "score",
                      controls: Sequence[str] = ("segment", "branch_id", "account_age_years"),
                      cluster: str = "customer_id", alpha: float = 0.05) -> pd.DataFrame:
    """Effect of relationship length and specialist changes on service CSAT.

    Parameters
    ----------
    frame
        :func:`service_frame` rows.
    outcome
        The score column.
    controls
        Adjusted for (categorical as dummies, numeric linearly).
    cluster
        Errors clustered on this column (a customer answers several times).

    Returns
    -------
    DataFrame
        model (``controlled`` / ``uncontrolled``), term (``relationship_years``,
        ``specialist_changes``), estimate (score points per year / per change), se,
        ci_low, ci_high, p_value, n, n_clusters.

    Notes
    -----
    OLS ``score = a + b_L years + b_k changes + controls + e`` with cluster-robust
    (CR1) standard errors (statsmodels). The controlled estimate is causal only if
    segment, branch and account age capture everything that drives both continuity
    and satisfaction: an assumption, not something the data prove.

    References
    ----------
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust
    inference. *Journal of Human Resources* 50(2), 317-372.
    """
    need = [outcome, "relationship_years", "specialist_changes", cluster, *controls]
    _require(frame, need, "the service frame")
    df = frame[need].dropna().reset_index(drop=True)
    if len(df) < 30 or df["relationship_years"].nunique() < 3:
        raise EstimationError(f"only {len(df)} service answers with a specialist: too few for a "
                              "continuity estimate")
    terms = ["relationship_years", "specialist_changes"]
    out = pd.concat([
        _ols_cluster(df, outcome, terms, controls, cluster, alpha, "controlled"),
        _ols_cluster(df, outcome, terms, (), cluster, alpha, "uncontrolled")],
        ignore_index=True)
    note_method("specialist continuity", "OLS with cluster-robust (CR1) errors by customer",
                controls=list(controls), n=len(df),
                reference="Cameron & Miller (2015)")
    return out


def retention_continuity(data: pd.DataFrame, *, outcome: str = "retained",
                         controls: Sequence[str] = ("segment", "branch_id", "account_age_years"),
                         dose: str | None = "proactive_per_month", df: int = 4,
                         alpha: float = 0.05) -> pd.DataFrame:
    """Log-odds of retention per year with the same specialist and per change.

    Parameters
    ----------
    data
        One row per customer with ``outcome`` (0/1), relationship_years,
        specialist_changes and the controls (:func:`customer_continuity` merged on
        :func:`cxlib.analysis.contacts.customer_rates`).
    dose
        A contact-rate column entered as a cubic spline (``bs(dose, df)``), since
        contacts move retention too; None leaves it out.

    Returns
    -------
    DataFrame
        term, estimate (log-odds), se, ci_low, ci_high, odds_ratio, p_value, n.

    Notes
    -----
    Logistic regression (statsmodels GLM Binomial) with robust (HC1) errors.
    """
    import statsmodels.formula.api as smf
    from statsmodels.genmod.families import Binomial

    need = [outcome, "relationship_years", "specialist_changes", *controls,
            *([dose] if dose else [])]
    _require(data, need, "the customer data")
    d = data[need].dropna().reset_index(drop=True)
    if not d[outcome].isin([0, 1]).all():
        raise DataError(f"{outcome} must be 0/1", column=outcome, rule="in {0, 1}")
    if len(d) < 50:
        raise EstimationError(f"only {len(d)} customers: too few for a retention model")
    f = f"Q('{outcome}') ~ relationship_years + specialist_changes"
    ctrl = _controls_formula(d, controls)
    if ctrl:
        f += f" + {ctrl}"
    if dose:
        f += f" + bs(Q('{dose}'), df={int(df)})"
    fit = smf.glm(f, data=d, family=Binomial()).fit(cov_type="HC1")
    terms = ["relationship_years", "specialist_changes"]
    ci = fit.conf_int(alpha)
    note_method("specialist continuity and retention", "logistic regression, HC1 errors",
                controls=list(controls), n=len(d))
    return pd.DataFrame({"term": terms, "estimate": [float(fit.params[t]) for t in terms],
                         "se": [float(fit.bse[t]) for t in terms],
                         "ci_low": [float(ci.loc[t, 0]) for t in terms],
                         "ci_high": [float(ci.loc[t, 1]) for t in terms],
                         "odds_ratio": [float(np.exp(fit.params[t])) for t in terms],
                         "p_value": [float(fit.pvalues[t]) for t in terms], "n": len(d)})


def mood_effect(frame: pd.DataFrame, *, outcome: str = "score", pulse: str = "pulse",
                lag: str | None = "pulse_prev", specialist: str = "specialist_id",
                period: str = "quarter_start", alpha: float = 0.05) -> pd.DataFrame:
    """Staff mood -> customers' satisfaction: within-specialist and cross-section.

    Parameters
    ----------
    frame
        :func:`service_frame` rows with ``pulse`` (and ``lag``) attached.
    outcome, pulse, lag, specialist, period
        Column names: the customer score, the specialist's pulse in the same
        quarter, in the previous quarter (None: same quarter only), the specialist
        and the quarter.

    Returns
    -------
    DataFrame
        model (``within_specialist``: specialist and quarter fixed effects;
        ``cross_section``: quarter fixed effects only), term (``pulse``,
        ``pulse_prev``), estimate (score points per pulse point), se, ci_low,
        ci_high, p_value, n, n_specialists.

    Notes
    -----
    ``score_icq = b0 pulse_jq + b1 pulse_j,q-1 + a_j + g_q + e`` (pyfixest ``feols``,
    CRV1 errors clustered by specialist, t(G - 1) intervals). The within estimate
    uses only each specialist's changes of mood over time, so anything constant
    about a specialist (skill, branch, customers) cannot bias it; the
    cross-section also compares specialists with each other and mixes mood with
    those differences.

    References
    ----------
    Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel
    Data*, 2nd ed., ch. 10. Bergé, L. (2018). Efficient estimation of maximum
    likelihood models with multiple fixed-effects (fixest).
    """
    import pyfixest as pf

    if not 0 < alpha < 1:
        raise ParameterError([f"alpha={alpha}: need 0 < alpha < 1"], source="mood_effect")
    terms = [pulse, *([lag] if lag else [])]
    need = [outcome, *terms, specialist, period]
    _require(frame, need, "the service frame")
    d = frame[need].dropna().reset_index(drop=True)
    if d[specialist].nunique() < 10:
        raise EstimationError(f"only {d[specialist].nunique()} specialists with pulse scores: "
                              "clustered errors need at least 10 (better 30+)")
    d = d.rename(columns={outcome: "y_", specialist: "spec_", period: "period_"})
    d["spec_"] = d["spec_"].astype(str)
    d["period_"] = d["period_"].astype(str)
    rhs = " + ".join(terms)
    rows = []
    for label, fe in (("within_specialist", "spec_ + period_"), ("cross_section", "period_")):
        fit = pf.feols(f"y_ ~ {rhs} | {fe}", data=d, vcov={"CRV1": "spec_"})
        tid = fit.tidy(alpha=alpha)
        for t in terms:
            row = tid.loc[t]
            rows.append({"model": label, "term": t, "estimate": float(row["Estimate"]),
                         "se": float(row["Std. Error"]),
                         "ci_low": float(row.iloc[list(tid.columns).index("Pr(>|t|)") + 1]),
                         "ci_high": float(row.iloc[list(tid.columns).index("Pr(>|t|)") + 2]),
                         "p_value": float(row["Pr(>|t|)"]), "n": len(d),
                         "n_specialists": int(d["spec_"].nunique())})
    note_method("staff mood -> customer satisfaction",
                "pyfixest feols, specialist and quarter fixed effects, CRV1 by specialist; "
                "beside the cross-section with quarter effects only", n=len(d),
                reference="Wooldridge (2010), ch. 10")
    return pd.DataFrame(rows)
