"""Long survey responses of one chunk's respondents.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlib.data.synth.arrays import REGION_NAMES, date_array, id_array
from cxlib.data.synth.constants import (
    AZ_REGIONS,
    COMMENT_RATE,
    COMMENTS,
    LOW_BASE_PILOT,
    SEGMENTS,
    SURVEY_CHANNEL_P,
    SURVEY_CHANNELS,
)
from cxlib.data.synth.model import World

__all__ = ["responses_table"]

def responses_table(world: World, lat: dict[str, np.ndarray], rng: np.random.Generator,
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
        "response_id": id_array("R", resp_offset + resp + 1, 8),
        "customer_id": cust_ids.take(pa.array(cust)),
        "date": date_array(lat["day"][cust]),
        "touchpoint_id": tp_names.take(pa.array(tp)),
        "metric": pa.array(["csat", "ces", "overall", "nps"]).take(pa.array(metric)),
        "score": pa.array(score, pa.float64()),
        "scale_min": pa.array(lo, pa.int64()),
        "scale_max": pa.array(hi, pa.int64()),
        "comment": pa.array(comment, pa.string()),
        "segment": pa.array(SEGMENTS).take(pa.array(lat["seg"][cust])),
        "region": REGION_NAMES.take(pa.array(world.branch_region_code[lat["branch"][cust]])),
        "branch_id": pa.array(world.branch_ids).take(pa.array(lat["branch"][cust])),
        "specialist_id": pa.array(world.spec_ids).take(pa.array(lat["spec"][cust])),
        "channel": pa.array(SURVEY_CHANNELS).take(pa.array(channel[resp])),
    })
    return table, resp_offset + nr

