"""Planted parameters and layout constants of the synthetic world.

Every upper-case name here that is not in :data:`NOT_PLANTED` is written to
``truth.json["constants"]`` by :func:`planted_constants`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = [
    "AMORTISATION_PERIODS", "AZ_FIRST", "AZ_LAST", "AZ_REGIONS", "CES_CUTS", "CES_TOUCHPOINTS",
    "CHUNK_CUSTOMERS", "COMMENTS", "COMMENT_RATE", "CONTACT_CHANNELS", "CONTACT_CHANNEL_P",
    "CONTACT_CURVATURE", "CONTACT_LEVELS", "CONTACT_OPTIMUM", "CONTACT_P",
    "CONTACT_TPS_INBOUND", "CONTACT_TPS_INBOUND_P", "CONTACT_TPS_PROACTIVE", "CSAT_CUTS",
    "DRIVERS", "EFFECT_RAMP_DECAY", "EFFECT_RAMP_START", "INNOVATIONS", "LOW_BASE",
    "LOW_BASE_PILOT", "MARGIN_NOISE_SD", "MARGIN_PER_OVERALL_POINT", "MIN_SIZE",
    "MONTH_FE_AMPLITUDE", "MONTH_FE_TREND", "MONTH_FIRST_DAY", "MONTH_OF_DAY", "MONTH_P",
    "MONTH_STARTS", "MOVES", "NEVER_ASKED", "NOT_PLANTED", "NPS_CUTS", "N_DAYS", "N_MONTHS",
    "ORDER_CHANNELS", "ORDER_CHANNEL_P", "ORDER_COST_FLOOR", "ORDER_COST_PER_MARGIN",
    "ORDER_RATE", "OVERALL_CUTS", "PANEL_NOISE_AR", "PANEL_NOISE_SD", "PARTS_ABOVE",
    "PROACTIVE_SHARE", "REGION_BRANCHES", "RESPONSE_RATE", "RETENTION_CURVATURE",
    "RETENTION_INTERCEPT", "RETENTION_PER_OVERALL_LATENT", "SEGMENTS", "SEGMENT_EFFECT",
    "SEGMENT_MARGIN", "SEGMENT_P", "SIGMA_CES", "SIGMA_E", "SIGMA_N", "SIGMA_O", "SIGMA_U",
    "SIZES", "SPEC_PER_SAT_POINT", "SPEC_PER_TENURE_YEAR", "SPEC_SAT_CENTRE",
    "SPEC_TENURE_CENTRE", "START", "SURVEY_CHANNELS", "SURVEY_CHANNEL_P", "TR_FIRST",
    "TR_LAST", "WEAK_GAP", "WEAK_LINKS", "planted_constants",
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
#: Innovations: names (``name`` in English, ``name_tr``/``name_az``: the brief names an
#: innovation in its reader's language; plain strings, no draw depends on them),
#: steady-state margin effect ("att", per branch-month, for a cohort with
#: cohort_effect 1), costs, side effects; cohorts as months of a 24-month window (scaled to
#: other lengths), each with its own effect multiplier (earlier adopters gain more).
INNOVATIONS = (
    {"id": "proactive_calls", "name": "Proactive service calls", "att": 900.0,
     "name_tr": "Proaktif hizmet aramaları", "name_az": "Proaktiv xidmət zəngləri",
     "cost": 1000.0, "one_off": 6000.0, "contacts": 0.6, "direction": "proactive",
     "csat_latent": -0.10, "share": 0.3, "cohorts": (6, 9, 12),
     "cohort_effect": (1.3, 1.0, 0.7)},
    {"id": "self_service_kiosk", "name": "Self-service kiosks", "att": 2500.0,
     "name_tr": "Self servis kiosklar", "name_az": "Özünəxidmət kioskları",
     "cost": 400.0, "one_off": 14400.0, "contacts": 0.0, "direction": "inbound",
     "csat_latent": 0.05, "share": 0.3, "cohorts": (8, 13, 17),
     "cohort_effect": (1.3, 1.0, 0.7)},
    {"id": "messenger_support", "name": "Messenger support line", "att": 1100.0,
     "name_tr": "Mesajlaşma destek hattı", "name_az": "Messencer dəstək xətti",
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

