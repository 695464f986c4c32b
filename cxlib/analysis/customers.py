"""Customer 360: the whole customer on one page, for whoever answers the phone.

:func:`customer_360` looks one customer up in the indexed profile store
(:mod:`cxlib.data.profiles`: sorted Parquet, one row group read per table) and
returns a :class:`Profile`: tidy tables (orders, open orders, payments,
contacts and complaints, survey answers) and a headline summary (what they buy,
last purchase, how they pay and whether late, overdue amount, churn
probability, expected value, specialist), plus a one-page HTML card
(:meth:`Profile.card_html`, jinja2 with autoescaping) in the notebook's
language: labels from the message catalog (``card_*``), category words
(``v_<column>_<value>``), numbers, percents and dates by the language's locale
(:mod:`cxlib.i18n`), so a Turkish card reads 2.018,50 where an English one reads
2,018.50. Customer text (names, comments) is only ever escaped, never markup.

The card is personal data for internal use: it is never part of a shared
manager report (the masking of :mod:`cxlib.share` replaces the dataset's
personal values wherever a notebook displays it; tested).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlib import i18n
from cxlib.analysis import clv
from cxlib.errors import CxError, ParameterError

__all__ = ["CARD_TEMPLATE", "Profile", "customer_360", "record_results"]

CARD_TEMPLATE = """\
{%- set left = "text-align: left" -%}
{%- set rows = [
  (L.orders, v.n_orders ~ " (" ~ v.revenue ~ ")"),
  (L.last_purchase, (v.last_purchase or L.never)
                    ~ (" (" ~ v.last_channel ~ ")" if v.last_channel else "")),
  (L.open_orders, v.open_orders),
  (L.pays_by, (v.payment_method or L.na) ~ "; " ~ v.late),
  (L.complaints, v.complaints),
  (L.answers, v.n_answers ~ (': "' ~ s.last_comment ~ '"' if s.last_comment else "")),
  (L.churn_risk, v.churn),
  (L.expected_value, v.expected_value ~ " (" ~ v.horizon ~ ")")] -%}
<div>
<table class="cx-card" data-cx-personal="customer-card" lang="{{ lang }}" style="margin: 0.5em 0">
<caption style="{{ left }}; font-weight: bold; font-size: 1.15em; padding: 0.3em 0">\
{{ s.name or s.customer_id }} · {{ s.customer_id }}</caption>
<tbody>
<tr><td colspan="2" style="{{ left }}">\
{{ [v.segment, v.customer_type, s.region, L.specialist ~ " " ~ (s.specialist_id or L.none)]
   | select | join(" · ") }}</td></tr>
{% for label, value in rows %}<tr><th scope="row" style="{{ left }}">{{ label }}</th>\
<td style="{{ left }}">{{ value }}</td></tr>
{% endfor %}</tbody>
</table>
{% if recent %}<table class="cx-card-timeline" data-cx-personal="customer-card" lang="{{ lang }}">
<thead><tr><th>{{ L.date }}</th><th style="{{ left }}">{{ L.what }}</th>\
<th style="{{ left }}">{{ L.detail }}</th></tr></thead>
<tbody>
{% for r in recent %}<tr><td style="white-space: nowrap">{{ r.date }}</td>\
<td style="{{ left }}">{{ r.kind }}</td><td style="{{ left }}">{{ r.detail }}</td></tr>
{% endfor %}</tbody>
</table>{% endif %}
</div>
"""

#: The card's fixed labels: ``card_<name>`` in ``cxlib/locales/messages.yml``.
_LABELS = ("specialist", "orders", "last_purchase", "open_orders", "pays_by", "complaints",
           "answers", "churn_risk", "expected_value", "date", "what", "detail", "never")


def _word(column: str, value: Any, language: str) -> str:
    """A category value in words (``v_<column>_<value>``), else as it is in the data."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    key = f"v_{column}_{value}"
    return i18n.t(key, language) if i18n.has(key) else str(value)


def _count(x: Any, language: str) -> str:
    return i18n.format_number(int(x), language, digits=0)


def _amount(x: Any, language: str, digits: int = 2) -> str:
    """Money and other amounts with the language's marks; NaN is "n/a"."""
    x = float(x)
    return i18n.t("n/a", language) if np.isnan(x) else i18n.format_number(x, language,
                                                                           digits=digits)


def _money(x: Any, language: str, currency: str | None) -> str:
    """An amount of money: :func:`_amount` followed by the currency when known
    (``2.270,48 AZN``; a non-breaking space keeps the two together)."""
    text = _amount(x, language)
    return f"{text}\u00a0{currency}" if currency and text != i18n.t("n/a", language) else text


def _date(x: Any, language: str) -> str:
    day = _ts(x)
    return i18n.format_date(day, language) if day else ""


@dataclass
class Profile:
    """One customer's 360-degree profile.

    Attributes
    ----------
    customer_id : str
    summary : dict
        Headline facts (see :func:`customer_360`).
    tables : dict of DataFrame
        ``customer, orders, open_orders, payments, contacts, complaints,
        responses``.
    language : str
        ``en``, ``tr`` or ``az``: the card's labels, words and number marks
        (the summary and tables stay data).
    currency : str or None
        The dataset's currency (ISO code, ``AZN``), written after the card's
        amounts; None when unknown (amounts without a currency).
    """

    customer_id: str
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    language: str = "en"
    currency: str | None = None

    def __post_init__(self) -> None:
        i18n.check_language(self.language)

    def timeline(self, n: int = 10, language: str | None = None) -> pd.DataFrame:
        """The ``n`` latest events: ``date, kind, detail`` (orders, contacts, answers).

        ``kind`` and ``detail`` are words of ``language`` (default: the profile's)
        with its number marks (a Turkish order of 2018.5 reads ``2.018,50``).
        """
        lang = i18n.check_language(self.language if language is None else language)

        def words(column: str, values: pd.Series) -> pd.Series:
            return values.map(lambda v: _word(column, v, lang))

        parts = []
        o = self.tables.get("orders")
        if o is not None and len(o):
            status = o.get("status", pd.Series("", index=o.index))
            parts.append(pd.DataFrame({"date": o["date"], "kind": i18n.t("card_kind_order", lang),
                                       "detail": words("status", status) + " "
                                       + o["revenue"].map(lambda x: _money(x, lang,
                                                                           self.currency))}))
        k = self.tables.get("contacts")
        if k is not None and len(k):
            what = np.where(k.get("complaint", pd.Series(False, index=k.index)).fillna(False)
                            .astype(bool), i18n.t("card_kind_complaint", lang),
                            i18n.t("card_kind_contact", lang))
            parts.append(pd.DataFrame({"date": k["date"], "kind": what,
                                       "detail": words("channel", k["channel"]) + " "
                                       + words("direction", k["direction"])}))
        r = self.tables.get("responses")
        if r is not None and len(r):
            parts.append(pd.DataFrame({"date": r["date"], "kind": i18n.t("card_kind_answer", lang),
                                       "detail": (
                r["touchpoint_id"].astype(str) + " " + r["metric"].astype(str) + " = "
                + r["score"].map(lambda x: i18n.format_number(x, lang, digits=2, trim=True)))}))
        if not parts:
            return pd.DataFrame(columns=["date", "kind", "detail"])
        df = pd.concat(parts, ignore_index=True)
        df["date"] = pd.to_datetime(df["date"]).dt.date
        return df.sort_values("date", ascending=False, kind="stable").head(n).reset_index(
            drop=True)

    def card_html(self, language: str | None = None) -> str:
        """The one-page card (HTML; every value escaped), in ``language`` (default: the
        profile's): labels from the message catalog, numbers and dates by its locale."""
        import jinja2

        lang = i18n.check_language(self.language if language is None else language)
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        recent = self.timeline(language=lang).to_dict("records")
        for row in recent:
            row["date"] = _date(row["date"], lang)
        labels = {k: i18n.t(f"card_{k}", lang) for k in _LABELS}
        labels |= {"none": i18n.t("none", lang), "na": i18n.t("n/a", lang)}
        return env.from_string(CARD_TEMPLATE).render(
            s=_Attr(self.summary), v=_Attr(_card_values(self.summary, lang, self.currency)),
            L=_Attr(labels), recent=recent, lang=lang)

    def _repr_html_(self) -> str:
        return self.card_html()

    def __repr__(self) -> str:  # short: the tables stay out of text outputs
        return f"Profile({self.customer_id!r}: {self.summary.get('n_orders')} orders)"


def _card_values(s: dict[str, Any], lang: str, currency: str | None = None) -> dict[str, str]:
    """The summary's facts as the card shows them in ``lang`` (words, marks, dates;
    money followed by ``currency`` when known)."""
    churn = float(s.get("churn_probability", np.nan))
    return {
        "segment": _word("segment", s.get("segment"), lang),
        "customer_type": _word("customer_type", s.get("customer_type"), lang),
        "n_orders": _count(s.get("n_orders", 0), lang),
        "revenue": i18n.t("card_revenue", lang).format(
            amount=_money(s.get("revenue", 0.0), lang, currency)),
        "last_purchase": _date(s.get("last_purchase"), lang),
        "last_channel": _word("channel", s.get("last_channel"), lang),
        "open_orders": _count(s.get("open_orders", 0), lang),
        "payment_method": _word("method", s.get("payment_method"), lang),
        "late": i18n.t("card_late", lang).format(
            late=_count(s.get("late_payments", 0), lang), n=_count(s.get("n_payments", 0), lang),
            amount=_money(s.get("overdue_amount", 0.0), lang, currency)),
        "complaints": i18n.t("card_complaints_of", lang).format(
            complaints=_count(s.get("complaints", 0), lang),
            n=_count(s.get("n_contacts", 0), lang)),
        "n_answers": _count(s.get("n_answers", 0), lang),
        "churn": i18n.t("n/a", lang) if np.isnan(churn) else i18n.format_percent(churn, lang),
        "expected_value": _money(s.get("expected_value", np.nan), lang, currency),
        "horizon": i18n.t("card_weeks", lang).format(
            n=i18n.format_number(float(s.get("horizon_weeks", 0)), lang, digits=1, trim=True)),
    }


class _Attr(dict):
    """Summary dict with attribute access for the template (missing keys -> None)."""

    def __getattr__(self, k: str) -> Any:
        return self.get(k)


def _world_currency(world: Any) -> str | None:
    """The currency in a world's planted truth (a World or its folder); None if unknown."""
    if isinstance(world, (str, os.PathLike)):
        from cxlib.data.readers import read_truth

        try:
            truth = read_truth(world)
        except CxError:  # an unreadable truth.json: amounts without a currency
            truth = None
        currency = truth.get("currency") if isinstance(truth, dict) else None
        return str(currency) if currency else None
    return getattr(world, "currency", None)  # datasets.World.currency


def _ts(x: Any) -> str | None:
    return None if x is None or pd.isna(x) else str(pd.Timestamp(x).date())


def customer_360(world: Any, customer_id: str, *, store: Any = None,
                 bgnbd: clv.Fit | None = None, gamma_gamma: clv.Fit | None = None,
                 horizon_weeks: float = 52.0, as_of: str | pd.Timestamp | None = None,
                 language: str = "en", currency: str | None = None) -> Profile:
    """The whole customer: tables and headline facts for the card.

    Parameters
    ----------
    world
        A :class:`cxlib.data.datasets.World` (generated world) or its folder.
    customer_id
        The customer. An unknown id raises :class:`cxlib.errors.DataError` naming
        the closest ids (never an empty card).
    store
        An open :class:`cxlib.data.profiles.ProfileStore` (opened, and built on
        first use, when None).
    bgnbd, gamma_gamma
        Fitted purchase and spend models (:mod:`cxlib.analysis.clv`) for the
        churn probability (1 - P(alive)) and the expected value over
        ``horizon_weeks``; without them those two are NaN.
    as_of
        The date payments are overdue against (default: the last order date).
    language
        ``en``, ``tr`` or ``az``: the card's labels, words, numbers and dates
        (:meth:`Profile.card_html`); the summary and tables are data either way.
    currency
        ISO code written after the card's amounts; default: the world's
        ``currency`` in its planted truth (``truth.json``, as the manager brief
        reads it), none when the world does not say.

    Returns
    -------
    Profile
        ``summary`` keys: customer_id, name, segment, customer_type, region,
        specialist_id, n_orders, revenue, last_purchase, last_channel,
        top_channel, open_orders, n_payments, payment_method, late_payments,
        overdue_amount, n_contacts, complaints, n_answers, last_comment,
        churn_probability, expected_value, horizon_weeks.
    """
    from cxlib.data.profiles import ProfileStore

    if horizon_weeks <= 0:
        raise ParameterError([f"horizon_weeks={horizon_weeks}: must be > 0"])
    i18n.check_language(language)
    store = store if store is not None else ProfileStore.open(world)
    t = store.lookup(customer_id)
    cust = t["customers"].iloc[0]
    empty = pd.DataFrame()
    orders = t["orders"].sort_values("date", kind="stable") if "orders" in t else empty
    pays = t.get("payments", empty)
    contacts = t.get("contacts", empty)
    resp = t.get("responses", empty)
    end = pd.Timestamp(as_of) if as_of is not None else (
        pd.to_datetime(orders["date"]).max() if len(orders) else pd.Timestamp.now())
    open_orders = (orders[orders["status"].isin(["processing", "shipped"])]
                   if "status" in orders.columns else orders.iloc[0:0])
    late = overdue = 0.0
    method = None
    if len(pays):
        paid = pd.to_datetime(pays["paid_date"])
        due = pd.to_datetime(pays["due_date"])
        late = int(((paid > due) | (paid.isna() & (due < end))).sum())
        overdue = float(pays.loc[paid.isna() & (due < end), "amount"].sum())
        method = pays["method"].mode().iloc[0]
    complaints = (contacts[contacts["complaint"].astype(bool)] if "complaint" in contacts.columns
                  else contacts.iloc[0:0])
    churn = value = float("nan")
    if bgnbd is not None and len(orders):
        s = clv.rfm_summary(orders, end=end)
        v = clv.customer_value(s, bgnbd, gamma_gamma, horizon_weeks=horizon_weeks)
        churn = float(1 - v["p_alive"].iloc[0])
        value = float(v["expected_value"].iloc[0])
    last = orders.iloc[-1] if len(orders) else None
    comments = resp["comment"].dropna() if "comment" in resp.columns else pd.Series(dtype=str)
    summary = {
        "customer_id": str(cust["customer_id"]), "name": cust.get("name"),
        "segment": cust.get("segment"), "customer_type": cust.get("customer_type"),
        "region": cust.get("region"), "specialist_id": cust.get("specialist_id"),
        "n_orders": len(orders), "revenue": float(orders["revenue"].sum()) if len(orders) else 0.0,
        "last_purchase": _ts(last["date"]) if last is not None else None,
        "last_channel": None if last is None else last.get("channel"),
        "top_channel": (orders["channel"].mode().iloc[0] if "channel" in orders.columns
                        and len(orders) else None),
        "open_orders": len(open_orders), "n_payments": len(pays), "payment_method": method,
        "late_payments": late, "overdue_amount": overdue, "n_contacts": len(contacts),
        "complaints": len(complaints), "n_answers": len(resp),
        "last_comment": comments.iloc[-1] if len(comments) else None,
        "churn_probability": churn, "expected_value": value, "horizon_weeks": horizon_weeks,
    }
    tables = {"customer": t["customers"], "orders": orders, "open_orders": open_orders,
              "payments": pays, "contacts": contacts, "complaints": complaints,
              "responses": resp}
    if currency is None:
        currency = _world_currency(world)
    return Profile(customer_id=summary["customer_id"], summary=summary, tables=tables,
                   language=language, currency=currency)


def record_results(out: Any, *, profit: pd.DataFrame, by_segment: pd.DataFrame,
                   actions: pd.DataFrame, whale: dict[str, float], compare_by: str,
                   self_service: pd.DataFrame, cutoff: pd.DataFrame,
                   later: dict[str, float], partners: pd.DataFrame | None = None) -> None:
    """Headline figures of notebook 05 into a :class:`cxlib.share.results.Results`.

    Share of value-destroying customers, profit of the top and bottom deciles,
    segments to target / win back / stop serving, self-service share, the
    cut-off rule's cost in customer-days a year, what a later cut-off saves and
    the partners' share of the weight in overall satisfaction.
    No personal data: only aggregates.
    """
    n = len(profit)
    out.headline("share_value_destroying", whale["share_value_destroying"],
                 label="customers who destroy value", n=n, unit="share")
    out.headline("top_decile_profit", whale["top_decile_value"],
                 label="profit of the top 10% of customers", n=n, unit="currency")
    out.headline("bottom_decile_profit", whale["bottom_decile_value"],
                 label="profit of the bottom 10% of customers", n=n, unit="currency")
    for action in ("target", "win_back", "stop_serving_at_a_loss"):
        segs = actions.loc[actions["action"] == action, compare_by].astype(str).tolist()
        out.headline(f"segments_{action}", ", ".join(segs) or "none",
                     label=f"segments: {action.replace('_', ' ')}")
    ss = self_service.iloc[0]
    out.headline("self_service_share", float(ss["share"]), label="orders through self-service",
                 ci=(float(ss["ci_low"]), float(ss["ci_high"])), n=int(ss["n_orders"]),
                 unit="share")
    row = cutoff.iloc[-1]
    out.headline("cutoff_customer_days", float(row["customer_days_per_year"]),
                 label="customer-days a year lost to the cut-off rule",
                 ci=(float(row["days_ci_low"]), float(row["days_ci_high"])),
                 n=int(row["n_orders"]), unit="days")
    out.headline("later_cutoff_days_saved", float(later["days_saved_per_year"]),
                 label="customer-days a year a later cut-off saves",
                 ci=(float(later["ci_low"]), float(later["ci_high"])), unit="days")
    if partners is not None and "weight_share" in partners.columns:
        p = partners.set_index("owner")
        if "partner" in p.index:
            out.headline("partner_weight_share", float(p.loc["partner", "weight_share"]),
                         label="share of overall satisfaction carried by partners",
                         unit="share")
    out.table("segment_profit", by_segment)
    out.table("segment_actions", actions)
