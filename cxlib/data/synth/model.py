"""The planted world model: catalog roles, branches, specialists, innovations, the
latent mixture, and the branch x month margin panel core.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr

from cxlib import config
from cxlib.data.synth import constants as const
from cxlib.data.synth.constants import (
    AZ_FIRST,
    AZ_LAST,
    AZ_REGIONS,
    CES_TOUCHPOINTS,
    CONTACT_CURVATURE,
    CONTACT_LEVELS,
    CONTACT_OPTIMUM,
    CONTACT_P,
    CONTACT_TPS_INBOUND,
    CONTACT_TPS_PROACTIVE,
    DRIVERS,
    EFFECT_RAMP_DECAY,
    EFFECT_RAMP_START,
    INNOVATIONS,
    MONTH_FE_AMPLITUDE,
    MONTH_FE_TREND,
    MONTH_P,
    MONTH_STARTS,
    MOVES,
    N_MONTHS,
    PANEL_NOISE_AR,
    PANEL_NOISE_SD,
    REGION_BRANCHES,
    SEGMENT_EFFECT,
    SEGMENT_P,
    SEGMENTS,
    SPEC_PER_SAT_POINT,
    SPEC_PER_TENURE_YEAR,
    SPEC_SAT_CENTRE,
    SPEC_TENURE_CENTRE,
    TR_FIRST,
    TR_LAST,
    WEAK_GAP,
    WEAK_LINKS,
)
from cxlib.errors import CatalogError
from cxlib.io import read_yaml

__all__ = [
    "World", "ar1_noise", "assign_innovations", "catalog_touchpoints", "cohort_starts",
    "effect_ramp", "expected_score", "innovation_effects", "innovation_margin_truth",
    "margin_panel", "month_fe", "month_index", "world_model",
]

# ===================================================================== world
def catalog_touchpoints(path: Path | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else config.catalog_path("retail")
    if not path.exists():
        raise CatalogError(f"retail catalog {path} not found; the generator reads touchpoint "
                           "ids and stages from it (engineer A's data/touchpoints/retail.yml)")
    raw = read_yaml(path, what="touchpoint catalog")
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
    silent = set(const.NEVER_ASKED) | set(const.LOW_BASE)
    problems = sorted(silent - set(leaves))
    if problems:
        raise CatalogError(f"planted blind spots / low-base touchpoints {problems} must be "
                           f"leaves of {path}")
    clash = sorted(silent & (planted | set(CONTACT_TPS_INBOUND) | set(CONTACT_TPS_PROACTIVE)))
    if clash:
        raise CatalogError(f"touchpoints {clash} cannot be both never asked / low base and "
                           "carry another planted role (driver, weak link, CES, move, contacts)")
    return {"leaves": leaves, "stage_of": stage_of, "stages": stages, "ids": ids}


class World:
    """Every planted parameter of one world (deterministic in ``seed``)."""

    def __init__(self, seed: int, catalog_path: Path | None = None) -> None:
        cat = catalog_touchpoints(catalog_path)
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
        self.never_idx = np.array([kidx[k] for k in const.NEVER_ASKED], dtype=np.int64)
        self.low_idx = np.array([kidx[k] for k in const.LOW_BASE], dtype=np.int64)
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
        self.starts = assign_innovations(rng, len(self.branch_ids), N_MONTHS)
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
            out += mv["latent"] * self.move_mask(mv, seg, region, month)
        return out

    @staticmethod
    def move_mask(mv: dict, seg: np.ndarray, region: np.ndarray, month: np.ndarray) -> np.ndarray:
        m0, m1 = month_index(mv["start"]), month_index(mv["end"])
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


def month_index(date: str) -> int:
    d = np.datetime64(date, "M")
    return int((d - MONTH_STARTS[0]).astype(int))


def cohort_starts(inn: dict[str, Any], n_periods: int) -> list[int]:
    """Adoption periods of an innovation's cohorts in a window of ``n_periods``."""
    return [min(n_periods - 1, round(c / N_MONTHS * n_periods)) for c in inn["cohorts"]]


def assign_innovations(rng: np.random.Generator, n_units: int, n_periods: int) -> np.ndarray:
    """(n_units, V) start period per innovation (-1 = never); disjoint unit sets."""
    order = rng.permutation(n_units)
    starts = np.full((n_units, len(INNOVATIONS)), -1, dtype=np.int64)
    pos = 0
    for v, inn in enumerate(INNOVATIONS):
        n = round(inn["share"] * n_units)
        units = order[pos:pos + n]
        pos += n
        cohorts = cohort_starts(inn, n_periods)
        for i, u in enumerate(units):
            starts[u, v] = cohorts[i * len(cohorts) // max(n, 1)]
    return starts


def effect_ramp(e: np.ndarray) -> np.ndarray:
    """Share of the steady-state effect ``e`` periods after adoption (0 before it)."""
    e = np.asarray(e, dtype=float)
    ramp = 1.0 - (1.0 - EFFECT_RAMP_START) * EFFECT_RAMP_DECAY ** np.maximum(e, 0.0)
    return np.where(e >= 0, ramp, 0.0)


def innovation_effects(starts: np.ndarray, n_periods: int) -> np.ndarray:
    """(units, periods, V) planted effect of each innovation on branch-month margin.

    effect = att_v x cohort_effect_v[c] x ramp(t - start): it differs by cohort and grows
    with time since adoption, so a static TWFE coefficient is not the ATT (its implicit
    comparisons of later with earlier adopters subtract growing effects).
    """
    t = np.arange(n_periods)
    out = np.zeros((starts.shape[0], n_periods, len(INNOVATIONS)))
    for v, inn in enumerate(INNOVATIONS):
        mult = np.zeros(starts.shape[0])
        for c, m in zip(cohort_starts(inn, n_periods), inn["cohort_effect"], strict=True):
            mult[starts[:, v] == c] = m
        e = t[None, :] - starts[:, v][:, None]
        on = (starts[:, v][:, None] >= 0) & (e >= 0)
        out[:, :, v] = np.where(on, inn["att"] * mult[:, None] * effect_ramp(e), 0.0)
    return out


def innovation_margin_truth(starts: np.ndarray, n_periods: int,
                             labels: list[str]) -> dict[str, dict[str, Any]]:
    """Per innovation, the planted margin effect summarised as the targets estimators aim at.

    ``att_margin_per_unit_period`` is the mean planted effect over the treated unit-periods
    of the window (the overall ATT: incremental margin = it x treated unit-periods, the money
    target; Callaway-Sant'Anna's "simple" aggregation estimates it), plus the mean by cohort
    (``labels`` names the periods) and by months since adoption.
    """
    eff = innovation_effects(starts, n_periods)
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
            "cohort_effect": dict(zip([labels[c] for c in cohort_starts(inn, n_periods)],
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


def expected_score(x: np.ndarray, cuts: np.ndarray, sd: float) -> np.ndarray:
    """E[#{cuts < x + N(0, sd^2)}] elementwise (exact, normal CDF)."""
    return ndtr((x[..., None] - cuts) / sd).sum(-1)


@lru_cache(maxsize=8)
def world_model(seed: int) -> World:
    return World(seed)


# ================================================================== panel core
def month_fe(n_periods: int) -> np.ndarray:
    t = np.arange(n_periods)
    return MONTH_FE_AMPLITUDE * np.sin(2 * np.pi * t / 12) + MONTH_FE_TREND * (t - t.mean())


def ar1_noise(rng: np.random.Generator, n_units: int, n_periods: int) -> np.ndarray:
    """(units, periods) stationary AR(1) noise: sd PANEL_NOISE_SD, coefficient PANEL_NOISE_AR."""
    u = rng.normal(0.0, PANEL_NOISE_SD, (n_units, n_periods))
    eps = np.empty_like(u)
    eps[:, 0] = u[:, 0]
    k = math.sqrt(1.0 - PANEL_NOISE_AR**2)
    for t in range(1, n_periods):
        eps[:, t] = PANEL_NOISE_AR * eps[:, t - 1] + k * u[:, t]
    return eps


def margin_panel(rng: np.random.Generator, alpha: np.ndarray, starts: np.ndarray,
                  n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(units, periods) margin = alpha_b + gamma_t + sum_v effect_vbt + eps (AR(1)), and D.

    ``effect_vbt`` is :func:`innovation_effects` (cohort-varying, ramping up), ``D`` the
    (units, periods, V) 0/1 treatment indicators.
    """
    t = np.arange(n_periods)
    D = (starts[:, None, :] >= 0) & (starts[:, None, :] <= t[None, :, None])  # U, T, V
    effects = innovation_effects(starts, n_periods).sum(-1)
    eps = ar1_noise(rng, len(alpha), n_periods)
    return alpha[:, None] + month_fe(n_periods)[None, :] + effects + eps, D

