"""Sub-generator ``care``: contact dose, specialist continuity and staff mood (seed 003).

A service line like the one of seed 003 (a supplier of a complex product whose
service specialists call on customers): the company contacts customers
proactively (its lever), customers call in when something went wrong, each
customer has a history of specialists, and specialists answer a pulse survey
every quarter.  Every draw comes from this module's own random stream, so the
core world's tables are unchanged.

Where it goes
-------------
:func:`care` (listed in ``world.SUB_GENERATORS``) writes a complete small world
of this model into ``<world>/care/`` (customers, contacts, responses,
employees, relationships, pulse and its own ``truth.json``; load it with
``datasets.load(<world>/care)``); the parent's ``truth.json["care"]`` holds the
same truth.  It is a separate population (customer ids ``K...``, specialists
``S...``): the core world's satisfaction is planted on its *total* contact
level, so its contacts cannot carry this model without changing its responses.
:func:`simulate_care` draws the same model in memory (coverage tests, benchmark),
optionally without the large contact rows.

The model (every constant below lands in ``truth["constants"]``)
----------------------------------------------------------------
Customer ``i`` of segment ``s`` and branch ``b``, account age ``A_i`` years at the
window start, observed for 24 months:

* **Proactive contacts** (the dose): a planned rate ``r_i ~ Gamma(PROACTIVE_SHAPE,
  TODAY_RATE[s] / PROACTIVE_SHAPE)`` clipped to ``PROACTIVE_MAX``; monthly counts
  ``Poisson(r_i)``; the dose is the realised rate ``x_i = total / 24``.  Channels
  by :data:`PROACTIVE_CHANNEL_P` (a visit goes to ``after_sales_staff``, the rest
  to ``crm``).
* **Satisfaction**: ``p_i = SAT_BASE + SEG_SAT[s] + c_b + AGE_SAT (A_i - 5)
  - SAT_CURVATURE (x_i - OPTIMUM[s])^2 + N(0, SAT_SD^2)``, ``c_b ~ U(-BRANCH_SAT,
  BRANCH_SAT)``; overall satisfaction (1-10) ``= 1 + Binomial(9, p_i)``, answered at
  the end by a share :data:`OVERALL_RESPONSE` of customers.  Because a binomial
  score's mean is linear in ``p``, ``E[overall | x, s, b] = const + 9 g_s(x)``:
  exactly a spline in ``x`` plus branch terms, peaking at ``OPTIMUM[s]``.
* **Inbound contacts** (a symptom): ``Poisson`` with monthly rate ``INBOUND_BASE[s]
  exp(-INBOUND_PER_SAT (p_i - SAT_BASE))``: they rise when satisfaction falls, so a
  curve on total contacts mixes cause and symptom.  Each is a complaint with
  probability ``expit(COMPLAINT_LOGIT - COMPLAINT_PER_SAT (p_i - SAT_BASE))``.
* **Relationships**: the first specialist (of the branch) started ``A_i U`` years
  before the window, ``U ~ U(0, 1)``; changes arrive as a Poisson process of
  ``CHANGE_RATE[s]`` a year during the window, each to another specialist of the
  branch.  ``L`` = years with the current specialist, ``k`` = changes since the
  window start, both at the date they are measured.
* **Pulse**: specialist ``j`` has a level ``m_j ~ U(*PULSE_LEVEL)`` and quarterly
  scores ``clip(m_j + AR(1), 1, 5)`` (coefficient ``PULSE_AR``, sd ``PULSE_SD``),
  from the quarter before the window.
* **Service CSAT** (``after_sales_staff``, 1-5, a share :data:`SERVICE_RESPONSE`
  of customer-quarters): ``1 + Binomial(4, q)``, ``q = SERVICE_BASE + SEG_SAT[s]
  + c_b + AGE_SAT (A - 5) - SAT_CURVATURE (x_i - OPTIMUM[s])^2 + CONT_PER_YEAR L
  + CONT_PER_CHANGE k + MOOD (pulse_jq - 3.5) + MOOD_LAG (pulse_j,q-1 - 3.5)
  + SPEC_CONFOUND (m_j - 3.5) + N(0, SAT_SD^2)``.  ``SPEC_CONFOUND``: specialists
  who are happier on average are also better at the job, so a cross-section of
  pulse against CSAT overstates the mood effect; within a specialist over time it
  is ``4 MOOD`` CSAT points per pulse point.
* **Retention** (renewed at the end): ``logit = RET_BASE[s] + e_b + RET_PER_SAT
  (p_i - SAT_BASE) - RET_CURVATURE (x_i - OPTIMUM[s])^2 + RET_PER_YEAR L
  + RET_PER_CHANGE k``, ``e_b ~ N(0, BRANCH_RET_SD^2)``, ``L, k`` at the window end:
  unhappy customers both call in and leave, and both terms peak at ``OPTIMUM[s]``.
* **Money** (truth only; the analysis takes these as parameters): unit costs per
  channel :data:`UNIT_COST`, yearly margin of a retained customer
  :data:`VALUE_RETAINED` and margin per overall point per year
  :data:`VALUE_PER_POINT`: ``V_s(x) = VALUE_RETAINED[s] P_s(x) + VALUE_PER_POINT
  E[overall | x] - 12 (x c_pro + I_s(x) c_in)``, ``c`` the expected unit cost of a
  contact of that direction, ``P_s`` and ``I_s`` the population retention and
  inbound curves.

Truth (``truth["thresholds"]``, ``truth["money"]``, ``truth["continuity"]``,
``truth["mood"]``): the segment thresholds are ``OPTIMUM[s]`` exactly; the
overall satisfaction threshold is the segment-share average of the optima (same
curvature); the retention and money curves average ``expit`` over the branches
and the distribution of ``(L, k)``, integrated numerically with a fixed sample of
:data:`TRUTH_DRAWS` draws (stated in the truth); effects on CSAT are exact
(``4 x`` the planted ``q`` coefficients).
"""

from __future__ import annotations

import json
import math
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from cxlib.errors import ParameterError

__all__ = ["NOT_PLANTED", "care", "care_truth", "planted_constants", "simulate_care",
           "write_care_world"]

# ------------------------------------------------------------------ constants
SEGMENTS = ("mass", "affluent", "business")
SEGMENT_P = (0.6, 0.28, 0.12)
N_BRANCHES = 15
SPECIALISTS_PER_BRANCH = 4
CARE_START = "2024-01-01"
CARE_MONTHS = 24
#: today's mean planned proactive contacts per month, by segment
TODAY_RATE = {"mass": 0.9, "affluent": 1.7, "business": 2.8}
PROACTIVE_SHAPE = 3.0
PROACTIVE_MAX = 5.0
#: proactive contacts per month where satisfaction and retention peak, by segment
OPTIMUM = {"mass": 1.2, "affluent": 1.6, "business": 2.2}
SAT_BASE = 0.62
SEG_SAT = {"mass": 0.0, "affluent": 0.03, "business": -0.02}
BRANCH_SAT = 0.04
AGE_SAT = 0.004
SAT_CURVATURE = 0.04
SAT_SD = 0.05
OVERALL_RESPONSE = 0.6
INBOUND_BASE = {"mass": 0.35, "affluent": 0.45, "business": 0.6}
INBOUND_PER_SAT = 8.0
COMPLAINT_LOGIT = -1.2
COMPLAINT_PER_SAT = 10.0
ACCOUNT_AGE = (0.5, 12.0)
CHANGE_RATE = {"mass": 0.45, "affluent": 0.3, "business": 0.15}
PULSE_LEVEL = (2.3, 4.5)
PULSE_AR = 0.5
PULSE_SD = 0.45
SERVICE_BASE = 0.58
SERVICE_RESPONSE = 0.4
CONT_PER_YEAR = 0.012
CONT_PER_CHANGE = -0.035
MOOD = 0.03
MOOD_LAG = 0.015
MOOD_CENTRE = 3.5
SPEC_CONFOUND = 0.06
RET_BASE = {"mass": 1.2, "affluent": 1.6, "business": 2.0}
BRANCH_RET_SD = 0.15
RET_CURVATURE = 0.45
RET_PER_YEAR = 0.05
RET_PER_CHANGE = -0.25
RET_PER_SAT = 6.0
PROACTIVE_CHANNEL_P = {"phone": 0.45, "email": 0.30, "sms": 0.15, "visit": 0.10}
INBOUND_CHANNEL_P = {"phone": 0.6, "email": 0.15, "messenger": 0.15, "branch": 0.10}
UNIT_COST = {"phone": 1.2, "email": 0.1, "sms": 0.05, "visit": 12.0, "messenger": 0.6,
             "branch": 4.0}
VALUE_RETAINED = {"mass": 300.0, "affluent": 800.0, "business": 2000.0}
VALUE_PER_POINT = 25.0
CARE_REGIONS = ("Baku", "Ganja", "Istanbul", "Ankara")
TRUTH_DRAWS = 60_000

#: Upper-case names that are not planted model parameters.
NOT_PLANTED = frozenset({"NOT_PLANTED", "CARE_REGIONS", "TRUTH_DRAWS"})

_TP_PROACTIVE = {"visit": "after_sales_staff"}  # other proactive channels: crm
_TP_INBOUND = "customer_service_centre_post"
_TP_SERVICE = "after_sales_staff"
_DAYS_PER_YEAR = 365.25


def planted_constants() -> dict[str, Any]:
    """Every upper-case constant of this module except :data:`NOT_PLANTED`, JSON-ready."""
    mod = sys.modules[__name__]
    return {n: json.loads(json.dumps(getattr(mod, n))) for n in sorted(vars(mod))
            if n.isupper() and not n.startswith("_") and n not in NOT_PLANTED}


def _seg_arr(d: dict[str, float]) -> np.ndarray:
    return np.array([d[s] for s in SEGMENTS], dtype=float)


def _calendar(n_months: int) -> tuple[np.ndarray, np.ndarray]:
    """Day offset of each month start (n_months + 1 entries) and the start date."""
    start = np.datetime64(CARE_START, "D")
    months = np.arange(np.datetime64(CARE_START, "M"), np.datetime64(CARE_START, "M")
                       + n_months + 1)
    return (months.astype("datetime64[D]") - start).astype(np.int64), start


# ================================================================ core draws
def _customers(rng: np.random.Generator, n: int, n_months: int, n_branches: int,
               spb: int) -> dict[str, np.ndarray]:
    """Customer-level draws: segment, branch, account age, dose, latent satisfaction."""
    seg = rng.choice(3, n, p=np.array(SEGMENT_P))
    branch = rng.integers(0, n_branches, n)
    age = rng.uniform(*ACCOUNT_AGE, n)
    rate = np.minimum(rng.gamma(PROACTIVE_SHAPE, _seg_arr(TODAY_RATE)[seg] / PROACTIVE_SHAPE),
                      PROACTIVE_MAX)
    n_pro = rng.poisson(rate * n_months)
    x = n_pro / n_months
    return {"seg": seg, "branch": branch, "age": age, "rate": rate, "n_pro": n_pro, "x": x}


def _branch_effects(rng: np.random.Generator, n_branches: int) -> tuple[np.ndarray, np.ndarray]:
    return (rng.uniform(-BRANCH_SAT, BRANCH_SAT, n_branches),
            rng.normal(0.0, BRANCH_RET_SD, n_branches))


def _dose_curve(x: np.ndarray, seg: np.ndarray) -> np.ndarray:
    return -SAT_CURVATURE * (x - _seg_arr(OPTIMUM)[seg]) ** 2


def _relationships(rng: np.random.Generator, seg: np.ndarray, branch: np.ndarray,
                   age: np.ndarray, n_days: int, spb: int) -> dict[str, np.ndarray]:
    """First start (day offset, negative), change days (padded with a large number) and
    the specialist sequence (global specialist index) of every customer."""
    n = len(seg)
    first_start = -1 - np.floor(age * rng.random(n) * _DAYS_PER_YEAR).astype(np.int64)
    k = rng.poisson(_seg_arr(CHANGE_RATE)[seg] * n_days / _DAYS_PER_YEAR)
    kmax = int(k.max()) if n else 0
    # distinct days (at most one change a day): sorted draws shifted by their rank
    days = (np.sort(rng.integers(0, n_days - max(kmax, 1), (n, max(kmax, 1))), axis=1)
            + np.arange(max(kmax, 1))[None, :])
    big = np.iinfo(np.int64).max // 4
    days = np.where(np.arange(max(kmax, 1))[None, :] < k[:, None], days, big)
    local0 = rng.integers(0, spb, n)
    steps = rng.integers(1, spb, (n, max(kmax, 1)))  # never the same specialist again
    local = (local0[:, None] + np.concatenate([np.zeros((n, 1), np.int64),
                                               np.cumsum(steps, 1)], 1)) % spb
    spec = branch[:, None] * spb + local
    return {"first_start": first_start, "change_days": days, "k": k, "spec": spec}


def _at(rel: dict[str, np.ndarray], cust: np.ndarray, day: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Specialist, years with them and changes so far, for customers ``cust`` at ``day``."""
    cd = rel["change_days"][cust]
    k = (cd <= day[:, None]).sum(1)
    start = np.where(k > 0, np.take_along_axis(cd, np.maximum(k - 1, 0)[:, None], 1)[:, 0],
                     rel["first_start"][cust])
    spec = np.take_along_axis(rel["spec"][cust], k[:, None], 1)[:, 0]
    return spec, (day - start) / _DAYS_PER_YEAR, k


def _pulse(rng: np.random.Generator, n_spec: int, n_quarters: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Specialist levels and (n_spec, n_quarters + 1) scores, column 0 = quarter before."""
    level = rng.uniform(*PULSE_LEVEL, n_spec)
    e = np.empty((n_spec, n_quarters + 1))
    e[:, 0] = rng.normal(0.0, PULSE_SD, n_spec)
    k = math.sqrt(1 - PULSE_AR**2)
    for q in range(1, n_quarters + 1):
        e[:, q] = PULSE_AR * e[:, q - 1] + k * rng.normal(0.0, PULSE_SD, n_spec)
    return level, np.clip(np.round(level[:, None] + e, 2), 1.0, 5.0)


def _check(n_customers: int, n_months: int, n_branches: int, spb: int) -> None:
    problems = []
    if int(n_customers) < 50:
        problems.append(f"n_customers={n_customers}: need at least 50")
    if int(n_months) < 6 or int(n_months) % 3:
        problems.append(f"n_months={n_months}: need a multiple of 3, at least 6")
    if int(n_branches) < 2 or int(spb) < 2:
        problems.append(f"n_branches={n_branches}, specialists_per_branch={spb}: "
                        "need at least 2 each")
    if problems:
        raise ParameterError(problems, source="simulate_care")


def simulate_care(n_customers: int = 3000, *, seed: int, n_months: int = CARE_MONTHS,
                  n_branches: int = N_BRANCHES,
                  specialists_per_branch: int = SPECIALISTS_PER_BRANCH,
                  tables: tuple[str, ...] = ("customers", "contacts", "responses", "employees",
                                             "relationships", "pulse", "rates"),
                  contact_ids: bool = True,
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """A care world of ``n_customers`` in memory (see the module docstring).

    Parameters
    ----------
    n_customers
        Customers (each observed ``n_months`` months from 2024-01-01).
    seed
        Seed: different seeds give independent worlds of the same model.
    n_months
        Months observed (a multiple of 3).
    n_branches, specialists_per_branch
        Branches ``B01``... and specialists ``S001``... per branch.
    tables
        Which tables to build: ``customers``, ``contacts`` (the large one: one row per
        contact), ``responses``, ``employees``, ``relationships``, ``pulse`` and
        ``rates`` (one row per customer with the counts of contacts by direction,
        i.e. what :func:`cxlib.analysis.contacts.customer_rates` computes from contacts
        and customers, for fast simulations that skip the contact rows).
    contact_ids
        False leaves ``contact_id`` out of ``contacts`` (benchmarks with tens of millions
        of contacts: the ids are the largest column and no analysis reads them).

    Returns
    -------
    tables : dict of DataFrame
        ``customers``: customer_id, segment, region, branch_id, specialist_id (at the
        end), signup_date, retained. ``contacts``: contact_id, customer_id, date,
        channel, direction, touchpoint_id, complaint (categorical columns for
        customer_id, channel, direction, touchpoint_id). ``responses``: response_id,
        customer_id, date, touchpoint_id, metric, score, scale_min, scale_max,
        segment, branch_id (overall on ``journey``; service CSAT on
        ``after_sales_staff``). ``employees``: employee_id, branch_id, role,
        satisfaction (mean pulse), tenure_years, accounts_served. ``relationships``:
        customer_id, specialist_id, start_date, end_date (NaT = current).
        ``pulse``: employee_id, quarter_start, score. ``rates``: customer_id,
        segment, branch_id, account_age_years, months, proactive, inbound,
        complaints, retained, overall (NaN when not surveyed).
    truth : dict
        :func:`care_truth` plus ``seed`` and ``n_customers``.
    """
    _check(n_customers, n_months, n_branches, specialists_per_branch)
    n, T, B, spb = int(n_customers), int(n_months), int(n_branches), int(specialists_per_branch)
    rng = np.random.default_rng([int(seed), 13])
    month_day, start = _calendar(T)
    n_days = int(month_day[-1])
    c_b, e_b = _branch_effects(rng, B)
    cu = _customers(rng, n, T, B, spb)
    seg, branch, age, x = cu["seg"], cu["branch"], cu["age"], cu["x"]
    g = _dose_curve(x, seg)
    p_lat = (SAT_BASE + _seg_arr(SEG_SAT)[seg] + c_b[branch] + AGE_SAT * (age - 5.0) + g
             + rng.normal(0.0, SAT_SD, n))
    overall = 1 + rng.binomial(9, np.clip(p_lat, 0.0, 1.0))
    answered = rng.random(n) < OVERALL_RESPONSE
    in_rate = _seg_arr(INBOUND_BASE)[seg] * np.exp(-INBOUND_PER_SAT * (p_lat - SAT_BASE))
    n_in = rng.poisson(in_rate * T)
    p_complaint = expit(COMPLAINT_LOGIT - COMPLAINT_PER_SAT * (p_lat - SAT_BASE))
    n_complaints = rng.binomial(n_in, p_complaint)
    rel = _relationships(rng, seg, branch, age, n_days, spb)
    end_day = np.full(n, n_days)
    spec_end, L_end, k_end = _at(rel, np.arange(n), end_day)
    logit = (_seg_arr(RET_BASE)[seg] + e_b[branch] + RET_PER_SAT * (p_lat - SAT_BASE)
             - RET_CURVATURE * (x - _seg_arr(OPTIMUM)[seg]) ** 2
             + RET_PER_YEAR * L_end + RET_PER_CHANGE * k_end)
    retained = rng.random(n) < expit(logit)
    n_spec = B * spb
    n_q = T // 3
    level, pulse = _pulse(rng, n_spec, n_q)
    # service CSAT: one answer in a share of customer-quarters, on a random day of it
    ask = rng.random((n, n_q)) < SERVICE_RESPONSE
    s_cust, s_q = np.nonzero(ask)
    q_first = month_day[np.arange(0, T + 1, 3)]
    s_day = q_first[s_q] + (rng.random(len(s_q)) * (q_first[s_q + 1] - q_first[s_q])).astype(
        np.int64)
    s_spec, s_L, s_k = _at(rel, s_cust, s_day)
    u_serv = rng.normal(0.0, SAT_SD, n)
    q_lat = (SERVICE_BASE + _seg_arr(SEG_SAT)[seg[s_cust]] + c_b[branch[s_cust]]
             + AGE_SAT * (age[s_cust] + s_day / _DAYS_PER_YEAR - 5.0) + g[s_cust]
             + CONT_PER_YEAR * s_L + CONT_PER_CHANGE * s_k
             + MOOD * (pulse[s_spec, s_q + 1] - MOOD_CENTRE)
             + MOOD_LAG * (pulse[s_spec, s_q] - MOOD_CENTRE)
             + SPEC_CONFOUND * (level[s_spec] - MOOD_CENTRE) + u_serv[s_cust])
    s_score = 1 + rng.binomial(4, np.clip(q_lat, 0.0, 1.0))
    cust_ids = np.array([f"K{i + 1:07d}" for i in range(n)], dtype=object)
    spec_ids = np.array([f"S{j + 1:03d}" for j in range(n_spec)], dtype=object)
    branch_ids = np.array([f"B{b + 1:02d}" for b in range(B)], dtype=object)
    region = np.array([CARE_REGIONS[b * len(CARE_REGIONS) // B] for b in range(B)], dtype=object)
    seg_names = np.array(SEGMENTS, dtype=object)
    signup = start - np.ceil(age * _DAYS_PER_YEAR).astype("timedelta64[D]")
    out: dict[str, pd.DataFrame] = {}
    if "customers" in tables:
        out["customers"] = pd.DataFrame({
            "customer_id": cust_ids, "segment": seg_names[seg], "region": region[branch],
            "branch_id": branch_ids[branch], "specialist_id": spec_ids[spec_end],
            "signup_date": signup.astype("datetime64[ns]"), "retained": retained})
    if "rates" in tables:
        out["rates"] = pd.DataFrame({
            "customer_id": cust_ids, "segment": seg_names[seg], "branch_id": branch_ids[branch],
            "account_age_years": (start + np.timedelta64(n_days, "D") - signup).astype(
                "timedelta64[D]").astype(float) / _DAYS_PER_YEAR,
            "months": np.full(n, T), "proactive": cu["n_pro"], "inbound": n_in,
            "complaints": n_complaints, "retained": retained.astype(float),
            "overall": np.where(answered, overall, np.nan),
            "relationship_years": L_end, "specialist_changes": k_end})
    if "contacts" in tables:
        out["contacts"] = _contact_rows(rng, cu["n_pro"], n_in, n_complaints, month_day, start,
                                        cust_ids, T, ids=contact_ids)
    if "responses" in tables:
        o_idx = np.flatnonzero(answered)
        o_day = month_day[T - 1] + (rng.random(len(o_idx)) * (month_day[T] - month_day[T - 1])
                                    ).astype(np.int64)
        cust = np.concatenate([o_idx, s_cust])
        day = np.concatenate([o_day, s_day])
        is_o = np.arange(len(cust)) < len(o_idx)
        out["responses"] = pd.DataFrame({
            "response_id": [f"KR{i + 1:08d}" for i in range(len(cust))],
            "customer_id": cust_ids[cust],
            "date": (start + day.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "touchpoint_id": np.where(is_o, "journey", _TP_SERVICE).astype(object),
            "metric": np.where(is_o, "overall", "csat").astype(object),
            "score": np.concatenate([overall[o_idx], s_score]).astype(float),
            "scale_min": np.ones(len(cust), np.int64),
            "scale_max": np.where(is_o, 10, 5).astype(np.int64),
            "segment": seg_names[seg[cust]], "branch_id": branch_ids[branch[cust]]})
    if "relationships" in tables:
        out["relationships"] = _relationship_rows(rel, cust_ids, spec_ids, start)
    if "pulse" in tables:
        qs = pd.date_range(pd.Timestamp(CARE_START) - pd.offsets.QuarterBegin(startingMonth=1),
                           periods=n_q + 1, freq="QS")
        out["pulse"] = pd.DataFrame({
            "employee_id": np.repeat(spec_ids, n_q + 1),
            "quarter_start": np.tile(qs.values, n_spec), "score": pulse.ravel()})
    if "employees" in tables:
        tenure = np.round(rng.gamma(2.0, 2.5, n_spec), 1)
        out["employees"] = pd.DataFrame({
            "employee_id": spec_ids, "branch_id": branch_ids[np.arange(n_spec) // spb],
            "role": "service_specialist", "satisfaction": np.round(pulse[:, 1:].mean(1), 2),
            "tenure_years": tenure,
            "accounts_served": np.bincount(spec_end, minlength=n_spec).astype(np.int64)})
    truth = {**care_truth(n_months=T), "seed": int(seed), "n_customers": n,
             "n_specialists": n_spec, "clipped_share": float(
                 np.mean((p_lat < 0) | (p_lat > 1)) + np.mean((q_lat < 0) | (q_lat > 1)))}
    return out, truth


def _contact_rows(rng: np.random.Generator, n_pro: np.ndarray, n_in: np.ndarray,
                  n_complaints: np.ndarray, month_day: np.ndarray, start: np.datetime64,
                  cust_ids: np.ndarray, T: int, ids: bool = True) -> pd.DataFrame:
    """One row per contact, days uniform over the window (monthly Poisson counts given
    their total are multinomial over the months, i.e. uniform days)."""
    n_days = int(month_day[-1])
    pro_c = np.repeat(np.arange(len(n_pro)), n_pro)
    in_c = np.repeat(np.arange(len(n_in)), n_in)
    cust = np.concatenate([pro_c, in_c])
    nc = len(cust)
    direction = np.concatenate([np.zeros(len(pro_c), np.int8), np.ones(len(in_c), np.int8)])
    day = rng.integers(0, n_days, nc)
    pch = list(PROACTIVE_CHANNEL_P)
    ich = list(INBOUND_CHANNEL_P)
    channels = [*pch, *[c for c in ich if c not in pch]]
    ch = np.concatenate([
        rng.choice(len(pch), len(pro_c), p=np.array(list(PROACTIVE_CHANNEL_P.values()))),
        np.array([channels.index(c) for c in ich])[
            rng.choice(len(ich), len(in_c), p=np.array(list(INBOUND_CHANNEL_P.values())))]])
    # complaints: the first n_complaints inbound contacts of each customer (random days)
    rank_in = np.arange(len(in_c)) - np.repeat(np.cumsum(n_in) - n_in, n_in)
    complaint = np.concatenate([np.zeros(len(pro_c), bool), rank_in < n_complaints[in_c]])
    tps = ["crm", _TP_PROACTIVE["visit"], _TP_INBOUND]
    tp = np.where(direction == 1, 2, np.where(ch == pch.index("visit"), 1, 0))
    order = np.lexsort((cust, day))
    width = max(9, len(str(nc)))
    from cxlib.data.synth.arrays import id_array

    out = {"contact_id": pd.array(id_array("KC", np.arange(1, nc + 1), width), dtype="str")
           } if ids else {}
    return pd.DataFrame({
        **out,
        "customer_id": pd.Categorical.from_codes(cust[order], categories=cust_ids),
        "date": (start + day[order].astype("timedelta64[D]")).astype("datetime64[ns]"),
        "channel": pd.Categorical.from_codes(ch[order].astype(np.int8), categories=channels),
        "direction": pd.Categorical.from_codes(direction[order],
                                               categories=["proactive", "inbound"]),
        "touchpoint_id": pd.Categorical.from_codes(tp[order].astype(np.int8), categories=tps),
        "complaint": complaint[order]})


def _relationship_rows(rel: dict[str, np.ndarray], cust_ids: np.ndarray, spec_ids: np.ndarray,
                       start: np.datetime64) -> pd.DataFrame:
    n = len(cust_ids)
    k = rel["k"]
    idx = np.repeat(np.arange(n), k + 1)
    pos = np.arange(len(idx)) - np.repeat(np.cumsum(k + 1) - (k + 1), k + 1)
    starts = np.where(pos == 0, rel["first_start"][idx],
                      rel["change_days"][idx, np.maximum(pos - 1, 0)])
    ends = np.where(pos < k[idx], rel["change_days"][idx, np.minimum(pos, rel["change_days"]
                                                                      .shape[1] - 1)], -1)
    end_dates = (start + np.maximum(ends, 0).astype("timedelta64[D]")).astype("datetime64[ns]")
    return pd.DataFrame({
        "customer_id": cust_ids[idx],
        "specialist_id": spec_ids[rel["spec"][idx, pos]],
        "start_date": (start + starts.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "end_date": np.where(ends >= 0, end_dates, np.datetime64("NaT", "ns"))})


# ===================================================================== truth
def _cost(channel_p: dict[str, float]) -> float:
    return float(sum(p * UNIT_COST[c] for c, p in channel_p.items()))


@lru_cache(maxsize=4)
def _truth_cached(n_months: int) -> str:
    rng = np.random.default_rng([20240101, 13])
    T = n_months
    n_days = int(_calendar(T)[0][-1])
    grid = np.round(np.arange(0.0, PROACTIVE_MAX + 1e-9, 0.01), 2)
    w = np.array(SEGMENT_P)
    # E over branches (equally likely) of the branch effects: the draws of a world's
    # branch effects are part of the world, so the truth averages over their law
    c_mgf = (math.sinh(INBOUND_PER_SAT * BRANCH_SAT) / (INBOUND_PER_SAT * BRANCH_SAT))
    a_lo, a_hi = ACCOUNT_AGE
    age_mgf = ((math.exp(-INBOUND_PER_SAT * AGE_SAT * (a_lo - 5)) - math.exp(
        -INBOUND_PER_SAT * AGE_SAT * (a_hi - 5))) / (INBOUND_PER_SAT * AGE_SAT * (a_hi - a_lo)))
    eps_mgf = math.exp(0.5 * (INBOUND_PER_SAT * SAT_SD) ** 2)
    seg_out: dict[str, Any] = {}
    money_curves = []
    ret_curves = []
    c_pro, c_in = _cost(PROACTIVE_CHANNEL_P), _cost(INBOUND_CHANNEL_P)
    for s, name in enumerate(SEGMENTS):
        m = TRUTH_DRAWS
        seg = np.full(m, s)
        age = rng.uniform(*ACCOUNT_AGE, m)
        rel = _relationships(rng, seg, np.zeros(m, np.int64), age, n_days, 2)
        _, L, k = _at(rel, np.arange(m), np.full(m, n_days))
        e_b = rng.normal(0.0, BRANCH_RET_SD, m)
        sat_rest = (SEG_SAT[name] + rng.uniform(-BRANCH_SAT, BRANCH_SAT, m)
                    + AGE_SAT * (age - 5.0) + rng.normal(0.0, SAT_SD, m))
        base = (RET_BASE[name] + e_b + RET_PER_YEAR * L + RET_PER_CHANGE * k
                + RET_PER_SAT * sat_rest)
        g = -SAT_CURVATURE * (grid - OPTIMUM[name]) ** 2
        P = np.array([expit(base + RET_PER_SAT * gx - RET_CURVATURE * (x - OPTIMUM[name]) ** 2
                            ).mean() for x, gx in zip(grid, g, strict=True)])
        # E over branch effects and noise is 0; account age is uniform
        overall = 1 + 9 * (SAT_BASE + SEG_SAT[name] + g + AGE_SAT * (0.5 * (a_lo + a_hi) - 5))
        inbound = (INBOUND_BASE[name] * np.exp(-INBOUND_PER_SAT * (SEG_SAT[name] + g))
                   * c_mgf * age_mgf * eps_mgf)
        V = (VALUE_RETAINED[name] * P + VALUE_PER_POINT * overall
             - 12 * (grid * c_pro + inbound * c_in))
        money_curves.append(V)
        ret_curves.append(P)
        i = int(np.argmax(V))
        seg_out[name] = {
            "threshold_satisfaction": OPTIMUM[name], "threshold_retention": OPTIMUM[name],
            "money_optimal_rate": float(grid[i]), "money_per_customer_year_at_optimum":
                float(V[i]),
            "inbound_per_month_at_optimum": float(np.interp(OPTIMUM[name], grid, inbound)),
            "total_per_month_at_optimum": float(OPTIMUM[name] + np.interp(OPTIMUM[name], grid,
                                                                          inbound)),
            "today_rate_planned_mean": TODAY_RATE[name],
        }
    V_all = w @ np.array(money_curves)
    P_all = w @ np.array(ret_curves)
    sat_opt = float(w @ _seg_arr(OPTIMUM))
    truth = {
        "model": "see cxlib/data/synth/care.py (module docstring)",
        "dose": "proactive contacts per customer per month (realised, over the window)",
        "thresholds": {
            "by_segment": {s: {k: v for k, v in d.items() if k.startswith("threshold")}
                           for s, d in seg_out.items()},
            "overall_satisfaction": sat_opt,
            "overall_retention": float(grid[int(np.argmax(P_all))]),
            "definition": "the proactive rate where the marginal effect on the outcome turns "
                          "negative (argmax of the population curve); overall = curves "
                          "averaged with the segment shares",
        },
        "naive_total_contacts": {
            "direction": "below",
            "meaning": "a curve on total contacts (proactive + inbound) turns down at a lower "
                       "total rate than the total rate customers at the proactive optimum "
                       "have (total_per_month_at_optimum): inbound contacts are a symptom of "
                       "low satisfaction, so high totals mark unhappy customers",
            "total_per_month_at_optimum": {s: d["total_per_month_at_optimum"]
                                           for s, d in seg_out.items()},
        },
        "money": {
            "unit_cost": dict(UNIT_COST),
            "cost_per_proactive_contact": c_pro, "cost_per_inbound_contact": c_in,
            "value_retained_per_year": dict(VALUE_RETAINED),
            "value_per_overall_point_per_year": VALUE_PER_POINT,
            "by_segment": {s: {k: d[k] for k in ("money_optimal_rate",
                                                 "money_per_customer_year_at_optimum")}
                           for s, d in seg_out.items()},
            "overall_money_optimal_rate": float(grid[int(np.argmax(V_all))]),
            "grid_step": 0.01,
            "integration": f"retention averaged over {TRUTH_DRAWS} fixed draws of (branch "
                           "effects, account age, satisfaction noise, L, k) per segment; "
                           "satisfaction and inbound in closed form",
            "formula": "V_s(x) = value_retained[s] P_s(x) + value_per_point E[overall | x] "
                       "- 12 (x cost_per_proactive_contact + I_s(x) cost_per_inbound_contact)",
        },
        "continuity": {
            "csat_per_relationship_year": 4 * CONT_PER_YEAR,
            "retention_note": "the retention log-odds are conditional on the customer's "
                              "satisfaction p_i; a logistic model without it is attenuated by "
                              "about 1/sqrt(1 + (RET_PER_SAT SAT_SD)^2 pi^-2 3) (~1%)",
            "csat_per_specialist_change": 4 * CONT_PER_CHANGE,
            "retention_logodds_per_relationship_year": RET_PER_YEAR,
            "retention_logodds_per_specialist_change": RET_PER_CHANGE,
            "confounders": "account age (raises satisfaction and bounds the relationship "
                           "length) and segment (sets the change rate and satisfaction)",
            "units": "CSAT points (1-5) at after_sales_staff; log-odds of retention",
        },
        "mood": {
            "csat_per_pulse_point_same_quarter": 4 * MOOD,
            "csat_per_pulse_point_next_quarter": 4 * MOOD_LAG,
            "csat_per_point_of_specialist_level": 4 * SPEC_CONFOUND,
            "note": "within a specialist over time the effect is csat_per_pulse_point_*; "
                    "across specialists it adds the planted confounder (happier specialists "
                    "are also better at the job), so a cross-section overstates it",
        },
        "constants": planted_constants(),
    }
    return json.dumps(truth)


def care_truth(*, n_months: int = CARE_MONTHS) -> dict[str, Any]:
    """The planted truth of the care model (a fresh copy; computed once per ``n_months``)."""
    return json.loads(_truth_cached(int(n_months)))


# ============================================================ world on disk
def write_care_world(out: Path, *, n_customers: int, seed: int) -> dict[str, Any]:
    """Write a care world (all tables + ``truth.json``) into the folder ``out``."""
    tabs, truth = simulate_care(n_customers, seed=seed, tables=(
        "customers", "contacts", "responses", "employees", "relationships", "pulse"))
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, df in tabs.items():
        cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
        df = df.astype(dict.fromkeys(cats, "str")) if cats else df
        df.to_parquet(out / f"{name}.parquet", index=False, compression="zstd")
        rows[name] = len(df)
    truth = {**truth, "catalog": "retail", "tables": rows}
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return truth


def care(world: Any) -> Any:
    """Sub-generator: the care world in ``<world>/care/``, its truth in ``truth["care"]``.

    Size: one care customer per eight response rows of the world, between 2,000 and
    200,000 (about 6,000 for the small sample).
    """
    from cxlib.data.synth.extend import Extension

    n = int(min(200_000, max(2_000, world.size // 8)))
    seed = int(world.rng().integers(0, 2**31 - 1))
    truth = write_care_world(Path(world.folder) / "care", n_customers=n, seed=seed)
    truth["folder"] = "care"
    return Extension(tables={}, truth=truth)
