"""Synthetic customer-experience world with planted, known truth.

A deterministic generator (``numpy.random.Generator``, seeded) for the retail
catalog (``data/touchpoints/retail.yml``).  It writes every data contract of
:mod:`cxlib.data.schemas` plus ``truth.json`` (every planted parameter), so that the
analyses can be tested against effects whose size is known exactly.

Public API
----------
generate(out_dir, *, size="small", seed=1) -> Path
    The whole world on disk (same as ``cx synth --size small --seed 1 --out DIR``).
simulate_survey(n_respondents, *, seed, world_seed=1) -> (responses, truth)
    A fresh simple random sample of respondents from the fixed world of
    ``world_seed`` (fast; for coverage simulations).
simulate_innovation_panel(*, seed, n_units=40, n_periods=24) -> (panel, innovations, truth)
    The branch x month margin panel with staggered innovations (fast).
simulate_rollout(*, seed, innovation, n_units=40, n_periods=24, pretrend=0.0) -> (panel, truth)
    One innovation's analysis panel from it, optionally with a planted pre-trend.
ensure_bench_world(size="large", seed=7) -> Path
    ``data/bench/world_<size>_<seed>``, generated once (lock file) and reused.
main(argv)
    The ``cx synth`` command.

Notes
-----
The model (all units documented in ``truth.json``):

* Customer ``i`` belongs to a segment ``s``, a branch ``b`` (region from the
  branch), a service specialist ``j`` of that branch and a contact-rate level
  ``lambda_i`` (contacts per month).  Every draw is independent, so customers
  are i.i.d. draws from a finite *mixture*.
* Customer latent ``u_i = a_s + d_sat (sat_j - 3.25) + d_ten (tenure_j - 5)
  - kappa (lambda_eff - lambda*)^2 + innovation effects + N(0, sigma_u^2)``,
  where ``lambda_eff`` adds the contacts an innovation makes in a treated
  branch at the survey month (the inverted U peaks at ``lambda*``).
* Touchpoint latent ``z_ik = mu_k + u_i + move_ik + e_ik``, ``e ~ N(0, 1)``;
  CSAT ``= 1 + #{c_j < z_ik}`` for the four fixed cut points ``c``.
* Overall latent ``O_i = sum_k w_k z_ik + N(0, sigma_o^2)`` -> overall 1-10 by
  nine cut points; NPS latent ``O_i + N(0, sigma_n^2)`` -> 0-10 by ten cut
  points; CES latent ``-z_ik + N(0, sigma_ces^2)`` -> 1-7 by six cut points.
* ``truth["touchpoint_means"][k]`` is the exact population expectation of the
  discrete CSAT: ``sum_c p_c (1 + sum_j Phi((mu_k + m_ck - c_j) / sqrt(sigma_u^2 + 1)))``
  over the mixture components ``c`` (segment x specialist x contact level x
  survey month), because ``z_ik`` given the component is normal.  Respondents
  are a Bernoulli sample of customers independent of everything, and whether a
  customer experienced a touchpoint is independent of everything too, so each
  touchpoint's respondents are an i.i.d. sample from that mixture and their
  unweighted mean is unbiased for the truth.  No weights are needed.
* Feedback coverage: the leaves in ``NEVER_ASKED`` are experienced but never
  asked (blind spots) and those in ``LOW_BASE`` only of the first
  ``LOW_BASE_PILOT`` respondents (low base at every size); both are masks on
  the answers, applied after every draw, so the rest of the world is unchanged
  (``truth["coverage"]``).
* Branch x month margin panel: ``alpha_b + gamma_t + sum_v effect_vbt + eps_bt``
  (``alpha_b`` = the branch customers' planned monthly margin; ``effect_vbt`` =
  steady-state effect x cohort multiplier x ramp-up since adoption, so effects
  differ by cohort and over time; ``eps`` AR(1) within branch), split into
  orders: each customer's planned 24-month margin ``M_i = base_s + beta *
  overall_i + N(0, sd)`` is spread equally over her orders, and the rest of the
  branch-month total is spread equally over that branch-month's orders, so
  order margins summed per branch-month reproduce the panel (to rounding to
  cents) and, within a branch, customer margin rises by ``beta`` per overall
  point (every customer orders at the same rate, so the spread is independent
  of satisfaction).

References
----------
Agresti, A. (2010). *Analysis of Ordinal Categorical Data*, 2nd ed., ch. 5
(latent-variable threshold model for ordinal scores).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
from scipy.special import expit, ndtr

from cxlib import config
from cxlib.errors import CatalogError, CxError, ParameterError
from cxlib.io import atomic_dir, guard_write

__all__ = [
    "SIZES",
    "ensure_bench_world",
    "generate",
    "main",
    "simulate_innovation_panel",
    "simulate_rollout",
    "simulate_survey",
]

# ------------------------------------------------------------------ constants
#: Named sizes: approximate number of long response rows.
SIZES: dict[str, int] = {"small": 50_000, "medium": 1_000_000, "large": 10_000_000}
MIN_SIZE = 1_000
#: Above this many response rows, responses are a directory of parquet parts.
PARTS_ABOVE = 2_000_000
#: Customers generated (and response rows written) per chunk.
CHUNK_CUSTOMERS = 100_000

START = np.datetime64("2024-01-01", "D")
N_MONTHS = 24
MONTH_STARTS = np.arange(np.datetime64("2024-01", "M"), np.datetime64("2026-01", "M"))
MONTH_FIRST_DAY = (MONTH_STARTS.astype("datetime64[D]") - START).astype(np.int64)
N_DAYS = int((np.datetime64("2026-01-01", "D") - START).astype(int))  # 731
MONTH_OF_DAY = np.searchsorted(MONTH_FIRST_DAY, np.arange(N_DAYS), side="right") - 1
MONTH_P = np.bincount(MONTH_OF_DAY, minlength=N_MONTHS) / N_DAYS

SEGMENTS = ("mass", "affluent", "business")
SEGMENT_P = np.array([0.6, 0.28, 0.12])
SEGMENT_EFFECT = np.array([0.0, 0.15, -0.10])  # latent
SEGMENT_MARGIN = np.array([300.0, 900.0, 1600.0])  # planned 24-month margin at overall 0
REGION_BRANCHES = {"Baku": 16, "Ganja": 6, "Istanbul": 12, "Ankara": 6}
AZ_REGIONS = {"Baku", "Ganja"}
_REGION_ARR = pa.array(list(REGION_BRANCHES))

SIGMA_U = 0.6
SIGMA_E = 1.0
SIGMA_O = 0.5
SIGMA_N = 0.6
SIGMA_CES = 0.7
CSAT_CUTS = np.array([-1.6, -0.7, 0.2, 1.1])
OVERALL_CUTS = np.linspace(-1.5, 2.5, 9)
NPS_CUTS = np.linspace(-2.4, 1.65, 10)
CES_CUTS = np.linspace(-1.8, 1.7, 6)

RESPONSE_RATE = 0.5
ORDER_RATE = 0.45  # orders per customer-month, the same for everyone
MARGIN_PER_OVERALL_POINT = 60.0
MARGIN_NOISE_SD = 120.0

CONTACT_LEVELS = np.round(np.arange(0.0, 3.01, 0.25), 2)  # baseline contacts per month
CONTACT_P = np.exp(-0.5 * ((CONTACT_LEVELS - 1.1) / 0.7) ** 2)
CONTACT_P = CONTACT_P / CONTACT_P.sum()
CONTACT_OPTIMUM = 1.0  # contacts per month where satisfaction and retention peak
CONTACT_CURVATURE = 0.25  # latent loss per (contact/month)^2 away from the optimum
RETENTION_INTERCEPT = 1.4
RETENTION_PER_OVERALL_LATENT = 0.8
RETENTION_CURVATURE = 0.6  # logit loss per (contact/month)^2
PROACTIVE_SHARE = 0.35

SPEC_PER_SAT_POINT = 0.15  # latent per point of specialist satisfaction (1-5)
SPEC_PER_TENURE_YEAR = 0.03  # latent per year of specialist tenure
SPEC_SAT_CENTRE = 3.25
SPEC_TENURE_CENTRE = 5.0

# planted roles (looked up in the catalog; generation fails if one is missing)
WEAK_LINKS = {
    "pre_sale": "customer_service_centre_pre",
    "sale": "store_checkout",
    "post_sale": "after_sales_product_knowledge",
}
WEAK_GAP = 0.9  # latent gap below the stage's next-lowest touchpoint
DRIVERS = {
    "sales_staff": 0.22,
    "customer_service_centre_post": 0.16,
    "product_in_use": 0.13,
    "store_checkout": 0.10,
}
CES_TOUCHPOINTS = ("customer_service_centre_pre", "store_checkout", "customer_service_centre_post")
MOVES = (
    {"touchpoint_id": "website", "segment_column": "segment", "segment": "mass",
     "metric": "csat", "period": "2025H2", "start": "2025-07-01", "end": "2025-12-31",
     "latent": -0.9},
    {"touchpoint_id": "store_cleanliness", "segment_column": "region", "segment": "Baku",
     "metric": "csat", "period": "2025H1", "start": "2025-01-01", "end": "2025-06-30",
     "latent": 0.7},
)

AMORTISATION_PERIODS = 24
#: Innovations: steady-state margin effect ("att", per branch-month, for a cohort with
#: cohort_effect 1), costs, side effects; cohorts as months of a 24-month window (scaled to
#: other lengths), each with its own effect multiplier (earlier adopters gain more).
INNOVATIONS = (
    {"id": "proactive_calls", "name": "Proactive service calls", "att": 900.0,
     "cost": 1000.0, "one_off": 6000.0, "contacts": 0.6, "direction": "proactive",
     "csat_latent": -0.10, "share": 0.3, "cohorts": (6, 9, 12),
     "cohort_effect": (1.3, 1.0, 0.7)},
    {"id": "self_service_kiosk", "name": "Self-service kiosks", "att": 2500.0,
     "cost": 400.0, "one_off": 14400.0, "contacts": 0.0, "direction": "inbound",
     "csat_latent": 0.05, "share": 0.3, "cohorts": (8, 13, 17),
     "cohort_effect": (1.3, 1.0, 0.7)},
    {"id": "messenger_support", "name": "Messenger support line", "att": 1100.0,
     "cost": 200.0, "one_off": 4800.0, "contacts": 0.2, "direction": "inbound",
     "csat_latent": 0.0, "share": 0.2, "cohorts": (4, 14),
     "cohort_effect": (1.2, 0.8)},
)
#: Dynamic margin effects: in the adoption month an innovation delivers EFFECT_RAMP_START of
#: its steady state and the gap shrinks by EFFECT_RAMP_DECAY a month:
#: ramp(e) = 1 - (1 - start) * decay**e, e = months since adoption (0, 1, ...).
EFFECT_RAMP_START = 0.4
EFFECT_RAMP_DECAY = 0.8
MONTH_FE_AMPLITUDE = 600.0
MONTH_FE_TREND = 25.0
PANEL_NOISE_SD = 350.0  # stationary sd of the branch-month margin noise
PANEL_NOISE_AR = 0.6  # its AR(1) coefficient month to month (serially correlated: cluster!)

# --------------------------------------------------------------- fake people
AZ_FIRST = ["Əli", "Leyla", "Rəşad", "Günay", "Elvin", "Aygün", "Tural", "Nərmin", "Orxan",
            "Səbinə", "Kamran", "Aysel", "Fərid", "Ülviyyə", "Murad", "Lalə", "Vüsal", "Könül",
            "Elnur", "Şəbnəm", "Rauf", "Nigar", "İlkin", "Zəhra"]
AZ_LAST = ["Məmmədov", "Əliyev", "Həsənov", "Hüseynov", "Quliyev", "İsmayılov", "Abbasov",
           "Rzayev", "Cəfərov", "Nəsirov", "Babayev", "Süleymanov", "Kərimov", "Orucov"]
TR_FIRST = ["Mehmet", "Ayşe", "Mustafa", "Fatma", "Ahmet", "Zeynep", "Emre", "Elif", "Burak",
            "Merve", "Can", "Esra", "Oğuz", "Şule", "Hakan", "Gül", "Serkan", "İpek", "Kerem",
            "Özlem", "Deniz", "Çağla", "Barış", "Sevgi"]
TR_LAST = ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk",
           "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Koç"]
_ASCII = str.maketrans({"ə": "e", "Ə": "E", "ı": "i", "İ": "I", "ş": "s", "Ş": "S", "ç": "c",
                        "Ç": "C", "ğ": "g", "Ğ": "G", "ö": "o", "Ö": "O", "ü": "u", "Ü": "U"})

COMMENTS = {
    ("az", "pos"): ["Xidmət çox yaxşı idi, təşəkkür edirəm!", "Əməkdaşlar çox nəzakətli idi.",
                    "Hər şey sürətli və rahat oldu."],
    ("az", "neu"): ["Normal idi, amma növbə uzun idi.", "Qiymətlər bir az bahadır."],
    ("az", "neg"): ["Zəng mərkəzində çox gözlədim.", "Kassada növbə çox uzun idi.",
                    "Məhsul haqqında heç kim izah verə bilmədi."],
    ("tr", "pos"): ["Hizmet çok iyiydi, teşekkürler!", "Personel çok ilgiliydi.",
                    "Her şey hızlı ve sorunsuzdu."],
    ("tr", "neu"): ["Fena değildi ama kasada sıra vardı.", "Fiyatlar biraz yüksek."],
    ("tr", "neg"): ["Çağrı merkezinde çok bekledim.", "Kasada çok uzun sıra vardı.",
                    "Ürün hakkında kimse bilgi veremedi."],
    ("en", "pos"): ["Great service, thank you!", "Friendly and helpful staff."],
    ("en", "neu"): ["It was okay, the queue was long.", "Prices are a bit high."],
    ("en", "neg"): ["I waited too long on the phone.", "Nobody could explain the product."],
}
COMMENT_RATE = 0.06
SURVEY_CHANNELS = ("online", "phone", "in_store")
SURVEY_CHANNEL_P = np.array([0.55, 0.25, 0.20])
ORDER_CHANNELS = ("store", "online", "phone")
ORDER_CHANNEL_P = np.array([0.55, 0.35, 0.10])
CONTACT_CHANNELS = ("phone", "email", "sms", "branch", "messenger")
CONTACT_TPS_INBOUND = ("customer_service_centre_post", "customer_service_centre_pre", "crm",
                       "after_sales_staff")
CONTACT_TPS_INBOUND_P = np.array([0.5, 0.15, 0.15, 0.2])
CONTACT_TPS_PROACTIVE = ("crm", "customer_service_centre_post")
CONTACT_CHANNEL_P = np.array([0.55, 0.2, 0.1, 0.15])  # phone, email, sms, branch
ORDER_COST_PER_MARGIN = (1.5, 4.0)  # order cost = |margin| x U(lo, hi) + ORDER_COST_FLOOR
ORDER_COST_FLOOR = 5.0

# planted feedback coverage (decided after every draw, by masking answers, so every
# other draw of the world is the same as without them)
#: Leaves the questionnaire never asks about: blind spots (they still shape overall).
NEVER_ASKED = ("company_cars", "stationery_fax_paper")
#: A pilot question: asked only of the first LOW_BASE_PILOT respondents (by respondent
#: number), so its base stays below config.MIN_BASE at every size: a low-base touchpoint.
LOW_BASE = ("reception_doorman",)
LOW_BASE_PILOT = 40

#: Module constants that are not planted model parameters (sizes, layout, calendar
#: derived from START and N_MONTHS, text pools for names and comments). Every other
#: upper-case constant is written to ``truth.json["constants"]`` by name.
NOT_PLANTED = frozenset({
    "SIZES", "MIN_SIZE", "PARTS_ABOVE", "CHUNK_CUSTOMERS", "MONTH_STARTS",
    "MONTH_FIRST_DAY", "N_DAYS", "MONTH_OF_DAY", "MONTH_P", "AZ_REGIONS", "AZ_FIRST",
    "AZ_LAST", "TR_FIRST", "TR_LAST", "COMMENTS", "NOT_PLANTED",
})


# ===================================================================== world
def _catalog_touchpoints(path: Path | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else config.catalog_path("retail")
    if not path.exists():
        raise CatalogError(f"retail catalog {path} not found; the generator reads touchpoint "
                           "ids and stages from it (engineer A's data/touchpoints/retail.yml)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tps = raw.get("touchpoints") or []
    stages = [s["id"] for s in raw.get("stages") or []]
    ids = [t["id"] for t in tps]
    parents = {t.get("parent") for t in tps} - {None}
    leaves = [t["id"] for t in tps if t["id"] not in parents]
    stage_of = {t["id"]: t["stage"] for t in tps}
    planted = set(WEAK_LINKS.values()) | set(DRIVERS) | set(CES_TOUCHPOINTS)
    planted |= {m["touchpoint_id"] for m in MOVES}
    planted |= set(CONTACT_TPS_INBOUND) | set(CONTACT_TPS_PROACTIVE)
    missing = sorted(planted - set(ids))
    if missing:
        raise CatalogError(f"planted touchpoint ids {missing} are missing from {path}; "
                           "restore them in the catalog or change the planted roles in "
                           "cxlib/synth.py")
    not_leaf = sorted((set(WEAK_LINKS.values()) | set(DRIVERS) | set(CES_TOUCHPOINTS)
                       | {m["touchpoint_id"] for m in MOVES}) - set(leaves))
    if not_leaf:
        raise CatalogError(f"planted touchpoints {not_leaf} must be leaves of {path}")
    for stage, tp in WEAK_LINKS.items():
        if stage_of[tp] != stage:
            raise CatalogError(f"weak link {tp} is in stage {stage_of[tp]}, not {stage}")
    silent = set(NEVER_ASKED) | set(LOW_BASE)
    problems = sorted(silent - set(leaves))
    if problems:
        raise CatalogError(f"planted blind spots / low-base touchpoints {problems} must be "
                           f"leaves of {path}")
    clash = sorted(silent & (planted | set(CONTACT_TPS_INBOUND) | set(CONTACT_TPS_PROACTIVE)))
    if clash:
        raise CatalogError(f"touchpoints {clash} cannot be both never asked / low base and "
                           "carry another planted role (driver, weak link, CES, move, contacts)")
    return {"leaves": leaves, "stage_of": stage_of, "stages": stages, "ids": ids}


class _World:
    """Every planted parameter of one world (deterministic in ``seed``)."""

    def __init__(self, seed: int, catalog_path: Path | None = None) -> None:
        cat = _catalog_touchpoints(catalog_path)
        rng = np.random.default_rng([seed, 0])
        self.seed = seed
        self.leaves: list[str] = cat["leaves"]
        self.stage_of: dict[str, str] = cat["stage_of"]
        self.stages: list[str] = cat["stages"]
        K = len(self.leaves)
        kidx = {k: i for i, k in enumerate(self.leaves)}
        self.kidx = kidx
        # touchpoint baselines, weak link clearly lowest in each stage
        mu = np.round(rng.uniform(0.55, 1.25, K), 3)
        for stage, tp in WEAK_LINKS.items():
            others = [kidx[k] for k in self.leaves if self.stage_of[k] == stage and k != tp]
            mu[kidx[tp]] = round(float(mu[others].min()) - WEAK_GAP, 3)
        self.mu = mu
        # driver weights: a few large, the rest small; they sum to 1
        w = rng.uniform(0.5, 1.5, K)
        big = np.array([kidx[k] for k in DRIVERS])
        rest = np.setdiff1d(np.arange(K), big)
        w[rest] = w[rest] / w[rest].sum() * (1.0 - sum(DRIVERS.values()))
        for k, v in DRIVERS.items():
            w[kidx[k]] = v
        self.w = np.round(w, 5)
        # probability that a respondent experienced each leaf
        p = rng.uniform(0.15, 0.45, K)
        for k in set(DRIVERS) | set(WEAK_LINKS.values()) | set(CES_TOUCHPOINTS):
            p[kidx[k]] = 0.9
        self.p_exp = p
        self.ces_idx = np.array([kidx[k] for k in CES_TOUCHPOINTS])
        self.never_idx = np.array([kidx[k] for k in NEVER_ASKED], dtype=np.int64)
        self.low_idx = np.array([kidx[k] for k in LOW_BASE], dtype=np.int64)
        # branches and specialists
        self.branch_ids = [f"B{i + 1:02d}" for i in range(sum(REGION_BRANCHES.values()))]
        self.branch_region = np.concatenate(
            [[r] * n for r, n in REGION_BRANCHES.items()]).astype(object)
        self.branch_region_code = np.concatenate(
            [[i] * n for i, n in enumerate(REGION_BRANCHES.values())]).astype(np.int64)
        bw = rng.uniform(0.6, 1.4, len(self.branch_ids))
        self.branch_p = bw / bw.sum()
        n_spec = rng.integers(2, 5, len(self.branch_ids))
        self.spec_branch = np.repeat(np.arange(len(self.branch_ids)), n_spec)
        S = len(self.spec_branch)
        self.spec_ids = [f"E{i + 1:03d}" for i in range(S)]
        self.spec_first = np.concatenate([[0], np.cumsum(n_spec)[:-1]])
        self.spec_n = n_spec
        self.spec_sat = np.round(rng.uniform(1.5, 5.0, S), 1)
        self.spec_tenure = np.round(np.minimum(rng.gamma(2.0, 2.5, S), 25.0), 1)
        self.spec_effect = (SPEC_PER_SAT_POINT * (self.spec_sat - SPEC_SAT_CENTRE)
                            + SPEC_PER_TENURE_YEAR * (self.spec_tenure - SPEC_TENURE_CENTRE))
        self.spec_p = self.branch_p[self.spec_branch] / n_spec[self.spec_branch]
        ra = rng.integers(0, len(AZ_FIRST), S)
        rb = rng.integers(0, len(AZ_LAST), S)
        self.spec_names = [
            (f"{AZ_FIRST[a]} {AZ_LAST[b]}" if self.branch_region[self.spec_branch[i]] in AZ_REGIONS
             else f"{TR_FIRST[a % len(TR_FIRST)]} {TR_LAST[b % len(TR_LAST)]}")
            for i, (a, b) in enumerate(zip(ra, rb, strict=True))]
        # innovations: disjoint branch sets, staggered cohorts, the rest never treated
        self.starts = _assign_innovations(rng, len(self.branch_ids), N_MONTHS)
        # panel: branch noise and month effects come from their own stream
        self.panel_rng_seed = [seed, 1]

    # ------------------------------------------------------------- latents
    def treated(self, branch: np.ndarray, month: np.ndarray) -> np.ndarray:
        """(n, V) 0/1: was the innovation live at ``branch`` in ``month``?"""
        st = self.starts[branch]  # (n, V)
        return ((st >= 0) & (st <= month[:, None])).astype(np.float64)

    def customer_mean(self, seg: np.ndarray, spec: np.ndarray, lam: np.ndarray,
                      treated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean of the customer latent and the effective contact rate."""
        dl = np.array([v["contacts"] for v in INNOVATIONS])
        dc = np.array([v["csat_latent"] for v in INNOVATIONS])
        lam_eff = lam + treated @ dl
        m = (SEGMENT_EFFECT[seg] + self.spec_effect[spec]
             - CONTACT_CURVATURE * (lam_eff - CONTACT_OPTIMUM) ** 2 + treated @ dc)
        return m, lam_eff

    def move_shift(self, k: int, seg: np.ndarray, region: np.ndarray,
                   month: np.ndarray) -> np.ndarray:
        out = np.zeros(len(seg))
        for mv in MOVES:
            if self.kidx[mv["touchpoint_id"]] != k:
                continue
            out += mv["latent"] * self._move_mask(mv, seg, region, month)
        return out

    @staticmethod
    def _move_mask(mv: dict, seg: np.ndarray, region: np.ndarray, month: np.ndarray) -> np.ndarray:
        m0, m1 = _month_index(mv["start"]), _month_index(mv["end"])
        if mv["segment_column"] == "segment":
            who = seg == SEGMENTS.index(mv["segment"])
        else:
            who = region == mv["segment"]
        return who & (month >= m0) & (month <= m1)

    # ------------------------------------------------------------- mixture
    def components(self, *, months: bool = True) -> dict[str, np.ndarray]:
        """The finite mixture customers are drawn from (segment x specialist x
        contact level x survey month), with probabilities."""
        S, L = len(self.spec_ids), len(CONTACT_LEVELS)
        T = N_MONTHS if months else 1
        g = np.meshgrid(np.arange(3), np.arange(S), np.arange(L), np.arange(T), indexing="ij")
        seg, spec, lam_i, month = (a.ravel() for a in g)
        p = SEGMENT_P[seg] * self.spec_p[spec] * CONTACT_P[lam_i]
        p = p * (MONTH_P[month] if months else 1.0)
        branch = self.spec_branch[spec]
        return {"seg": seg, "spec": spec, "lam": CONTACT_LEVELS[lam_i], "month": month,
                "branch": branch, "region": self.branch_region[branch], "p": p}


def _month_index(date: str) -> int:
    d = np.datetime64(date, "M")
    return int((d - MONTH_STARTS[0]).astype(int))


def _cohort_starts(inn: dict[str, Any], n_periods: int) -> list[int]:
    """Adoption periods of an innovation's cohorts in a window of ``n_periods``."""
    return [min(n_periods - 1, round(c / N_MONTHS * n_periods)) for c in inn["cohorts"]]


def _assign_innovations(rng: np.random.Generator, n_units: int, n_periods: int) -> np.ndarray:
    """(n_units, V) start period per innovation (-1 = never); disjoint unit sets."""
    order = rng.permutation(n_units)
    starts = np.full((n_units, len(INNOVATIONS)), -1, dtype=np.int64)
    pos = 0
    for v, inn in enumerate(INNOVATIONS):
        n = round(inn["share"] * n_units)
        units = order[pos:pos + n]
        pos += n
        cohorts = _cohort_starts(inn, n_periods)
        for i, u in enumerate(units):
            starts[u, v] = cohorts[i * len(cohorts) // max(n, 1)]
    return starts


def _effect_ramp(e: np.ndarray) -> np.ndarray:
    """Share of the steady-state effect ``e`` periods after adoption (0 before it)."""
    e = np.asarray(e, dtype=float)
    ramp = 1.0 - (1.0 - EFFECT_RAMP_START) * EFFECT_RAMP_DECAY ** np.maximum(e, 0.0)
    return np.where(e >= 0, ramp, 0.0)


def _innovation_effects(starts: np.ndarray, n_periods: int) -> np.ndarray:
    """(units, periods, V) planted effect of each innovation on branch-month margin.

    effect = att_v x cohort_effect_v[c] x ramp(t - start): it differs by cohort and grows
    with time since adoption, so a static TWFE coefficient is not the ATT (its implicit
    comparisons of later with earlier adopters subtract growing effects).
    """
    t = np.arange(n_periods)
    out = np.zeros((starts.shape[0], n_periods, len(INNOVATIONS)))
    for v, inn in enumerate(INNOVATIONS):
        mult = np.zeros(starts.shape[0])
        for c, m in zip(_cohort_starts(inn, n_periods), inn["cohort_effect"], strict=True):
            mult[starts[:, v] == c] = m
        e = t[None, :] - starts[:, v][:, None]
        on = (starts[:, v][:, None] >= 0) & (e >= 0)
        out[:, :, v] = np.where(on, inn["att"] * mult[:, None] * _effect_ramp(e), 0.0)
    return out


def _innovation_margin_truth(starts: np.ndarray, n_periods: int,
                             labels: list[str]) -> dict[str, dict[str, Any]]:
    """Per innovation, the planted margin effect summarised as the targets estimators aim at.

    ``att_margin_per_unit_period`` is the mean planted effect over the treated unit-periods
    of the window (the overall ATT: incremental margin = it x treated unit-periods, the money
    target; Callaway-Sant'Anna's "simple" aggregation estimates it), plus the mean by cohort
    (``labels`` names the periods) and by months since adoption.
    """
    eff = _innovation_effects(starts, n_periods)
    t = np.arange(n_periods)
    out = {}
    for v, inn in enumerate(INNOVATIONS):
        st = starts[:, v]
        on = (st[:, None] >= 0) & (t[None, :] >= st[:, None])
        e = (t[None, :] - st[:, None])[on]
        vals = eff[:, :, v][on]
        cohorts = sorted(set(st[st >= 0].tolist()))
        out[inn["id"]] = {
            "att_margin_per_unit_period": float(vals.mean()),
            "treated_unit_periods": int(on.sum()),
            "att_by_cohort": {labels[c]: float(eff[st == c][:, c:, v].mean()) for c in cohorts},
            "att_by_event_time": {str(k): float(vals[e == k].mean()) for k in np.unique(e)},
            "att_steady_state": inn["att"],
            "cohort_effect": dict(zip([labels[c] for c in _cohort_starts(inn, n_periods)],
                                      inn["cohort_effect"], strict=True)),
            "effect_model": "effect on branch-month margin = att_steady_state x "
                            "cohort_effect[cohort] x (1 - (1 - "
                            f"{EFFECT_RAMP_START}) x {EFFECT_RAMP_DECAY}^e), e = months "
                            "since adoption",
            "target": "att_margin_per_unit_period: mean planted effect over the treated "
                      "unit-periods of the window (overall ATT; incremental margin = ATT x "
                      "treated unit-periods). Effects vary by cohort and grow with time, so "
                      "the static TWFE coefficient is biased for it; Callaway-Sant'Anna "
                      "(simple aggregation) and Sun-Abraham (cells weighted by treated "
                      "unit-periods) estimate it.",
        }
    return out


def _expected_score(x: np.ndarray, cuts: np.ndarray, sd: float) -> np.ndarray:
    """E[#{cuts < x + N(0, sd^2)}] elementwise (exact, normal CDF)."""
    return ndtr((x[..., None] - cuts) / sd).sum(-1)


@lru_cache(maxsize=8)
def _world(seed: int) -> _World:
    return _World(seed)


def _world_truth(world: _World) -> dict[str, Any]:
    """Every planted parameter and exact population figure of ``world``."""
    comp = world.components()
    tr = world.treated(comp["branch"], comp["month"])
    m, _ = world.customer_mean(comp["seg"], comp["spec"], comp["lam"], tr)
    p = comp["p"]
    sd_z = math.sqrt(SIGMA_U**2 + SIGMA_E**2)
    means = {}
    shifts = np.zeros((len(world.leaves), len(p)))
    for k, tp in enumerate(world.leaves):
        shifts[k] = world.move_shift(k, comp["seg"], comp["region"], comp["month"])
        x = world.mu[k] + m + shifts[k]
        means[tp] = float(p @ (1.0 + _expected_score(x, CSAT_CUTS, sd_z)))
    # CES (reversed latent) on its touchpoints
    sd_ces = math.sqrt(SIGMA_U**2 + SIGMA_E**2 + SIGMA_CES**2)
    ces = {tp: float(p @ (1.0 + _expected_score(-(world.mu[world.kidx[tp]] + m), CES_CUTS,
                                                sd_ces)))
           for tp in CES_TOUCHPOINTS}
    # overall and NPS: O | component ~ N(sum w mu + m + sum w shift, var)
    w = world.w
    o_mean = float(w @ world.mu) + m * w.sum() + w @ shifts
    o_var = (w.sum() * SIGMA_U) ** 2 + float(w @ w) * SIGMA_E**2 + SIGMA_O**2
    overall_mean = float(p @ (1.0 + _expected_score(o_mean, OVERALL_CUTS, math.sqrt(o_var))))
    n_sd = math.sqrt(o_var + SIGMA_N**2)
    promoters = float(p @ ndtr((o_mean - NPS_CUTS[8]) / n_sd))
    detractors = float(p @ (1.0 - ndtr((o_mean - NPS_CUTS[6]) / n_sd)))
    # weak links: recheck they are the lowest truth mean of their stage
    for stage, tp in WEAK_LINKS.items():
        others = [means[k] for k in world.leaves if world.stage_of[k] == stage and k != tp]
        if not means[tp] < min(others) - 0.2:
            raise CxError(f"internal: weak link {tp} is not clearly lowest in {stage}")
    # planted moves: exact change of the expected score in the segment x period
    moves = []
    for mv in MOVES:
        k = world.kidx[mv["touchpoint_id"]]
        mask = world._move_mask(mv, comp["seg"], comp["region"], comp["month"])
        x0 = world.mu[k] + m[mask] + shifts[k][mask] - mv["latent"]
        d = (_expected_score(x0 + mv["latent"], CSAT_CUTS, sd_z)
             - _expected_score(x0, CSAT_CUTS, sd_z))
        moves.append({"touchpoint_id": mv["touchpoint_id"], "segment_column": mv["segment_column"],
                      "segment": mv["segment"], "metric": mv["metric"], "period": mv["period"],
                      "start": mv["start"], "end": mv["end"],
                      "delta": float(p[mask] @ d / p[mask].sum()),
                      "delta_latent": mv["latent"], "latent": mv["latent"]})
    # innovation side effects on mean CSAT (all leaves, equal weight), exact
    c0 = world.components(months=False)
    mu_all = world.mu

    def mean_csat(treat: np.ndarray, extra: float = 0.0, spec_shift: np.ndarray | None = None
                  ) -> float:
        mm, _ = world.customer_mean(c0["seg"], c0["spec"], c0["lam"], treat)
        if spec_shift is not None:
            mm = mm + spec_shift[c0["spec"]]
        e = _expected_score(mu_all[None, :] + mm[:, None] + extra, CSAT_CUTS, sd_z).mean(1)
        return float(c0["p"] @ (1.0 + e) / c0["p"].sum())

    none = np.zeros((len(c0["p"]), len(INNOVATIONS)))
    base = mean_csat(none)
    innovations = {}
    month_labels = [str(m.astype("datetime64[D]")) for m in MONTH_STARTS]
    margin_truth = _innovation_margin_truth(world.starts, N_MONTHS, month_labels)
    for v, inn in enumerate(INNOVATIONS):
        t1 = none.copy()
        t1[:, v] = 1.0
        mt = margin_truth[inn["id"]]
        att, cost, one_off = mt["att_margin_per_unit_period"], inn["cost"], inn["one_off"]
        pays = att > cost + one_off / AMORTISATION_PERIODS
        units = np.flatnonzero(world.starts[:, v] >= 0)
        innovations[inn["id"]] = {
            "name": inn["name"], "unit": "branch_id",
            **mt, "cost_per_unit_period": cost,
            "one_off_cost": one_off, "amortisation_periods": AMORTISATION_PERIODS,
            "net_per_unit_period": att - cost - one_off / AMORTISATION_PERIODS,
            "effect_on_csat": mean_csat(t1) - base,
            # direct latent part; the extra contacts act through the inverted U
            "effect_on_csat_latent": inn["csat_latent"],
            "effect_on_contacts": inn["contacts"],
            "contact_direction": inn["direction"],
            "pays": bool(pays), "decision": "scale" if pays else "roll_back",
            "starts": {world.branch_ids[u]: str(MONTH_STARTS[world.starts[u, v]].astype(
                "datetime64[D]")) for u in units},
        }
    # specialist effects as average marginal effects on mean CSAT (exact)
    one = np.ones(len(world.spec_ids))
    ame_sat = (mean_csat(none, spec_shift=0.5 * SPEC_PER_SAT_POINT * one)
               - mean_csat(none, spec_shift=-0.5 * SPEC_PER_SAT_POINT * one))
    ame_ten = (mean_csat(none, spec_shift=0.5 * SPEC_PER_TENURE_YEAR * one)
               - mean_csat(none, spec_shift=-0.5 * SPEC_PER_TENURE_YEAR * one))
    weights = {tp: float(world.w[i]) for i, tp in enumerate(world.leaves)}
    order = sorted(weights, key=lambda k: (-weights[k], k))
    return {
        "catalog": "retail",
        "period": {"start": "2024-01-01", "end": "2025-12-31"},
        "touchpoint_means": means,
        "touchpoint_latent_means": {tp: float(world.mu[i]) for i, tp in enumerate(world.leaves)},
        "experience_probability": {tp: float(world.p_exp[i])
                                   for i, tp in enumerate(world.leaves)},
        "weak_links": dict(WEAK_LINKS),
        "driver_outcome": "overall",
        "driver_weights": weights,
        "driver_order": order,
        "drivers_planted": list(DRIVERS),
        "ces_touchpoints": list(CES_TOUCHPOINTS),
        "ces_means": ces,
        "overall_mean": overall_mean,
        "nps": {"promoters": promoters, "detractors": detractors,
                "nps": 100.0 * (promoters - detractors)},
        "contact_optimum": {
            "contacts_per_month": CONTACT_OPTIMUM,
            "satisfaction_curvature_latent": CONTACT_CURVATURE,
            "retention_curvature_logit": RETENTION_CURVATURE,
            "proactive_share": PROACTIVE_SHARE,
            "note": "latent satisfaction -= curvature * (contacts_per_month - optimum)^2; "
                    "logit(retained) -= retention_curvature * (...)^2",
        },
        "retention": {
            "intercept": RETENTION_INTERCEPT,
            "per_overall_latent": RETENTION_PER_OVERALL_LATENT,
            "curvature": RETENTION_CURVATURE,
            "reference_overall_latent": float(world.w @ world.mu),
            "formula": "logit P(retained) = intercept + per_overall_latent * (O_i - "
                       "reference_overall_latent) - curvature * (contacts_per_month - "
                       "contact_optimum)^2; O_i = the overall latent, contacts_per_month = "
                       "the customer's realised contacts / 24",
        },
        "coverage": {
            "never_asked": list(NEVER_ASKED),
            "low_base": list(LOW_BASE),
            "low_base_pilot_respondents": LOW_BASE_PILOT,
            "note": "never_asked leaves are experienced (they shape overall) but no question "
                    "reaches them: blind spots. low_base leaves are asked only of the first "
                    "low_base_pilot_respondents respondents (by number): fewer than "
                    "config.MIN_BASE answers at every size. touchpoint_means stays the "
                    "population truth for them. Decided by masking after every draw.",
        },
        "specialist_effects": {
            "per_satisfaction_point": SPEC_PER_SAT_POINT,
            "per_tenure_year": SPEC_PER_TENURE_YEAR,
            "satisfaction_centre": SPEC_SAT_CENTRE,
            "tenure_centre": SPEC_TENURE_CENTRE,
            "units": "latent (sd of touchpoint noise = 1; roughly CSAT points)",
            "csat_per_satisfaction_point": ame_sat,
            "csat_per_tenure_year": ame_ten,
        },
        "margin_per_overall_point": MARGIN_PER_OVERALL_POINT,
        "margin_note": "extra margin per customer over the 24 months per point of overall "
                       "satisfaction (1-10), within branch",
        "innovations": innovations,
        "never_treated_branches": [world.branch_ids[u] for u in
                                   np.flatnonzero((world.starts < 0).all(1))],
        "planted_moves": moves,
        "panel": {"month_fe_amplitude": MONTH_FE_AMPLITUDE, "month_fe_trend": MONTH_FE_TREND,
                  "noise_sd": PANEL_NOISE_SD, "noise_ar1": PANEL_NOISE_AR},
        "model": {
            "csat_cuts": CSAT_CUTS.tolist(), "overall_cuts": OVERALL_CUTS.tolist(),
            "nps_cuts": NPS_CUTS.tolist(), "ces_cuts": CES_CUTS.tolist(),
            "sigma_u": SIGMA_U, "sigma_e": SIGMA_E, "sigma_o": SIGMA_O, "sigma_nps": SIGMA_N,
            "sigma_ces": SIGMA_CES, "segment_effects": dict(zip(SEGMENTS,
                                                               SEGMENT_EFFECT.tolist(),
                                                               strict=True)),
            "response_sampling": "Bernoulli sample of customers independent of everything: "
                                 "respondents are i.i.d. from the population; no weights",
            "response_rate": RESPONSE_RATE,
            "order_rate": ORDER_RATE,
            "segment_shares": dict(zip(SEGMENTS, SEGMENT_P.tolist(), strict=True)),
            "segment_margin": dict(zip(SEGMENTS, SEGMENT_MARGIN.tolist(), strict=True)),
            "margin_noise_sd": MARGIN_NOISE_SD,
            "region_branches": dict(REGION_BRANCHES),
            "branch_shares": dict(zip(world.branch_ids, world.branch_p.tolist(), strict=True)),
            "contact_levels": dict(zip(map(str, CONTACT_LEVELS.tolist()), CONTACT_P.tolist(),
                                       strict=True)),
            "weak_gap_latent": WEAK_GAP,
        },
        "constants": planted_constants(),
    }


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, np.datetime64):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (set, frozenset)):
        return sorted(_jsonable(x) for x in v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def planted_constants() -> dict[str, Any]:
    """Every upper-case module constant except :data:`NOT_PLANTED`, JSON-ready, by name.

    Written to ``truth.json["constants"]`` so that no planted value is missing from
    the truth, whoever adds it; the named sections of truth.json explain them.
    """
    mod = sys.modules[__name__]
    return {name: _jsonable(getattr(mod, name)) for name in sorted(vars(mod))
            if name.isupper() and not name.startswith("_") and name not in NOT_PLANTED}


# ============================================================ customer chunks
def _chunk_latents(world: _World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` customers with their survey answers (all of them, respondents or not)."""
    seg = rng.choice(3, n, p=SEGMENT_P)
    spec = rng.choice(len(world.spec_ids), n, p=world.spec_p)
    branch = world.spec_branch[spec]
    region = world.branch_region[branch]
    lam = CONTACT_LEVELS[rng.choice(len(CONTACT_LEVELS), n, p=CONTACT_P)]
    day = rng.integers(0, N_DAYS, n)
    month = MONTH_OF_DAY[day]
    treated = world.treated(branch, month)
    m, lam_eff = world.customer_mean(seg, spec, lam, treated)
    u = m + rng.normal(0.0, SIGMA_U, n)
    K = len(world.leaves)
    z = world.mu[None, :] + u[:, None] + rng.normal(0.0, SIGMA_E, (n, K))
    for mv in MOVES:
        k = world.kidx[mv["touchpoint_id"]]
        z[:, k] += mv["latent"] * world._move_mask(mv, seg, region, month)
    csat = 1 + (z[:, :, None] > CSAT_CUTS).sum(-1)
    o = z @ world.w + rng.normal(0.0, SIGMA_O, n)
    overall = 1 + (o[:, None] > OVERALL_CUTS).sum(-1)
    nps = (o[:, None] + rng.normal(0.0, SIGMA_N, n)[:, None] > NPS_CUTS).sum(-1)
    ces_lat = -z[:, world.ces_idx] + rng.normal(0.0, SIGMA_CES, (n, len(world.ces_idx)))
    ces = 1 + (ces_lat[:, :, None] > CES_CUTS).sum(-1)
    respondent = rng.random(n) < RESPONSE_RATE
    experienced = rng.random((n, K)) < world.p_exp
    return {"seg": seg, "spec": spec, "branch": branch, "region": region, "lam": lam,
            "day": day, "month": month, "csat": csat, "overall": overall, "nps": nps,
            "ces": ces, "o": o, "respondent": respondent, "experienced": experienced,
            "lam_eff": lam_eff}


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array((START + days.astype("timedelta64[D]")).astype("datetime64[ns]"))


def _responses_table(world: _World, lat: dict[str, np.ndarray], rng: np.random.Generator,
                     cust_ids: pa.Array, resp_offset: int) -> tuple[pa.Table, int]:
    """Long response rows for the respondents of one chunk."""
    r = np.flatnonzero(lat["respondent"])
    nr = len(r)
    K = len(world.leaves)
    exp = lat["experienced"][r]  # a copy: the masks below touch no draw
    exp[:, world.never_idx] = False  # blind spots: never asked
    pilot = resp_offset + np.arange(nr) < LOW_BASE_PILOT
    exp[np.ix_(~pilot, world.low_idx)] = False  # low base: a pilot question
    # csat rows, respondent-major, touchpoints in catalog order
    ri, ki = np.nonzero(exp)
    c_score = lat["csat"][r][ri, ki]
    # ces rows
    exp_ces = exp[:, world.ces_idx]
    rci, cj = np.nonzero(exp_ces)
    ces_score = lat["ces"][r][rci, cj]
    ces_k = world.ces_idx[cj]
    # journey rows
    jr = np.arange(nr)
    resp = np.concatenate([ri, rci, jr, jr])
    tp = np.concatenate([ki, ces_k, np.full(nr, K), np.full(nr, K)])
    metric = np.concatenate([np.zeros(len(ri), np.int8), np.full(len(rci), 1, np.int8),
                             np.full(nr, 2, np.int8), np.full(nr, 3, np.int8)])
    score = np.concatenate([c_score, ces_score, lat["overall"][r], lat["nps"][r]]).astype(float)
    order = np.lexsort((metric, tp, resp))
    resp, tp, metric, score = resp[order], tp[order], metric[order], score[order]
    lo = np.array([1, 1, 1, 0])[metric]
    hi = np.array([5, 7, 10, 10])[metric]
    # comments on a few overall rows
    commenter = rng.random(nr) < COMMENT_RATE
    lang_draw = rng.random(nr)
    pick = rng.integers(0, 1000, nr)
    comments = np.full(nr, None, dtype=object)
    for i in np.flatnonzero(commenter):
        region = lat["region"][r[i]]
        lang = ("az" if region in AZ_REGIONS else "tr") if lang_draw[i] < 0.75 else "en"
        ov = lat["overall"][r[i]]
        pol = "pos" if ov >= 8 else ("neg" if ov <= 4 else "neu")
        opts = COMMENTS[(lang, pol)]
        comments[i] = opts[pick[i] % len(opts)]
    comment = np.full(len(resp), None, dtype=object)
    is_overall = metric == 2
    comment[is_overall] = comments[resp[is_overall]]
    channel = rng.choice(len(SURVEY_CHANNELS), nr, p=SURVEY_CHANNEL_P)
    cust = r[resp]
    tp_names = pa.array([*world.leaves, "journey"])
    table = pa.table({
        "response_id": _ids("R", resp_offset + resp + 1, 8),
        "customer_id": cust_ids.take(pa.array(cust)),
        "date": _dates(lat["day"][cust]),
        "touchpoint_id": tp_names.take(pa.array(tp)),
        "metric": pa.array(["csat", "ces", "overall", "nps"]).take(pa.array(metric)),
        "score": pa.array(score, pa.float64()),
        "scale_min": pa.array(lo, pa.int64()),
        "scale_max": pa.array(hi, pa.int64()),
        "comment": pa.array(comment, pa.string()),
        "segment": pa.array(SEGMENTS).take(pa.array(lat["seg"][cust])),
        "region": _REGION_ARR.take(pa.array(world.branch_region_code[lat["branch"][cust]])),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"][cust])),
        "specialist_id": pa.array(world.spec_ids).take(pa.array(lat["spec"][cust])),
        "channel": pa.array(SURVEY_CHANNELS).take(pa.array(channel[resp])),
    })
    return table, resp_offset + nr


def _people(rng: np.random.Generator, region: np.ndarray, numbers: np.ndarray
            ) -> tuple[list[str], list[str], list[str]]:
    n = len(region)
    fa, la = rng.integers(0, 10_000, n), rng.integers(0, 10_000, n)
    ph = rng.integers(0, 10_000_000, n)
    op_az = np.array(["50", "51", "55", "70", "77"])[rng.integers(0, 5, n)]
    op_tr = rng.integers(530, 560, n)
    names, emails, phones = [], [], []
    for i in range(n):
        if region[i] in AZ_REGIONS:
            first, last = AZ_FIRST[fa[i] % len(AZ_FIRST)], AZ_LAST[la[i] % len(AZ_LAST)]
            dom = "example.az"
            d = f"{ph[i]:07d}"
            phone = f"+994 {op_az[i]} {d[:3]} {d[3:5]} {d[5:]}"
        else:
            first, last = TR_FIRST[fa[i] % len(TR_FIRST)], TR_LAST[la[i] % len(TR_LAST)]
            dom = "example.com.tr"
            d = f"{ph[i]:07d}"
            phone = f"+90 {op_tr[i]} {d[:3]} {d[3:5]} {d[5:]}"
        names.append(f"{first} {last}")
        emails.append(f"{first.translate(_ASCII).lower()}.{last.translate(_ASCII).lower()}"
                      f"{numbers[i] % 1000}@{dom}")
        phones.append(phone)
    return names, emails, phones


def _customers_table(world: _World, lat: dict[str, np.ndarray], rng: np.random.Generator,
                     cust_ids: pa.Array, numbers: np.ndarray, retained: np.ndarray) -> pa.Table:
    n = len(numbers)
    signup = rng.integers(-9 * 365, 0, n)  # 2015..2023
    names, emails, phones = _people(rng, lat["region"], numbers)
    return pa.table({
        "customer_id": cust_ids,
        "segment": pa.array(SEGMENTS).take(pa.array(lat["seg"])),
        "region": _REGION_ARR.take(pa.array(world.branch_region_code[lat["branch"]])),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"])),
        "specialist_id": pa.array(world.spec_ids).take(pa.array(lat["spec"])),
        "signup_date": _dates(signup),
        "name": pa.array(names, pa.string()),
        "email": pa.array(emails, pa.string()),
        "phone": pa.array(phones, pa.string()),
        "contact_rate_planned": pa.array(lat["lam"], pa.float64()),
        "retained": pa.array(retained, pa.bool_()),
    })


def _contacts_table(world: _World, lat: dict[str, np.ndarray], rng: np.random.Generator,
                    cust_ids: pa.Array, offset: int) -> tuple[pa.Table, int, np.ndarray]:
    months = np.arange(N_MONTHS)
    tr = (world.starts[lat["branch"]][:, None, :] >= 0) & (
        world.starts[lat["branch"]][:, None, :] <= months[None, :, None])  # n, T, V
    dl = np.array([v["contacts"] for v in INNOVATIONS])
    pro_extra = tr @ (dl * np.array([v["direction"] == "proactive" for v in INNOVATIONS]))
    in_extra = tr @ (dl * np.array([v["direction"] == "inbound" for v in INNOVATIONS]))
    base = lat["lam"][:, None]
    rate_pro = base * PROACTIVE_SHARE + pro_extra
    rate_in = base * (1 - PROACTIVE_SHARE) + in_extra
    n_pro = rng.poisson(rate_pro)
    n_in = rng.poisson(rate_in)
    counts = np.stack([n_pro, n_in], -1)  # n, T, 2
    flat = counts.ravel()
    idx = np.repeat(np.arange(flat.size), flat)
    cust, month, direction = np.unravel_index(idx, counts.shape)
    nc = len(cust)
    day = MONTH_FIRST_DAY[month] + (rng.random(nc) * np.diff(
        np.append(MONTH_FIRST_DAY, N_DAYS))[month]).astype(np.int64)
    tp_names = pa.array([*CONTACT_TPS_PROACTIVE, *CONTACT_TPS_INBOUND])
    tp = np.where(direction == 0, rng.integers(0, len(CONTACT_TPS_PROACTIVE), nc),
                  len(CONTACT_TPS_PROACTIVE)
                  + rng.choice(len(CONTACT_TPS_INBOUND), nc, p=CONTACT_TPS_INBOUND_P))
    ch = rng.choice(4, nc, p=CONTACT_CHANNEL_P)
    messenger_v = [v for v, i in enumerate(INNOVATIONS) if i["id"] == "messenger_support"]
    if messenger_v:
        v = messenger_v[0]
        on = tr[cust, month, v]
        ch = np.where(on & (direction == 1) & (rng.random(nc) < 0.3), 4, ch)
    table = pa.table({
        "contact_id": _ids("K", offset + np.arange(nc) + 1, 9),
        "customer_id": cust_ids.take(pa.array(cust)),
        "date": _dates(day),
        "channel": pa.array(CONTACT_CHANNELS).take(pa.array(ch)),
        "direction": pa.array(["proactive", "inbound"]).take(pa.array(direction)),
        "touchpoint_id": tp_names.take(pa.array(tp)),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"][cust])),
    })
    per_customer = counts.sum((1, 2))
    return table, offset + nc, per_customer


# ================================================================== panel core
def _month_fe(n_periods: int) -> np.ndarray:
    t = np.arange(n_periods)
    return MONTH_FE_AMPLITUDE * np.sin(2 * np.pi * t / 12) + MONTH_FE_TREND * (t - t.mean())


def _ar1_noise(rng: np.random.Generator, n_units: int, n_periods: int) -> np.ndarray:
    """(units, periods) stationary AR(1) noise: sd PANEL_NOISE_SD, coefficient PANEL_NOISE_AR."""
    u = rng.normal(0.0, PANEL_NOISE_SD, (n_units, n_periods))
    eps = np.empty_like(u)
    eps[:, 0] = u[:, 0]
    k = math.sqrt(1.0 - PANEL_NOISE_AR**2)
    for t in range(1, n_periods):
        eps[:, t] = PANEL_NOISE_AR * eps[:, t - 1] + k * u[:, t]
    return eps


def _margin_panel(rng: np.random.Generator, alpha: np.ndarray, starts: np.ndarray,
                  n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(units, periods) margin = alpha_b + gamma_t + sum_v effect_vbt + eps (AR(1)), and D.

    ``effect_vbt`` is :func:`_innovation_effects` (cohort-varying, ramping up), ``D`` the
    (units, periods, V) 0/1 treatment indicators.
    """
    t = np.arange(n_periods)
    D = (starts[:, None, :] >= 0) & (starts[:, None, :] <= t[None, :, None])  # U, T, V
    effects = _innovation_effects(starts, n_periods).sum(-1)
    eps = _ar1_noise(rng, len(alpha), n_periods)
    return alpha[:, None] + _month_fe(n_periods)[None, :] + effects + eps, D


# =================================================================== generate
def _resolve_size(size: str | int) -> int:
    if isinstance(size, str):
        if size in SIZES:
            return SIZES[size]
        try:
            size = int(size.replace("_", ""))
        except ValueError:
            raise ParameterError([f"size {size!r}: use small, medium, large or a number of "
                                  "response rows"], source="synth") from None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ParameterError([f"size {size!r}: need at least {MIN_SIZE} response rows"],
                             source="synth")
    return int(size)


def _rows_per_respondent(world: _World) -> float:
    return float(world.p_exp.sum() + world.p_exp[world.ces_idx].sum() + 2.0)


@contextlib.contextmanager
def _atomic_dir(out: Path) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then swap it in for ``out``.

    ``out`` is replaced only when it does not exist, is empty, or already holds a
    generated world (``truth.json``); never when it is, holds or lies under
    ``data/raw``.  Anything else is refused with a :class:`ParameterError`, so a
    mistyped ``--out data`` cannot delete catalogs or exports.
    """
    out = Path(out)
    guard_write(out)
    guard_write(out.parent / f".{out.name}.tmp")
    raw = Path(config.RAW_DIR).resolve()
    if out.resolve() in raw.parents:
        raise ParameterError([f"out={str(out)!r} holds data/raw ({raw}); a generated world "
                              "replaces its folder entirely, and raw exports are immutable. "
                              "Choose a new or empty folder such as data/sample"],
                             source="synth")
    if out.exists():
        if not out.is_dir():
            raise ParameterError([f"out={str(out)!r} is a file, not a folder"], source="synth")
        if any(out.iterdir()) and not (out / "truth.json").is_file():
            raise ParameterError([
                f"out={str(out)!r} is not empty and holds no generated world (no truth.json); "
                "the generator replaces its output folder entirely, so it refuses to delete "
                "what it did not make. Choose a new or empty folder, or a previous world's"],
                source="synth")
    with atomic_dir(out, may_replace=lambda p: (p / "truth.json").is_file()) as tmp:
        yield tmp


_WRITE_OPTS = {"compression": "zstd", "write_statistics": True}


def generate(out_dir: str | Path, *, size: str | int = "small", seed: int = 1) -> Path:
    """Write the synthetic world (all contracts + ``truth.json``) to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to (re)create atomically (written to a temporary sibling, then renamed).
        It must be new, empty or a previous world (holding ``truth.json``), and not
        under ``data/raw``; anything else raises :class:`ParameterError` /
        :class:`DataError` before a byte is written.
    size
        ``"small"`` (~50k long response rows), ``"medium"`` (~1M), ``"large"``
        (~10M, responses as ``responses/part-XXXXX.parquet``) or a number of rows.
    seed
        Same seed and size -> byte-identical files.

    Returns
    -------
    Path
        ``out_dir``, holding (columns beyond the contracts of :mod:`cxlib.data.schemas` noted):

        - ``customers.parquet``: customer_id, segment (mass/affluent/business), region
          (Baku/Ganja/Istanbul/Ankara), branch_id (B01..B40), specialist_id (E001..),
          signup_date, name, email, phone (personal), contact_rate_planned (baseline
          contacts per month), retained (renewed at the end of 2025).
        - ``employees.parquet``: employee_id, branch_id, role ("service_specialist"),
          satisfaction (1-5), tenure_years, accounts_served, name, region.
        - ``responses.parquet`` (or ``responses/part-XXXXX.parquet`` above 2M rows):
          response_id, customer_id, date, touchpoint_id, metric (csat/ces on leaves,
          overall/nps on ``"journey"``), score, scale_min, scale_max, comment, segment,
          region, branch_id, specialist_id, channel (survey mode).
        - ``orders.parquet``: order_id, customer_id, date, revenue, cost, margin,
          branch_id, channel (store/online/phone).
        - ``contacts.parquet``: contact_id, customer_id, date, channel, direction
          (proactive/inbound), touchpoint_id, branch_id.
        - ``innovations.parquet``: innovation_id, name, unit_id, start_date,
          cost_per_period, one_off_cost.
        - ``truth.json``: every planted parameter (keys of the brief plus extras).

    Notes
    -----
    See the module docstring for the model; truth.json lists every planted value.
    Rows are generated in chunks of ``CHUNK_CUSTOMERS`` customers (each chunk with its
    own seeded stream), so memory stays bounded (about 2 GiB at 10M rows).
    """
    out = Path(out_dir)
    guard_write(out)  # raw exports are immutable: refuse before any work
    rows_target = _resolve_size(size)
    seed = int(seed)
    world = _world(seed)
    truth = _world_truth(world)
    n_customers = max(50, math.ceil(rows_target / _rows_per_respondent(world) / RESPONSE_RATE))
    parts = rows_target > PARTS_ABOVE
    B = len(world.branch_ids)
    silent = [*NEVER_ASKED, *LOW_BASE]
    n_silent = dict.fromkeys(silent, 0)
    with _atomic_dir(out) as tmp:
        if parts:
            (tmp / "responses").mkdir()
            resp_writer = None
        else:
            resp_writer = None
        cust_writer = contact_writer = None
        n_rows = n_resp = n_contacts = 0
        spec_count = np.zeros(len(world.spec_ids), np.int64)
        alpha = np.zeros(B)
        # order skeletons kept for the second pass (numeric only)
        o_cust, o_month, o_branch, o_planned, o_day, o_chan = [], [], [], [], [], []
        for ci, c0 in enumerate(range(0, n_customers, CHUNK_CUSTOMERS)):
            n = min(CHUNK_CUSTOMERS, n_customers - c0)
            rng = np.random.default_rng([seed, 2, ci])
            numbers = np.arange(c0, c0 + n) + 1
            cust_ids = _ids("C", numbers, 8)
            lat = _chunk_latents(world, rng, n)
            spec_count += np.bincount(lat["spec"], minlength=len(world.spec_ids))
            # responses
            rtab, n_resp_new = _responses_table(world, lat, rng, cust_ids, n_resp)
            n_resp = n_resp_new
            n_rows += rtab.num_rows
            for tp in silent:  # respondents at the planted blind spots / low-base leaves
                n_silent[tp] += int(pc.sum(pc.equal(rtab["touchpoint_id"], tp)).as_py() or 0)
            if parts:
                pq.write_table(rtab, tmp / "responses" / f"part-{ci:05d}.parquet", **_WRITE_OPTS)
            else:
                if resp_writer is None:
                    resp_writer = pq.ParquetWriter(tmp / "responses.parquet", rtab.schema,
                                                   **_WRITE_OPTS)
                resp_writer.write_table(rtab)
            # contacts
            ctab, n_contacts, per_cust = _contacts_table(world, lat, rng, cust_ids, n_contacts)
            if contact_writer is None:
                contact_writer = pq.ParquetWriter(tmp / "contacts.parquet", ctab.schema,
                                                  **_WRITE_OPTS)
            contact_writer.write_table(ctab)
            # retention: inverted U in the customer's average contact rate
            lam_avg = per_cust / N_MONTHS
            o_ref = float(world.w @ world.mu)
            p_ret = expit(RETENTION_INTERCEPT + RETENTION_PER_OVERALL_LATENT * (lat["o"] - o_ref)
                          - RETENTION_CURVATURE * (lam_avg - CONTACT_OPTIMUM) ** 2)
            retained = rng.random(n) < p_ret
            ctab2 = _customers_table(world, lat, rng, cust_ids, numbers, retained)
            if cust_writer is None:
                cust_writer = pq.ParquetWriter(tmp / "customers.parquet", ctab2.schema,
                                               **_WRITE_OPTS)
            cust_writer.write_table(ctab2)
            # orders skeleton: planned 24-month margin spread over the customer's orders
            M = (SEGMENT_MARGIN[lat["seg"]] + MARGIN_PER_OVERALL_POINT * lat["overall"]
                 + rng.normal(0.0, MARGIN_NOISE_SD, n))
            alpha += np.bincount(lat["branch"], weights=M / N_MONTHS, minlength=B)
            k = rng.poisson(ORDER_RATE, (n, N_MONTHS))
            tot = k.sum(1)
            flat = k.ravel()
            idx = np.repeat(np.arange(flat.size), flat)
            cu, mo = np.divmod(idx, N_MONTHS)
            o_cust.append((cu + c0).astype(np.int64))
            o_month.append(mo.astype(np.int16))
            o_branch.append(lat["branch"][cu].astype(np.int16))
            o_planned.append(M[cu] / np.maximum(tot[cu], 1))
            lens = np.diff(np.append(MONTH_FIRST_DAY, N_DAYS))[mo]
            o_day.append(MONTH_FIRST_DAY[mo] + (rng.random(len(mo)) * lens).astype(np.int64))
            o_chan.append(rng.choice(len(ORDER_CHANNELS), len(mo), p=ORDER_CHANNEL_P))
        resp_writer is not None and resp_writer.close()
        contact_writer.close()
        cust_writer.close()
        # second pass: the branch x month panel, split into orders
        prng = np.random.default_rng(world.panel_rng_seed)
        panel, _ = _margin_panel(prng, alpha, world.starts, N_MONTHS)
        cu = np.concatenate(o_cust)
        mo = np.concatenate(o_month).astype(np.int64)
        br = np.concatenate(o_branch).astype(np.int64)
        planned = np.concatenate(o_planned)
        cell = br * N_MONTHS + mo
        n_cell = np.bincount(cell, minlength=B * N_MONTHS)
        planned_cell = np.bincount(cell, weights=planned, minlength=B * N_MONTHS)
        resid = (panel.ravel() - planned_cell) / np.maximum(n_cell, 1)
        margin = np.round(planned + resid[cell], 2)
        orng = np.random.default_rng([seed, 3])
        cost = np.round(np.abs(margin) * orng.uniform(*ORDER_COST_PER_MARGIN, len(margin))
                        + ORDER_COST_FLOOR, 2)
        revenue = np.round(margin + cost, 2)
        margin = revenue - cost
        day = np.concatenate(o_day)
        chan = np.concatenate(o_chan)
        # order rows sorted by date then customer, written in row groups
        order = np.lexsort((cu, day))
        n_orders = len(order)
        ow = None
        branch_arr = pa.array(world.branch_ids)
        for s in range(0, max(n_orders, 1), 2_000_000):
            sel = order[s:s + 2_000_000]
            otab = pa.table({
                "order_id": _ids("O", s + np.arange(len(sel)) + 1, 9),
                "customer_id": _ids("C", cu[sel] + 1, 8),
                "date": _dates(day[sel]),
                "revenue": pa.array(revenue[sel]),
                "cost": pa.array(cost[sel]),
                "margin": pa.array(margin[sel]),
                "branch_id": branch_arr.take(pa.array(br[sel])),
                "channel": pa.array(ORDER_CHANNELS).take(pa.array(chan[sel])),
            })
            if ow is None:
                ow = pq.ParquetWriter(tmp / "orders.parquet", otab.schema, **_WRITE_OPTS)
            ow.write_table(otab)
        ow.close()
        # employees and innovations
        pq.write_table(pa.table({
            "employee_id": pa.array(world.spec_ids),
            "branch_id": branch_arr.take(pa.array(world.spec_branch)),
            "role": pa.array(["service_specialist"] * len(world.spec_ids)),
            "satisfaction": pa.array(world.spec_sat),
            "tenure_years": pa.array(world.spec_tenure),
            "accounts_served": pa.array(spec_count),
            "name": pa.array(world.spec_names, pa.string()),
            "region": pa.array(world.branch_region[world.spec_branch].tolist(), pa.string()),
        }), tmp / "employees.parquet", **_WRITE_OPTS)
        pq.write_table(_innovations_table(world.starts, world.branch_ids),
                       tmp / "innovations.parquet", **_WRITE_OPTS)
        truth = {"seed": seed, "size": size if size in SIZES else rows_target,
                 "rows_target": rows_target, "n_customers": n_customers,
                 "n_responses": n_resp, "n_response_rows": n_rows, "n_orders": n_orders,
                 "n_contacts": n_contacts, "responses_layout": "parts" if parts else "file",
                 **truth}
        truth["coverage"] = {**truth["coverage"], "n_respondents": n_silent}
        (tmp / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False,
                                                   sort_keys=False) + "\n", encoding="utf-8")
    return out


def _innovations_table(starts: np.ndarray, unit_ids: list[str]) -> pa.Table:
    rows: dict[str, list] = {k: [] for k in ("innovation_id", "name", "unit_id", "start_date",
                                             "cost_per_period", "one_off_cost")}
    for v, inn in enumerate(INNOVATIONS):
        for u in np.flatnonzero(starts[:, v] >= 0):
            rows["innovation_id"].append(inn["id"])
            rows["name"].append(inn["name"])
            rows["unit_id"].append(unit_ids[u])
            rows["start_date"].append(MONTH_STARTS[starts[u, v]].astype("datetime64[ns]"))
            rows["cost_per_period"].append(inn["cost"])
            rows["one_off_cost"].append(inn["one_off"])
    return pa.table({
        "innovation_id": pa.array(rows["innovation_id"], pa.string()),
        "name": pa.array(rows["name"], pa.string()),
        "unit_id": pa.array(rows["unit_id"], pa.string()),
        "start_date": pa.array(np.array(rows["start_date"], dtype="datetime64[ns]")),
        "cost_per_period": pa.array(rows["cost_per_period"], pa.float64()),
        "one_off_cost": pa.array(rows["one_off_cost"], pa.float64()),
    })


# ============================================================ fast simulators
@lru_cache(maxsize=8)
def _cached_truth(world_seed: int) -> dict[str, Any]:
    return _world_truth(_world(world_seed))


def simulate_survey(n_respondents: int, *, seed: int, world_seed: int = 1
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A fresh survey of ``n_respondents`` from the fixed world ``world_seed``.

    Parameters
    ----------
    n_respondents
        Respondents (each answers the leaves they experienced, CES where
        relevant, overall and NPS on ``"journey"``).
    seed
        Sampling seed: different seeds give independent surveys of the same world.
    world_seed
        The world (planted parameters); the truth is the same for every ``seed``.

    Returns
    -------
    responses : DataFrame
        Long responses: response_id, customer_id, date, touchpoint_id, metric,
        score, scale_min, scale_max, comment, segment, region, branch_id,
        specialist_id, channel.
    truth : dict
        Same keys as ``truth.json`` (touchpoint_means is the exact population
        expectation each touchpoint's sample mean estimates).
    """
    if int(n_respondents) < 1:
        raise ParameterError([f"n_respondents={n_respondents}: need at least 1"],
                             source="simulate_survey")
    world = _world(int(world_seed))
    truth = dict(_cached_truth(int(world_seed)))
    rng = np.random.default_rng([int(seed), 9])
    n = int(n_respondents)
    lat = _chunk_latents(world, rng, n)
    lat["respondent"][:] = True
    tab, _ = _responses_table(world, lat, rng, _ids("C", np.arange(n) + 1, 8), 0)
    df = tab.to_pandas()
    truth.update({"seed": int(seed), "world_seed": int(world_seed), "n_responses": n,
                  "n_customers": n, "size": tab.num_rows})
    silent = [*NEVER_ASKED, *LOW_BASE]
    counts = df.loc[df["touchpoint_id"].isin(silent), "touchpoint_id"].value_counts()
    truth["coverage"] = {**truth["coverage"],
                         "n_respondents": {tp: int(counts.get(tp, 0)) for tp in silent}}
    return df, truth


def simulate_innovation_panel(*, seed: int, n_units: int = 40, n_periods: int = 24
                              ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Branch x month panel with staggered innovations and planted effects (fast).

    Parameters
    ----------
    seed
        Seed of the unit effects, cohorts and noise.
    n_units, n_periods
        Panel size (units are ``U001``...; periods are month starts from 2024-01).

    Returns
    -------
    panel : DataFrame
        unit_id, period (month start), period_index, margin (alpha_u + gamma_t +
        sum_v effect_v + AR(1) eps; effects vary by cohort and ramp up after adoption,
        see ``truth["innovations"][v]["effect_model"]``), csat (mean CSAT of the
        unit-month: unit level + effect_on_csat D + noise), contacts (per
        customer-month, effect_on_contacts D), and one
        ``treated_<innovation_id>`` 0/1 column per innovation.
    innovations : DataFrame
        The innovations contract (one row per innovation x treated unit).
    truth : dict
        ``innovations`` as in truth.json (att_margin_per_unit_period — the overall ATT of
        THIS panel's design, with att_by_cohort and att_by_event_time —, costs, pays,
        decision, starts ...), plus ``panel`` noise parameters.
    """
    if n_units < 4 or n_periods < 4:
        raise ParameterError([f"n_units={n_units}, n_periods={n_periods}: need at least 4 each"],
                             source="simulate_innovation_panel")
    wt = _cached_truth(1)
    rng = np.random.default_rng([int(seed), 11])
    starts = _assign_innovations(rng, n_units, n_periods)
    alpha = rng.normal(8000.0, 2500.0, n_units)
    margin, D = _margin_panel(rng, alpha, starts, n_periods)
    eff_csat = np.array([wt["innovations"][v["id"]]["effect_on_csat"] for v in INNOVATIONS])
    eff_cont = np.array([v["contacts"] for v in INNOVATIONS])
    csat = (rng.normal(3.6, 0.15, n_units)[:, None] + D @ eff_csat
            + rng.normal(0.0, 0.04, (n_units, n_periods)))
    contacts = (rng.normal(1.1, 0.1, n_units)[:, None] + D @ eff_cont
                + rng.normal(0.0, 0.05, (n_units, n_periods)))
    unit_ids = [f"U{i + 1:03d}" for i in range(n_units)]
    periods = pd.date_range("2024-01-01", periods=n_periods, freq="MS")
    panel = pd.DataFrame({
        "unit_id": np.repeat(unit_ids, n_periods),
        "period": np.tile(periods.values, n_units),
        "period_index": np.tile(np.arange(n_periods), n_units),
        "margin": margin.ravel(),
        "csat": csat.ravel(),
        "contacts": contacts.ravel(),
    })
    for v, inn in enumerate(INNOVATIONS):
        panel[f"treated_{inn['id']}"] = D[:, :, v].ravel().astype(np.int64)
    inn_df = _innovations_table(starts, unit_ids).to_pandas()
    innovations = {}
    margin_truth = _innovation_margin_truth(starts, n_periods,
                                            [str(p.date()) for p in periods])
    for v, inn in enumerate(INNOVATIONS):
        t = dict(wt["innovations"][inn["id"]])
        t.update(margin_truth[inn["id"]])  # this panel's design: its own overall ATT
        net = (t["att_margin_per_unit_period"] - inn["cost"]
               - inn["one_off"] / AMORTISATION_PERIODS)
        t.update(net_per_unit_period=net, pays=bool(net > 0),
                 decision="scale" if net > 0 else "roll_back")
        t["unit"] = "unit_id"
        t["starts"] = {unit_ids[u]: str(periods[starts[u, v]].date())
                       for u in np.flatnonzero(starts[:, v] >= 0)}
        innovations[inn["id"]] = t
    truth = {"seed": int(seed), "n_units": n_units, "n_periods": n_periods,
             "innovations": innovations, "panel": dict(wt["panel"]),
             "never_treated": [unit_ids[u] for u in np.flatnonzero((starts < 0).all(1))]}
    return panel, inn_df, truth


def simulate_rollout(*, seed: int, innovation: str, n_units: int = 40, n_periods: int = 24,
                     pretrend: float = 0.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One innovation's analysis panel from :func:`simulate_innovation_panel` (fast).

    Keeps the units that got ``innovation`` and the never-treated ones, in the layout of
    :func:`cxlib.analysis.innovation.build_panel`.

    Parameters
    ----------
    seed, n_units, n_periods
        As in :func:`simulate_innovation_panel`.
    innovation
        One of the innovation ids (``proactive_calls``, ``self_service_kiosk``,
        ``messenger_support``).
    pretrend
        Planted violation of parallel trends: treated units' margin drifts by
        ``pretrend`` per period relative to the controls, before and after adoption
        (``margin += pretrend * (t - first_treated)``); 0 = parallel trends hold.

    Returns
    -------
    panel : DataFrame
        unit_id, period, t (0-based), margin, csat, contacts, first_treated (NaN =
        never), treated (0/1), rel (t - first_treated).
    truth : dict
        The innovation's entry of ``truth["innovations"]`` (overall ATT of this design,
        by cohort and event time, costs, decision) plus ``pretrend_per_period``.
    """
    panel, _, truth = simulate_innovation_panel(seed=seed, n_units=n_units, n_periods=n_periods)
    if innovation not in truth["innovations"]:
        raise ParameterError([f"innovation={innovation!r}: one of "
                              f"{sorted(truth['innovations'])}"], source="simulate_rollout")
    info = dict(truth["innovations"][innovation])
    keep = set(info["starts"]) | set(truth["never_treated"])
    p = panel[panel["unit_id"].isin(keep)].rename(columns={"period_index": "t"})
    treated = p[f"treated_{innovation}"]
    first = p["t"].where(treated == 1).groupby(p["unit_id"]).transform("min")
    p = p.assign(first_treated=first.astype(float), treated=treated.astype(int),
                 rel=(p["t"] - first).astype(float))
    p["margin"] = p["margin"] + pretrend * p["rel"].fillna(0.0)
    cols = ["unit_id", "period", "t", "margin", "csat", "contacts", "first_treated",
            "treated", "rel"]
    info["pretrend_per_period"] = float(pretrend)
    return p[cols].reset_index(drop=True), info


# ======================================================== benchmark worlds
def ensure_bench_world(size: str | int = "large", seed: int = 7) -> Path:
    """``data/bench/world_<size>_<seed>``, generated only if missing.

    A lock file (``O_EXCL``, holding the generating process id) makes concurrent
    callers wait for the one that generates; a lock whose process is gone (or
    older than 30 minutes) is taken over.
    """
    bench = config.DATA_DIR / "bench"
    out = bench / f"world_{size}_{seed}"
    if (out / "truth.json").exists():
        return out
    bench.mkdir(parents=True, exist_ok=True)
    lock = bench / f"world_{size}_{seed}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if (out / "truth.json").exists():
                return out
            if _lock_is_stale(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            time.sleep(1.0)
            continue
        try:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            if not (out / "truth.json").exists():
                generate(out, size=size, seed=seed)
            return out
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


def _lock_is_stale(lock: Path) -> bool:
    try:
        age = time.time() - lock.stat().st_mtime
        text = lock.read_text().strip()
    except FileNotFoundError:
        return False
    if age > 1800:
        return True
    if not text.isdigit():
        return age > 10  # being written just now, or garbage
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ===================================================================== CLI
def main(argv: list[str] | None = None) -> int:
    """``cx synth --size small|medium|large|N --seed S --out DIR``."""
    ap = argparse.ArgumentParser(prog="cx synth", description="Generate the synthetic CX world "
                                 "with planted truth (truth.json beside the data).")
    ap.add_argument("--size", default="small",
                    help="small (~50k response rows), medium (~1M), large (~10M) or a number")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(config.SAMPLE_DIR), help="output folder")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    t0 = time.perf_counter()
    out = generate(args.out, size=args.size, seed=args.seed)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    print(f"wrote {out}: {truth['n_customers']} customers, {truth['n_responses']} surveys, "
          f"{truth['n_response_rows']} response rows, {truth['n_orders']} orders, "
          f"{truth['n_contacts']} contacts in {time.perf_counter() - t0:.1f} s")
    return 0
