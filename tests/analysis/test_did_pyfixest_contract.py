"""cxlib.analysis.did reads a few attributes pyfixest does not document; fail loudly if they go.

pyfixest (>= 0.60, pinned in pyproject.toml) keeps the fitted sample size,
coefficient names, estimates and covariance in ``_N``, ``_coefnames``,
``_beta_hat`` and ``_vcov``. An upgrade that renames them must fail here, not
silently change a report's n or interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_pyfixest_fit_exposes_what_did_reads():
    import pyfixest as pf

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"unit_id": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(1, 7), 40)})
    d["treated"] = ((d["unit_id"] < 20) & (d["t"] >= 4)).astype(int)
    d["y"] = 2.0 * d["treated"] + rng.normal(size=len(d))
    d = pd.concat([d, pd.DataFrame({"unit_id": [99], "t": [1], "treated": [0], "y": [0.0]})])
    fit = pf.feols("y ~ treated | unit_id + t", data=d, vcov={"CRV1": "unit_id"})
    assert int(fit._N) == len(d) - 1  # the singleton unit 99 is dropped
    assert list(fit._coefnames) == ["treated"]
    beta = np.asarray(fit._beta_hat, dtype=float)
    V = np.asarray(fit._vcov, dtype=float)
    assert beta.shape == (1,) and V.shape == (1, 1)
    # the private values equal the public accessors
    assert np.isclose(beta[0], float(fit.coef()["treated"]))
    assert np.isclose(np.sqrt(V[0, 0]), float(fit.se()["treated"]))
