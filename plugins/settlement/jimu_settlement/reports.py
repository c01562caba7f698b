"""Settlement reports (结算看板), read from the ledger: revenue and margin over time, by
province, by partner and by its current price tier; work-order revenue by installer; rebate
accruals against targets; and the profit of every document for regional managers.

Revenue and cost are the enterprise's entries (each order and work order); payouts are what
partners earn (service fees, shares, subsidies, rebates, volume shares, adjustments); margin is
revenue − cost − payouts. Sums are exact on both databases (``runs.sum_sql``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, JimuError, PriceContext, ValidationFailed, current_tenant_id, platform

from jimu_settlement import periods, programmes, runs
from jimu_settlement.ledger import BASIS_KINDS, ENTERPRISE_KINDS, ZERO, cents
from jimu_settlement.tables import Entry

MAX_PERIODS = 24
TOP_PARTNERS = 200
NO_TIER = "—"


def period_range(first: str | None, last: str | None) -> list[str]:
    """The months from ``first`` to ``last`` (default: the six up to this one)."""
    last = periods.check_code(last, "to") if last else periods.code_of(periods.local_today())
    if first:
        periods.check_code(first, "from")
    else:
        first = last
        for _ in range(5):
            first = periods.previous_code(first)
    if first > last:
        raise ValidationFailed(N_("the first month comes after the last"), field="from")
    months = [first]
    while months[-1] < last:
        months.append(periods.next_code(months[-1]))
        if len(months) > MAX_PERIODS:
            raise ValidationFailed(N_("a report covers at most %(max)s months"), field="from",
                                   params={"max": MAX_PERIODS})
    return months


def _figures(revenue: Decimal = ZERO, cost: Decimal = ZERO, payouts: Decimal = ZERO
             ) -> dict[str, Decimal]:
    return {"revenue": revenue, "cost": cost, "payouts": payouts}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["margin"] = row["revenue"] - row["cost"] - row["payouts"]
    row["margin_pct"] = (row["margin"] / row["revenue"] * 100).quantize(Decimal("0.1")) \
        if row["revenue"] else None
    for key in ("revenue", "cost", "payouts", "margin"):
        row[key] = cents(row[key])
    return row


async def _grouped(months: Sequence[str], by: str, region_prefix: str = ""
                   ) -> list[dict[str, Any]]:
    """Sums per (``by``, enterprise or partner, kind) over the months."""
    amount, cost = runs.sum_sql("amount", 100), runs.sum_sql("cost", 100)
    where = "tenant_id = {} AND period >= {} AND period <= {}"
    args: list[Any] = [current_tenant_id(), months[0], months[-1]]
    if region_prefix:
        where += " AND region_code LIKE {}"
        args.append(region_prefix.rstrip("0") + "%")
    rows = await Entry.raw(
        f"SELECT {by} AS key, CASE WHEN partner_id IS NULL THEN 1 ELSE 0 END AS enterprise, "
        f"kind, {amount} AS amount, {cost} AS cost FROM settlement_entry WHERE {where} "
        f"GROUP BY {by}, CASE WHEN partner_id IS NULL THEN 1 ELSE 0 END, kind", *args)
    return [{"key": r["key"], "enterprise": bool(r["enterprise"]), "kind": r["kind"],
             "amount": runs.sum_value(r["amount"], 100), "cost": runs.sum_value(r["cost"], 100)}
            for r in rows]


def _fold(rows: Iterable[Mapping[str, Any]], key_of: Any) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        key = key_of(row["key"])
        held = out.setdefault(key, _figures())
        if row["enterprise"] and row["kind"] in ENTERPRISE_KINDS:
            held["revenue"] += row["amount"]
            held["cost"] += row["cost"]
        elif not row["enterprise"] and row["kind"] not in BASIS_KINDS:
            held["payouts"] += row["amount"]
    return out


async def over_time(months: Sequence[str], region_prefix: str = "") -> list[dict[str, Any]]:
    folded = _fold(await _grouped(months, "period", region_prefix), lambda key: key)
    return [_finish({"period": month, **folded.get(month, _figures())}) for month in months]


def province_of(code: str) -> str:
    path = platform().region_path(code or "")
    return path[0]["code"] if path else ""


async def by_region(months: Sequence[str]) -> list[dict[str, Any]]:
    folded = _fold(await _grouped(months, "region_code"), province_of)
    rows = []
    for code, figures in folded.items():
        path = platform().region_path(code) if code else []
        rows.append(_finish({"region_code": code, "region": path[0]["name"] if path else "",
                             **figures}))
    return sorted(rows, key=lambda r: r["revenue"], reverse=True)


async def by_partner(months: Sequence[str], region_prefix: str = "") -> list[dict[str, Any]]:
    """Per partner: purchases (at its tier prices) as revenue with their cost, and what it
    earned as payouts; the top partners by purchases and payouts."""
    held: dict[int, dict[str, Any]] = {}
    for row in await _grouped(months, "partner_id", region_prefix):
        if row["enterprise"] or row["key"] is None:
            continue
        figures = held.setdefault(int(row["key"]), _figures())
        if row["kind"] in BASIS_KINDS:
            figures["revenue"] += row["amount"]
            figures["cost"] += row["cost"]
        else:
            figures["payouts"] += row["amount"]
    ranked = sorted(held.items(), key=lambda item: (item[1]["revenue"] + item[1]["payouts"]),
                    reverse=True)[:TOP_PARTNERS]
    partners = {p["id"]: p for p in await platform().list_partners([i for i, _ in ranked])} \
        if ranked else {}
    tiers = await current_tiers(list(partners.values()))
    return [_finish({"partner_id": partner_id,
                     "code": partners.get(partner_id, {}).get("code", ""),
                     "name": partners.get(partner_id, {}).get("name", ""),
                     "tier": tiers.get(partner_id, (NO_TIER, ""))[0], **figures})
            for partner_id, figures in ranked]


async def current_tiers(partners: Sequence[Mapping[str, Any]]
                        ) -> dict[int, tuple[str, str]]:
    """Each partner's price tier now and why, as the pricing pipeline's facts say
    (``price_tiers.tier`` and ``price_tiers.tier_reason``, when the price tiers plugin is on);
    priced with one item the tenant sells, in one call. A partner that cannot be priced has
    no tier here."""
    if not partners:
        return {}
    rows = await Entry.raw(
        "SELECT item FROM settlement_entry WHERE tenant_id = {} AND kind = 'sales' AND "
        "item <> '' ORDER BY id DESC LIMIT 1", current_tenant_id())
    if not rows:
        return {}
    tenant_id = current_tenant_id()
    contexts = [PriceContext(tenant_id=tenant_id, item=rows[0]["item"], partner_id=p["id"])
                for p in partners]
    try:
        results = await platform().price(contexts)
    except JimuError:
        return {}
    return {p["id"]: (str(result.facts.get("price_tiers.tier") or NO_TIER),
                      str(result.facts.get("price_tiers.tier_reason") or ""))
            for p, result in zip(partners, results, strict=True)}


def by_tier(partner_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    folded: dict[str, dict[str, Any]] = {}
    for row in partner_rows:
        if not row["revenue"]:
            continue  # installers and others who earn but buy nothing have no price tier here
        figures = folded.setdefault(row["tier"], {**_figures(), "partners": 0})
        for key in ("revenue", "cost", "payouts"):
            figures[key] += row[key]
        figures["partners"] += 1
    return sorted((_finish({"tier": tier, **figures}) for tier, figures in folded.items()),
                  key=lambda r: r["tier"])


async def installers(months: Sequence[str]) -> list[dict[str, Any]]:
    """Work-order revenue per installer or service provider: work orders, fees, subsidies."""
    amount = runs.sum_sql("amount", 100)
    rows = await Entry.raw(
        f"SELECT partner_id, kind, COUNT(DISTINCT source_id) AS documents, {amount} AS amount "
        f"FROM settlement_entry WHERE tenant_id = {{}} AND period >= {{}} AND period <= {{}} "
        f"AND role = 'installer' GROUP BY partner_id, kind",
        current_tenant_id(), months[0], months[-1])
    held: dict[int, dict[str, Any]] = {}
    for row in rows:
        figures = held.setdefault(int(row["partner_id"]), {
            "work_orders": 0, "service_fees": ZERO, "subsidies": ZERO, "other": ZERO})
        value = runs.sum_value(row["amount"], 100)
        key = row["kind"] if row["kind"] in ("service_fees", "subsidies") else "other"
        figures[key] += value
        figures["work_orders"] = max(figures["work_orders"], int(row["documents"]))
    partners = {p["id"]: p for p in await platform().list_partners(list(held))} if held else {}
    out = [{"partner_id": partner_id, "code": partners.get(partner_id, {}).get("code", ""),
            "name": partners.get(partner_id, {}).get("name", ""), **figures,
            "total": figures["service_fees"] + figures["subsidies"] + figures["other"]}
           for partner_id, figures in held.items()]
    return sorted(out, key=lambda r: r["total"], reverse=True)


async def accruals_against_targets(period: str) -> list[dict[str, Any]]:
    """This period's standing of every partner with a target: volume so far, accrued, the
    target and how far along it is."""
    targets = await programmes.list_targets(period)
    enabled = await programmes.list_programmes(enabled_only=True)
    out = []
    for target in targets:
        if target["partner_id"] is None:
            continue
        standing = await runs.accruals(target["partner_id"], period, enabled=enabled,
                                       targets=targets)
        for programme in standing["programmes"]:
            if programme["metric"] != target["metric"]:
                continue
            out.append({"partner_id": target["partner_id"],
                        "code": standing["partner_code"], "name": standing["partner_name"],
                        "programme": programme["name"], "metric": programme["metric"],
                        "unit": programme["unit"], "volume": Decimal(programme["volume"]),
                        "target": Decimal(target["value"]),
                        "progress": Decimal(programme["target_progress"] or 0),
                        "accrued": Decimal(programme["accrued"]),
                        "to_next_band": programme["to_next_band"]})
    return sorted(out, key=lambda r: r["progress"], reverse=True)


async def document_profit(months: Sequence[str], region_prefix: str = "", *, page: int = 1,
                          per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """The real profit of each order and work order (the seeds: every region's cost and
    revenue split down to the order): revenue and cost, what partners earned of it, margin.
    Rebates and volume shares are earned over a period, not per document, and are not in it."""
    where = ("tenant_id = {} AND period >= {} AND period <= {} AND source_type IN "
             "('order', 'work_order', 'import')")
    args: list[Any] = [current_tenant_id(), months[0], months[-1]]
    if region_prefix:
        where += " AND region_code LIKE {}"
        args.append(region_prefix.rstrip("0") + "%")
    enterprise = "partner_id IS NULL"
    paid = f"partner_id IS NOT NULL AND kind NOT IN ({', '.join(repr(k) for k in BASIS_KINDS)})"
    # An import batch holds many old documents: each of its document numbers is one.
    grouped = (f"SELECT source_type, source_id, source_ref AS ref, MAX(doc_date) AS "
               f"doc_date, MAX(region_code) AS region_code, MAX(period) AS period, "
               f"{runs.sum_sql('amount', 100, enterprise)} AS revenue, "
               f"{runs.sum_sql('cost', 100, enterprise)} AS cost, "
               f"{runs.sum_sql('amount', 100, paid)} AS payouts FROM settlement_entry "
               f"WHERE {where} GROUP BY source_type, source_id, source_ref")
    total_rows = await Entry.raw(f"SELECT COUNT(*) AS n FROM ({grouped}) AS documents", *args)
    rows = await Entry.raw(f"{grouped} ORDER BY MAX(doc_date) DESC, source_id DESC "
                           f"LIMIT {int(per_page)} OFFSET {int((page - 1) * per_page)}", *args)
    out = []
    for row in rows:
        path = platform().region_path(row["region_code"] or "")
        out.append(_finish({
            "source_type": row["source_type"], "source_id": row["source_id"],
            "ref": row["ref"], "doc_date": str(row["doc_date"]), "period": row["period"],
            "region_code": row["region_code"],
            "region": path[-1]["name"] if path else "",  # the district: the row stays short
            **_figures(runs.sum_value(row["revenue"], 100), runs.sum_value(row["cost"], 100),
                       runs.sum_value(row["payouts"], 100))}))
    return out, int(total_rows[0]["n"]) if total_rows else 0
