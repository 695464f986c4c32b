"""Customers: one chunk's latent draws (answers, contacts rate) and the customers table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlib.data.synth.arrays import REGION_NAMES, date_array
from cxlib.data.synth.constants import (
    AZ_FIRST,
    AZ_LAST,
    AZ_REGIONS,
    CES_CUTS,
    CONTACT_LEVELS,
    CONTACT_P,
    CSAT_CUTS,
    MONTH_OF_DAY,
    MOVES,
    N_DAYS,
    NPS_CUTS,
    OVERALL_CUTS,
    RESPONSE_RATE,
    SEGMENT_P,
    SEGMENTS,
    SIGMA_CES,
    SIGMA_E,
    SIGMA_N,
    SIGMA_O,
    SIGMA_U,
    TR_FIRST,
    TR_LAST,
)
from cxlib.data.synth.model import World

__all__ = ["chunk_latents", "customers_table", "people"]

#: Azerbaijani and Turkish letters -> ASCII, for e-mail addresses.
_ASCII = str.maketrans({"ə": "e", "Ə": "E", "ı": "i", "İ": "I", "ş": "s", "Ş": "S", "ç": "c",
                        "Ç": "C", "ğ": "g", "Ğ": "G", "ö": "o", "Ö": "O", "ü": "u", "Ü": "U"})

# ============================================================ customer chunks
def chunk_latents(world: World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
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
        z[:, k] += mv["latent"] * world.move_mask(mv, seg, region, month)
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



def people(rng: np.random.Generator, region: np.ndarray, numbers: np.ndarray
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


def customers_table(world: World, lat: dict[str, np.ndarray], rng: np.random.Generator,
                     cust_ids: pa.Array, numbers: np.ndarray, retained: np.ndarray) -> pa.Table:
    n = len(numbers)
    signup = rng.integers(-9 * 365, 0, n)  # 2015..2023
    names, emails, phones = people(rng, lat["region"], numbers)
    return pa.table({
        "customer_id": cust_ids,
        "segment": pa.array(SEGMENTS).take(pa.array(lat["seg"])),
        "region": REGION_NAMES.take(pa.array(world.branch_region_code[lat["branch"]])),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"])),
        "specialist_id": pa.array(world.spec_ids).take(pa.array(lat["spec"])),
        "signup_date": date_array(signup),
        "name": pa.array(names, pa.string()),
        "email": pa.array(emails, pa.string()),
        "phone": pa.array(phones, pa.string()),
        "contact_rate_planned": pa.array(lat["lam"], pa.float64()),
        "retained": pa.array(retained, pa.bool_()),
    })

