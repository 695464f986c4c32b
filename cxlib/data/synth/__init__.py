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

Layout (one module per job)
---------------------------
``constants``  planted parameters (every one lands in ``truth.json["constants"]``)
``model``      the world model (:class:`~cxlib.data.synth.model.World`), innovations, panel core
``truth``      exact population truth of a model
``customers``, ``responses``, ``contacts``  the per-chunk table generators
``world``      :func:`generate`: chunks, orders, employees, innovations, truth.json, ``cx synth``;
               ``SUB_GENERATORS`` lists the sub-generators run after the core tables
``extend``     the sub-generator contract (:class:`WorldSoFar` in, :class:`Extension` out)
``simulate``   fast in-memory surveys and innovation panels
``bench``      benchmark worlds generated once

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

from cxlib.data.synth import constants
from cxlib.data.synth.bench import ensure_bench_world
from cxlib.data.synth.constants import SIZES, planted_constants
from cxlib.data.synth.extend import Extension, SubGenerator, WorldSoFar
from cxlib.data.synth.simulate import simulate_innovation_panel, simulate_rollout, simulate_survey
from cxlib.data.synth.world import SUB_GENERATORS, generate, main

__all__ = [
    "SIZES",
    "SUB_GENERATORS",
    "Extension",
    "SubGenerator",
    "WorldSoFar",
    "constants",
    "ensure_bench_world",
    "generate",
    "main",
    "planted_constants",
    "simulate_innovation_panel",
    "simulate_rollout",
    "simulate_survey",
]
