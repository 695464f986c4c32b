"""Data contracts: the nouns of DESIGN.md, declared once as pandera schemas.

Each schema lists the required columns; extra columns (segments such as
``region``, ``branch_id``, ``segment``, ``channel``) are allowed and kept.
Columns that hold personal data carry ``metadata={"personal": True}``:
the managers' view of a report masks them (see :func:`personal_columns`).

Use :func:`validate` (in :mod:`cxlib.data.validate`) rather than calling
``schema.validate`` directly: it turns pandera's failure table into one
:class:`cxlib.errors.DataError` naming the file, column, rule and rows.

Reserved touchpoint id
    ``JOURNEY = "journey"``: a question about the whole journey (overall
    satisfaction, NPS "would you recommend us") rather than one touchpoint.

Responses rules
    ``metric`` is a key of :data:`METRIC_SCALES`; ``scale_min < scale_max`` and
    the pair is a scale declared for the metric (:data:`METRIC_ALLOWED_SCALES`);
    ``score`` lies within it; ``(response_id, touchpoint_id, metric)`` is unique
    (:data:`RESPONSE_KEY`); ``touchpoint_id`` is a touchpoint of the dataset's
    catalog or ``"journey"`` (checked when :mod:`cxlib.data.datasets` loads a world,
    since the catalog is not part of the table); ``date`` is not after today
    (:data:`NOT_IN_FUTURE`). Before coercion, :func:`cxlib.data.validate.validate`
    refuses what coercion would change silently: a fraction in a whole-number column
    (scale bounds ``1.9``), an infinite number (``weight = inf``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa

__all__ = ["CONTACTS", "CUSTOMERS", "DELIVERED_AFTER_ORDERED", "EMPLOYEES",
           "HIGHER_IS_BETTER", "INNOVATIONS", "JOURNEY", "METRIC_ALLOWED_SCALES",
           "METRIC_SCALES", "NOT_IN_FUTURE", "ORDERS", "ORDER_STATUSES", "PAYMENTS", "PERSONAL",
           "PULSE", "RELATIONSHIPS", "RESPONSES", "RESPONSE_KEY", "SCALE_MATCHES_METRIC",
           "SCHEMAS", "SCORE_IN_SCALE",
           "TABLE_CHECK_COLUMNS", "personal_columns"]

JOURNEY = "journey"

#: Metrics a response row can carry, with their usual scales.
METRIC_SCALES: dict[str, tuple[int, int]] = {
    "csat": (1, 5),  # customer satisfaction, 1 = very dissatisfied .. 5 = very satisfied
    "nps": (0, 10),  # likelihood to recommend
    "ces": (1, 7),  # customer effort, 1 = very easy .. 7 = very difficult
    "overall": (1, 10),  # overall satisfaction (a binary label is scale 0..1)
}

#: Every scale a metric may be declared on: its usual scale (METRIC_SCALES) first,
#: then the documented alternatives.  A row whose ``(scale_min, scale_max)`` is not
#: listed for its metric breaks the responses contract: a CSAT on 1-10 is a
#: different question from a CSAT on 1-5 and must not be pooled with it silently.
#: Alternatives:
#:
#: * ``overall`` on ``(0, 1)``: a binary satisfied / not satisfied label, as in the
#:   airline survey's ``satisfaction`` column (``data/mappings/airline.yml``).
#:
#: To accept another scale, add it here (reviewed, documented) or rescale it in
#: the mapping.
METRIC_ALLOWED_SCALES: dict[str, tuple[tuple[int, int], ...]] = {
    metric: (scale, *{"overall": ((0, 1),)}.get(metric, ()))
    for metric, scale in METRIC_SCALES.items()
}

#: Direction of each metric: True when a higher score is a better experience.
#: CES measures effort (7 = very difficult), so lower is better; top-box shares,
#: weakest links and "up"/"down" moves must respect this.
HIGHER_IS_BETTER: dict[str, bool] = {"csat": True, "nps": True, "ces": False, "overall": True}

PERSONAL = {"personal": True}

#: Columns each table-level check reads, by check name, first = the column an
#: error names (pandera reports a failing table-level check once per column of
#: the row; cxlib.data.validate merges those into one entry naming these columns).
TABLE_CHECK_COLUMNS: dict[str, tuple[str, ...]] = {}


def _table_check(name: str, columns: tuple[str, ...],
                 fn: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
    """A table-level check on ``columns``; it passes when one of them is absent or
    not numeric-coercible (that failure is reported by the column's own check)."""
    TABLE_CHECK_COLUMNS[name] = columns

    def check(df: pd.DataFrame) -> pd.Series | bool:
        if not set(columns) <= set(df.columns):
            return True
        return fn(df)

    return pa.Check(check, name=name)


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def _score_in_scale(df: pd.DataFrame) -> pd.Series:
    score, lo, hi = _num(df["score"]), _num(df["scale_min"]), _num(df["scale_max"])
    return ~((score < lo) | (score > hi))  # missing values are reported by not-null checks


def _scale_matches_metric(df: pd.DataFrame) -> pd.Series:
    metric = df["metric"].astype("object")
    lo, hi = _num(df["scale_min"]), _num(df["scale_max"])
    # unknown metrics are reported by the metric check, not twice
    ok = ~metric.isin(list(METRIC_ALLOWED_SCALES))
    for m, scales in METRIC_ALLOWED_SCALES.items():  # vectorised: a report loads 50k rows
        is_m = metric == m
        for a, b in scales:
            ok |= is_m & (lo == a) & (hi == b)
    return ok


SCORE_IN_SCALE = "score within [scale_min, scale_max]"
SCALE_MATCHES_METRIC = "scale is one declared for the metric (schemas.METRIC_ALLOWED_SCALES)"
#: Key of a response row: one answer per respondent, touchpoint and metric.
RESPONSE_KEY = ("response_id", "touchpoint_id", "metric")
#: Statuses of an order (commerce columns).
ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled")
DELIVERED_AFTER_ORDERED = "delivered_date on or after date"

_str = pa.Column(str)
_str_null = pa.Column(str, nullable=True)
_date = pa.Column("datetime64[ns]", coerce=True)

#: Answers cannot come from the future (a day of slack for time zones).
NOT_IN_FUTURE = "date not after today"


def _not_in_future(s: pd.Series) -> pd.Series:
    today = pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    return ~(pd.to_datetime(s, errors="coerce") > today)


RESPONSES = pa.DataFrameSchema(
    {
        "response_id": pa.Column(str, nullable=False),
        "customer_id": pa.Column(str, nullable=False, metadata=PERSONAL),
        "date": pa.Column("datetime64[ns]", pa.Check(_not_in_future, name=NOT_IN_FUTURE),
                          coerce=True),
        "touchpoint_id": pa.Column(str, nullable=False),
        "metric": pa.Column(str, pa.Check.isin(list(METRIC_SCALES)), nullable=False),
        "score": pa.Column(float, coerce=True, nullable=False),
        "scale_min": pa.Column(int, coerce=True),
        "scale_max": pa.Column(int, coerce=True),
        "weight": pa.Column(float, pa.Check.gt(0), coerce=True, required=False, nullable=False),
        "comment": pa.Column(str, nullable=True, required=False),
    },
    checks=[
        _table_check(SCORE_IN_SCALE, ("score", "scale_min", "scale_max"), _score_in_scale),
        _table_check("scale_min < scale_max", ("scale_min", "scale_max"),
                     lambda df: ~(_num(df["scale_min"]) >= _num(df["scale_max"]))),
        _table_check(SCALE_MATCHES_METRIC, ("scale_min", "scale_max", "metric"),
                     _scale_matches_metric),
    ],
    unique=list(RESPONSE_KEY),
    strict=False,
    name="responses",
    description="Long-form survey responses: one row per respondent x touchpoint x metric. "
                "touchpoint_id is checked against the dataset's catalog when a World loads "
                "(cxlib.data.validate.check_touchpoints).",
)

CUSTOMERS = pa.DataFrameSchema(
    {
        "customer_id": pa.Column(str, unique=True, metadata=PERSONAL),
        "segment": _str,
        "region": _str,
        "branch_id": _str,
        "specialist_id": _str_null,
        "signup_date": _date,
        "name": pa.Column(str, nullable=True, required=False, metadata=PERSONAL),
        "email": pa.Column(str, nullable=True, required=False, metadata=PERSONAL),
        "phone": pa.Column(str, nullable=True, required=False, metadata=PERSONAL),
    },
    strict=False,
    name="customers",
)

ORDERS = pa.DataFrameSchema(
    {
        "order_id": pa.Column(str, unique=True),
        "customer_id": pa.Column(str, metadata=PERSONAL),
        "date": _date,
        "revenue": pa.Column(float, pa.Check.ge(0), coerce=True),
        # optional: real purchase histories (CDNOW) carry revenue only
        "cost": pa.Column(float, pa.Check.ge(0), coerce=True, required=False),
        "margin": pa.Column(float, coerce=True, required=False),
        # commerce columns (optional; cxlib.data.synth.commerce writes them)
        "status": pa.Column(str, pa.Check.isin(list(ORDER_STATUSES)), required=False),
        "channel_type": pa.Column(str, pa.Check.isin(["self_service", "assisted"]),
                                  required=False),
        "hour": pa.Column(int, pa.Check.in_range(0, 23), coerce=True, required=False),
        "promised_date": pa.Column("datetime64[ns]", coerce=True, required=False),
        "shipped_date": pa.Column("datetime64[ns]", coerce=True, nullable=True,
                                  required=False),
        "delivered_date": pa.Column("datetime64[ns]", coerce=True, nullable=True,
                                    required=False),
        "delivery_cost": pa.Column(float, pa.Check.ge(0), coerce=True, required=False),
        "return_cost": pa.Column(float, pa.Check.ge(0), coerce=True, required=False),
    },
    checks=[
        _table_check("margin = revenue - cost", ("margin", "revenue", "cost"),
                     lambda df: ~((_num(df["margin"]) - (_num(df["revenue"])
                                                          - _num(df["cost"]))).abs() >= 1e-6)),
        _table_check(DELIVERED_AFTER_ORDERED, ("delivered_date", "date"),
                     lambda df: ~(pd.to_datetime(df["delivered_date"], errors="coerce")
                                  < pd.to_datetime(df["date"], errors="coerce").dt.normalize())),
    ],
    strict=False,
    name="orders",
)

CONTACTS = pa.DataFrameSchema(
    {
        "contact_id": pa.Column(str, unique=True),
        "customer_id": pa.Column(str, metadata=PERSONAL),
        "date": _date,
        "channel": _str,
        "direction": pa.Column(str, pa.Check.isin(["proactive", "inbound"])),
        "touchpoint_id": _str_null,
        "complaint": pa.Column(bool, coerce=True, required=False),
    },
    strict=False,
    name="contacts",
)

EMPLOYEES = pa.DataFrameSchema(
    {
        "employee_id": pa.Column(str, unique=True),
        "branch_id": _str,
        "role": _str,
        "satisfaction": pa.Column(float, pa.Check.in_range(1, 5), coerce=True, nullable=True),
        "tenure_years": pa.Column(float, pa.Check.ge(0), coerce=True),
        "accounts_served": pa.Column(int, pa.Check.ge(0), coerce=True),
        "name": pa.Column(str, nullable=True, required=False, metadata=PERSONAL),
    },
    strict=False,
    name="employees",
)

INNOVATIONS = pa.DataFrameSchema(
    {
        "innovation_id": _str,
        "name": _str,
        "unit_id": _str,
        "start_date": _date,
        "cost_per_period": pa.Column(float, pa.Check.ge(0), coerce=True),
        "one_off_cost": pa.Column(float, pa.Check.ge(0), coerce=True),
    },
    unique=["innovation_id", "unit_id"],
    strict=False,
    name="innovations",
    description="One row per innovation x unit that got it, with its start date and costs.",
)

PAYMENTS = pa.DataFrameSchema(
    {
        "payment_id": pa.Column(str, unique=True),
        "order_id": _str,
        "customer_id": pa.Column(str, metadata=PERSONAL),
        "method": _str,
        "amount": pa.Column(float, pa.Check.ge(0), coerce=True),
        "due_date": _date,
        "paid_date": pa.Column("datetime64[ns]", coerce=True, nullable=True),
    },
    strict=False,
    name="payments",
    description="One row per payment of an order: method, amount, due date and paid date "
                "(empty = not paid yet). Every order_id must be an order of the dataset "
                "(cxlib.data.integrity.check_references).",
)

RELATIONSHIPS = pa.DataFrameSchema(
    {
        "customer_id": pa.Column(str, metadata=PERSONAL),
        "specialist_id": _str,
        "start_date": _date,
        "end_date": pa.Column("datetime64[ns]", coerce=True, nullable=True),
    },
    checks=[_table_check("end_date >= start_date", ("end_date", "start_date"),
                         lambda df: ~(pd.to_datetime(df["end_date"])
                                      < pd.to_datetime(df["start_date"])))],
    unique=["customer_id", "start_date"],
    strict=False,
    name="relationships",
    description="Customer-specialist relationships: who served the customer from when to "
                "when (end_date empty = current); a new row is a specialist change.",
)

PULSE = pa.DataFrameSchema(
    {
        "employee_id": _str,
        "quarter_start": _date,
        "score": pa.Column(float, pa.Check.in_range(1, 5), coerce=True),
    },
    unique=["employee_id", "quarter_start"],
    strict=False,
    name="pulse",
    description="Quarterly pulse survey of staff: one satisfaction score (1-5) per employee "
                "and quarter.",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "responses": RESPONSES,
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "contacts": CONTACTS,
    "employees": EMPLOYEES,
    "innovations": INNOVATIONS,
    "payments": PAYMENTS,
    "relationships": RELATIONSHIPS,
    "pulse": PULSE,
}


def personal_columns(table: str | None = None) -> set[str]:
    """Columns any contract (or the named one) marks as personal data."""
    schemas = SCHEMAS.values() if table is None else [SCHEMAS[table]]
    out: set[str] = set()
    for schema in schemas:
        for name, col in schema.columns.items():
            if (col.metadata or {}).get("personal"):
                out.add(name)
    return out
