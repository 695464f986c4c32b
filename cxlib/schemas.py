"""Data contracts: the nouns of DESIGN.md, declared once as pandera schemas.

Each schema lists the required columns; extra columns (segments such as
``region``, ``branch_id``, ``segment``, ``channel``) are allowed and kept.
Columns that hold personal data carry ``metadata={"personal": True}``:
the managers' view of a report masks them (see :func:`personal_columns`).

Use :func:`validate` (in :mod:`cxlib.loaders`) rather than calling
``schema.validate`` directly: it turns pandera's failure table into one
:class:`cxlib.errors.DataError` naming the file, column, rule and rows.

Reserved touchpoint id
    ``JOURNEY = "journey"``: a question about the whole journey (overall
    satisfaction, NPS "would you recommend us") rather than one touchpoint.
"""

from __future__ import annotations

import pandera.pandas as pa

JOURNEY = "journey"

#: Metrics a response row can carry, with their usual scales.
METRIC_SCALES: dict[str, tuple[int, int]] = {
    "csat": (1, 5),  # customer satisfaction, 1 = very dissatisfied .. 5 = very satisfied
    "nps": (0, 10),  # likelihood to recommend
    "ces": (1, 7),  # customer effort, 1 = very easy .. 7 = very difficult
    "overall": (1, 10),  # overall satisfaction (a binary label is scale 0..1)
}

#: Direction of each metric: True when a higher score is a better experience.
#: CES measures effort (7 = very difficult), so lower is better; top-box shares,
#: weakest links and "up"/"down" moves must respect this.
HIGHER_IS_BETTER: dict[str, bool] = {"csat": True, "nps": True, "ces": False, "overall": True}

PERSONAL = {"personal": True}

_str = pa.Column(str)
_str_null = pa.Column(str, nullable=True)
_date = pa.Column("datetime64[ns]", coerce=True)

RESPONSES = pa.DataFrameSchema(
    {
        "response_id": pa.Column(str, nullable=False),
        "customer_id": pa.Column(str, nullable=False, metadata=PERSONAL),
        "date": _date,
        "touchpoint_id": pa.Column(str, nullable=False),
        "metric": pa.Column(str, nullable=False),
        "score": pa.Column(float, coerce=True, nullable=False),
        "scale_min": pa.Column(int, coerce=True),
        "scale_max": pa.Column(int, coerce=True),
        "weight": pa.Column(float, pa.Check.gt(0), coerce=True, required=False, nullable=False),
        "comment": pa.Column(str, nullable=True, required=False),
    },
    checks=[
        pa.Check(
            lambda df: (df["score"] >= df["scale_min"]) & (df["score"] <= df["scale_max"]),
            name="score within [scale_min, scale_max]",
            error="score outside its declared scale",
        ),
        pa.Check(
            lambda df: df["scale_min"] < df["scale_max"],
            name="scale_min < scale_max",
        ),
    ],
    strict=False,
    name="responses",
    description="Long-form survey responses: one row per respondent x touchpoint x metric.",
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
        "revenue": pa.Column(float, coerce=True),
        "cost": pa.Column(float, pa.Check.ge(0), coerce=True),
        "margin": pa.Column(float, coerce=True, required=False),
    },
    checks=[
        pa.Check(
            lambda df: (df["margin"] - (df["revenue"] - df["cost"])).abs() < 1e-6
            if "margin" in df
            else True,
            name="margin = revenue - cost",
        )
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

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "responses": RESPONSES,
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "contacts": CONTACTS,
    "employees": EMPLOYEES,
    "innovations": INNOVATIONS,
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
