"""Work-order revenue (工单收益透明): what a completed work order earned and who gets what.

When ``work_order.completed`` arrives, the work order's fee schedule gives its lines —
labour (the hours its stage form recorded, priced at the region's rate), the parts its run
consumed (priced for its partner, so at the partner's tier, with the cost the parts library
booked), fees and subsidies — all priced in one call through the pricing pipeline; the
revenue split (``platform().split_revenue``) shares each line between the enterprise, the
dealer and the installer or service provider. The result is stored with both explanations,
booked in the ledger, and each party's people are notified of their part at once.

What is written is never edited: a correction is a new document of the same work order (an
adjusting entry, ``sequence`` 1, 2, …) holding the difference, booked in the period of the
work order, or carried forward when that period is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import (
    N_,
    Conflict,
    JimuError,
    Money,
    NotFound,
    PriceContext,
    SplitContext,
    SplitLine,
    ValidationFailed,
    current_scope,
    current_tenant_id,
    localized,
    platform,
)

from jimu_settlement import fee_schedules, ledger, periods
from jimu_settlement.ledger import ZERO, cents, decimal
from jimu_settlement.tables import Revenue, RevenueLine

ROLES = ("dealer", "installer")
DEALER_KINDS = ("dealer", "store", "agent")
INSTALLER_KINDS = ("installer", "service_provider")
SUBJECT = "work_orders:"
MAX_ADJUSTMENT_LINES = 50


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        return dt.datetime.fromisoformat(value)
    return None


# ----------------------------------------------------------------------------- the parties


async def parties_of(work_order: Mapping[str, Any]) -> dict[str, int]:
    """The dealer (the work order's partner, when it is a dealer, store or agent) and the
    installer or service provider (the assignee's organisation, or the work order's partner
    when that is one)."""
    parties: dict[str, int] = {}
    ids = [work_order.get("partner_id")]
    assignee = work_order.get("assignee_id")
    if assignee is not None:
        users = await platform().list_users([assignee], active_only=False)
        if users and users[0].get("partner_id") is not None:
            ids.append(users[0]["partner_id"])
    known = {p["id"]: p for p in await platform().list_partners(
        [i for i in ids if i is not None])} if any(i is not None for i in ids) else {}
    for partner_id in ids:
        partner = known.get(partner_id)
        if partner is None:
            continue
        if partner["kind"] in DEALER_KINDS and "dealer" not in parties:
            parties["dealer"] = partner_id
        elif partner["kind"] in INSTALLER_KINDS:
            parties["installer"] = partner_id  # the assignee's organisation wins
    return parties


# ----------------------------------------------------------------------------- the lines


async def _run_usage(run_id: int | None, hours_field: str) -> tuple[Decimal, dict[str, Any]]:
    """The hours recorded in the run's stage forms and the parts its parts steps consumed
    (``{sku: {"quantity", "cost"}}``)."""
    if run_id is None:
        return ZERO, {}
    run = await platform().flow_run(run_id)
    hours = ZERO
    parts: dict[str, dict[str, Decimal]] = {}
    for node_id, value in (run.get("data") or {}).items():
        if not isinstance(value, dict):
            continue
        if hours_field in value and value[hours_field] not in (None, ""):
            hours += decimal(value[hours_field], hours_field)
        used = value.get("used")
        if isinstance(used, list) and used:
            try:
                node = await platform().flow_node(run_id, node_id)
            except NotFound:
                continue
            if node.get("type") != "parts":
                continue
            for line in used:
                sku = str(line.get("sku", ""))
                held = parts.setdefault(sku, {"quantity": ZERO, "cost": ZERO})
                held["quantity"] += decimal(line.get("quantity", "0"), "quantity")
                held["cost"] += decimal(line.get("cost", "0"), "cost")
    return hours, parts


def _trace(result: Any) -> list[dict[str, Any]]:
    return [{"plugin": t.plugin, "rule": t.rule, "reason": t.reason,
             "before": str(t.before.amount), "after": str(t.after.amount)}
            for t in result.trace]


async def compute(work_order: Mapping[str, Any], doc_date: dt.date) -> dict[str, Any]:
    """The revenue of a work order as it would be booked now: ``lines`` (each with its
    shares and explanations), ``parties``, ``totals``; raises when it cannot be priced."""
    from jimu_price_lists.public import items_by_sku

    schedule = await fee_schedules.schedule_for(work_order.get("type") or "")
    if schedule is None:
        raise ValidationFailed(N_("there is no fee schedule for work order type %(type)s nor "
                                  "a default one"), field="work_order_type",
                               params={"type": work_order.get("type") or '""'})
    parties = await parties_of(work_order)
    hours, used = await _run_usage(work_order.get("run_id"), schedule["hours_field"])
    region = work_order.get("region_code") or None
    priced_for = parties.get("dealer") or parties.get("installer")
    tenant_id = current_tenant_id()

    def context(item: str, quantity: Decimal) -> PriceContext:
        return PriceContext(tenant_id=tenant_id, item=item, quantity=quantity,
                            partner_id=priced_for, region_code=region, on_date=doc_date)

    wanted: list[tuple[dict[str, Any], PriceContext]] = []
    lines: list[dict[str, Any]] = []
    if schedule["labour_item"] and hours > 0:
        line = {"key": "labour", "component": "labour", "quantity": hours,
                "title": f"工时 {_plain(hours)} h"}
        wanted.append((line, context(schedule["labour_item"], hours)))
        lines.append(line)
    names = await items_by_sku(used)
    for sku, usage in sorted(used.items()):
        name = names.get(sku, {}).get("name") or sku
        line = {"key": f"parts:{sku}", "component": "parts", "quantity": usage["quantity"],
                "title": f"{name} × {_plain(usage['quantity'])}",
                "cost": cents(usage["cost"])}
        if schedule["price_parts"] and usage["quantity"] > 0:
            wanted.append((line, context(sku, usage["quantity"])))
        else:
            line["amount"] = ZERO
        lines.append(line)
    for fee in schedule["fees"]:
        line = {"key": f"fee:{fee['key']}", "component": "fee", "quantity": Decimal(1),
                "title": fee["name"]}
        if fee.get("item"):
            wanted.append((line, context(fee["item"], Decimal(1))))
        else:
            line["amount"] = Decimal(fee["amount"])
        lines.append(line)
    path = {r["code"] for r in platform().region_path(region)} if region else set()
    for subsidy in schedule["subsidies"]:
        codes = subsidy.get("region_codes") or []
        if subsidy["to"] not in parties or (codes and not path & set(codes)):
            continue
        lines.append({"key": f"subsidy:{subsidy['key']}", "component": "subsidy",
                      "quantity": Decimal(1), "title": subsidy["name"], "amount": ZERO,
                      "facts": {"settlement.subsidy": {"amount": subsidy["amount"],
                                                       "to": subsidy["to"]}}})
    if wanted:
        results = await platform().price([c for _, c in wanted])
        for (line, _), result in zip(wanted, results, strict=True):
            line["amount"] = result.total.amount
            line["price_trace"] = _trace(result)
            line["facts"] = {**line.get("facts", {}), **{
                k: result.facts[k] for k in ("price_tiers.tier", "regional_pricing.labour_rate")
                if k in result.facts}}
    if not lines:
        raise ValidationFailed(N_("the work order recorded no hours, parts or fees to charge"),
                               field="lines")
    [split] = await platform().split_revenue([SplitContext(
        tenant_id=tenant_id, document=f"{SUBJECT}{work_order['id']}", kind="work_order",
        lines=tuple(SplitLine(line["key"], line["component"], Money(line["amount"]),
                              line["title"], Money(line["cost"]) if "cost" in line else None,
                              line.get("facts", {})) for line in lines),
        parties=parties, region_code=region, on_date=doc_date,
        facts={"work_order.type": work_order.get("type") or ""})])
    moves: dict[str, list[dict[str, Any]]] = {}
    for move in split.trace:
        moves.setdefault(move.line, []).append({
            "plugin": move.plugin, "rule": move.rule, "reason": move.reason,
            "from": move.source, "to": move.to, "amount": str(move.amount.amount)})
    for line, result in zip(lines, split.lines, strict=True):
        line["shares"] = {role: money.amount for role, money in result.shares.items()}
        line["split_trace"] = moves.get(line["key"], [])
    tier = next((line["facts"]["price_tiers.tier"] for line in lines
                 if "price_tiers.tier" in line.get("facts", {})), None)
    return {"lines": lines, "parties": parties, "region_code": region or "",
            "facts": {"price_tiers.tier": tier, "region.code": region}}


def _totals(lines: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    totals = {"total": ZERO, "cost": ZERO, "enterprise": ZERO, "dealer": ZERO,
              "installer": ZERO}
    for line in lines:
        totals["total"] += line["amount"]
        totals["cost"] += line.get("cost") or ZERO
        for role, amount in line["shares"].items():
            totals[role] = totals.get(role, ZERO) + amount
    return totals


# ----------------------------------------------------------------------------- booking


def _work_order_facts(payload: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "number", "type", "partner_id", "assignee_id", "region_code", "run_id",
            "customer_id", "completed_at", "title")
    return {k: payload.get(k) for k in keys}


async def _store(work_order: Mapping[str, Any], sequence: int, *, kind: str, status: str,
                 reason: str, doc_date: dt.date, computed: Mapping[str, Any] | None
                 ) -> dict[str, Any]:
    period, origin = await periods.booking_period(doc_date)
    lines = list(computed["lines"]) if computed else []
    parties = dict(computed["parties"]) if computed else {}
    totals = _totals(lines)
    facts = {"work_order": _work_order_facts(work_order),
             **(dict(computed["facts"]) if computed else {})}
    row = await Revenue.scoped_insert(
        work_order_id=work_order["id"], work_order_number=work_order.get("number") or "",
        work_order_type=work_order.get("type") or "", sequence=sequence, kind=kind,
        status=status, reason=reason, period=period, origin_period=origin, doc_date=doc_date,
        dealer_id=parties.get("dealer"), installer_id=parties.get("installer"),
        region_code=(computed or {}).get("region_code") or work_order.get("region_code") or "",
        total=totals["total"], cost=totals["cost"], enterprise_amount=totals["enterprise"],
        dealer_amount=totals["dealer"], installer_amount=totals["installer"], facts=facts,
        created_by=_user_id(), created_at=platform().now())
    if lines:
        tenant_id = current_tenant_id()
        await RevenueLine.insert(*[RevenueLine(
            tenant_id=tenant_id, revenue_id=row["id"], line_no=number, key=line["key"],
            component=line["component"], title=line["title"][:200],
            quantity=line.get("quantity", ZERO), amount=line["amount"], cost=line.get("cost"),
            enterprise_amount=line["shares"].get("enterprise", ZERO),
            dealer_amount=line["shares"].get("dealer", ZERO),
            installer_amount=line["shares"].get("installer", ZERO),
            price_trace=line.get("price_trace", []), split_trace=line.get("split_trace", []))
            for number, line in enumerate(lines, start=1)])
    if status == "booked":
        await ledger.post(_entries(row, lines, parties))
        await _tell_parties(row, parties, lines)
    return row


def _entries(row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
             parties: Mapping[str, int]) -> list[dict[str, Any]]:
    common = {"period": row["period"], "origin_period": row["origin_period"],
              "source_type": "work_order", "source_id": row["id"],
              "source_ref": row["work_order_number"], "region_code": row["region_code"],
              "doc_date": row["doc_date"]}
    entries = [{**common, "partner_id": None, "role": "enterprise",
                "kind": "work_order_revenue", "amount": row["total"], "cost": row["cost"],
                "quantity": Decimal(1) if row["kind"] == "original" else ZERO,
                "source_line": "enterprise",
                "note": str(parties.get("installer") or parties.get("dealer") or "")}]
    own_kind = {"installer": "service_fees", "dealer": "work_order_shares"}
    for role, partner_id in parties.items():
        sums: dict[str, Decimal] = {}
        for line in lines:
            kind = "subsidies" if line["component"] == "subsidy" else own_kind[role]
            sums[kind] = sums.get(kind, ZERO) + line["shares"].get(role, ZERO)
        for kind, amount in sums.items():
            if amount:
                entries.append({**common, "partner_id": partner_id, "role": role,
                                "kind": kind, "amount": amount,
                                "source_line": f"{role}:{kind}"})
    return entries


async def _tell_parties(row: Mapping[str, Any], parties: Mapping[str, int],
                        lines: Sequence[Mapping[str, Any]]) -> None:
    if not parties:
        return
    people = await platform().list_users(role="partner")
    for role, partner_id in parties.items():
        amount = sum((line["shares"].get(role, ZERO) for line in lines), ZERO)
        users = [u["id"] for u in people if u.get("partner_id") == partner_id]
        if not users or not amount:
            continue
        number = row["work_order_number"]
        zh, en = ("服务费", "fees") if role == "installer" else ("分成", "share")
        done_zh, done_en = (("收益调整", "adjusted") if row["kind"] == "adjustment"
                            else ("已完工", "completed"))
        await platform().notify(
            users, localized(f"工单 {number} {done_zh}：您的{zh} ¥{amount:,.2f}",
                             f"Work order {number} {done_en}: your {en} ¥{amount:,.2f}"),
            link=f"/admin/p/settlement/work-orders/{row['work_order_id']}",
            key=f"settlement:revenue:{row['id']}:{role}")


async def book_work_order(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """Book the revenue of a work order that completed (``work_order.completed``); a work
    order already booked is left alone. A work order that cannot be priced is recorded as
    failed with the reason (nothing booked), for the admin to fix and recompute."""
    work_order_id = int(payload["id"])
    if await Revenue.scoped_count().where(Revenue.work_order_id == work_order_id):
        return None
    completed = _moment(payload.get("completed_at")) or platform().now()
    doc_date = periods.local_date(completed)
    work_order = {**payload, "completed_at": completed.isoformat()}
    if await fee_schedules.schedule_for(payload.get("type") or "") is None:
        return await _store(work_order, 0, kind="original", status="skipped",
                            reason=f"no fee schedule for work order type "
                                   f"{payload.get('type') or '(none)'}",
                            doc_date=doc_date, computed=None)
    try:
        computed = await compute(work_order, doc_date)
    except JimuError as exc:
        return await _store(work_order, 0, kind="original", status="failed",
                            reason=exc.message, doc_date=doc_date, computed=None)
    return await _store(work_order, 0, kind="original", status="booked", reason="",
                        doc_date=doc_date, computed=computed)


async def documents_of(work_order_id: int) -> list[dict[str, Any]]:
    """The revenue documents of a work order, oldest first, each with its lines."""
    rows = await Revenue.scoped_select().where(
        Revenue.work_order_id == work_order_id).order_by(Revenue.sequence)
    if not rows:
        raise NotFound(N_("work order %(id)s has no revenue booked"),
                       params={"id": work_order_id})
    lines = await RevenueLine.scoped_select().where(
        RevenueLine.revenue_id.is_in([r["id"] for r in rows])).order_by(
        RevenueLine.revenue_id, RevenueLine.line_no)
    by_revenue: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        by_revenue.setdefault(line["revenue_id"], []).append(line)
    return [{**row, "lines": by_revenue.get(row["id"], [])} for row in rows]


def _held(documents: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the booked documents add up to, per line key."""
    held: dict[str, dict[str, Any]] = {}
    for document in documents:
        if document["status"] != "booked":
            continue
        for line in document["lines"]:
            entry = held.setdefault(line["key"], {
                "key": line["key"], "component": line["component"], "title": line["title"],
                "quantity": ZERO, "amount": ZERO, "cost": ZERO,
                "shares": {"enterprise": ZERO, "dealer": ZERO, "installer": ZERO}})
            entry["quantity"] += line["quantity"]
            entry["amount"] += line["amount"]
            entry["cost"] += line["cost"] or ZERO
            for role in entry["shares"]:
                entry["shares"][role] += line[f"{role}_amount"]
    return held


def _original(documents: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return documents[0]


async def _booked_parties(documents: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    parties: dict[str, int] = {}
    for document in documents:
        for role in ROLES:
            if document[f"{role}_id"] is not None:
                parties[role] = document[f"{role}_id"]
    return parties


async def recompute(work_order_id: int, *, reason: str) -> dict[str, Any]:
    """Compute the work order's revenue again (after its hours, parts, prices or rules were
    corrected) and book the difference from what is booked as an adjusting entry; 409 when
    nothing changed."""
    if not reason.strip():
        raise ValidationFailed(N_("say why the revenue is recomputed"), field="reason")
    documents = await documents_of(work_order_id)
    original = _original(documents)
    work_order = original["facts"].get("work_order") or {"id": work_order_id}
    computed = await compute(work_order, original["doc_date"])
    held = _held(documents)
    delta = []
    for line in computed["lines"]:
        before = held.pop(line["key"], None)
        if before is None:
            delta.append(line)
            continue
        change = {**line, "quantity": line.get("quantity", ZERO) - before["quantity"],
                  "amount": line["amount"] - before["amount"],
                  "cost": (line.get("cost") or ZERO) - before["cost"],
                  "shares": {role: line["shares"].get(role, ZERO) - before["shares"][role]
                             for role in ("enterprise", "dealer", "installer")}}
        if change["amount"] or change["cost"] or any(change["shares"].values()):
            delta.append(change)
    for gone in held.values():  # a line booked before that is no longer there
        if gone["amount"] or gone["cost"] or any(gone["shares"].values()):
            delta.append({**gone, "quantity": -gone["quantity"], "amount": -gone["amount"],
                          "cost": -gone["cost"],
                          "shares": {r: -a for r, a in gone["shares"].items()},
                          "price_trace": [], "split_trace": []})
    if not delta:
        raise Conflict(N_("recomputing changes nothing: the booked revenue is current"))
    parties = {**await _booked_parties(documents), **computed["parties"]}
    return await _store(work_order, len(documents), kind="adjustment", status="booked",
                        reason=reason.strip(), doc_date=original["doc_date"],
                        computed={**computed, "lines": delta, "parties": parties})


async def adjust(work_order_id: int, *, reason: str, lines: Sequence[Mapping[str, Any]]
                 ) -> dict[str, Any]:
    """Book a manual adjusting entry: each line an amount (what the customer is charged more,
    negative: less; 0 for a pure transfer) and what the dealer and the installer get of it
    (the enterprise keeps the rest)."""
    if not reason.strip():
        raise ValidationFailed(N_("say why the revenue is adjusted"), field="reason")
    if not lines or len(lines) > MAX_ADJUSTMENT_LINES:
        raise ValidationFailed(N_("an adjustment has between 1 and %(max)s lines"),
                               field="lines", params={"max": MAX_ADJUSTMENT_LINES})
    documents = await documents_of(work_order_id)
    parties = await _booked_parties(documents)
    original = _original(documents)
    built = []
    for index, line in enumerate(lines):
        title = str(line.get("title") or "").strip()
        if not title:
            raise ValidationFailed(N_("name what the line corrects"),
                                   field=f"lines[{index}].title")
        amount = _cents(line.get("amount", "0"), f"lines[{index}].amount")
        shares = {"enterprise": amount}
        for role in ROLES:
            value = line.get(role)
            if value in (None, ""):
                continue
            share = _cents(value, f"lines[{index}].{role}")
            if share and role not in parties:
                raise ValidationFailed(N_("this work order has no %(role)s"),
                                       field=f"lines[{index}].{role}", params={"role": role})
            shares[role] = share
            shares["enterprise"] -= share
        if not amount and not any(v for r, v in shares.items() if r != "enterprise"):
            raise ValidationFailed(N_("the line changes nothing"), field=f"lines[{index}]")
        component = str(line.get("component") or "adjustment")[:40]
        built.append({"key": f"adjustment:{len(documents)}:{index + 1}",
                      "component": component, "title": title[:200], "quantity": ZERO,
                      "amount": amount, "shares": shares,
                      "split_trace": [{"plugin": "settlement", "rule": "manual",
                                       "reason": reason.strip(), "from": "enterprise",
                                       "to": role, "amount": str(value)}
                                      for role, value in shares.items()
                                      if role != "enterprise" and value]})
    work_order = original["facts"].get("work_order") or {"id": work_order_id}
    return await _store(work_order, len(documents), kind="adjustment", status="booked",
                        reason=reason.strip(), doc_date=original["doc_date"],
                        computed={"lines": built, "parties": parties,
                                  "region_code": original["region_code"],
                                  "facts": {"manual": True}})


def _cents(value: Any, field: str) -> Decimal:
    amount = decimal(value, field)
    if amount.quantize(Decimal("0.01")) != amount or abs(amount) >= 10**9:
        raise ValidationFailed(N_("an amount is in yuan and fen (two decimal places)"),
                               field=field)
    return amount


# ----------------------------------------------------------------------------- views

ROLE_OF_TOTAL = {"enterprise": "enterprise_amount", "dealer": "dealer_amount",
                 "installer": "installer_amount"}


MONEY_KEYS = frozenset({"total", "cost", "enterprise_amount", "dealer_amount",
                        "installer_amount", "amount", "margin", "share"})


def json_value(value: Any, key: str = "") -> Any:
    if isinstance(value, Decimal):
        return str(cents(value)) if key in MONEY_KEYS else str(value.normalize())
    return value


async def list_revenue(*, period: str | None = None, partner_id: int | None = None,
                       installer_id: int | None = None, dealer_id: int | None = None,
                       page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Booked work-order revenue, newest first, one row per work order with its adjustments
    added in. ``partner_id`` (a partner user's own) limits it to the work orders the partner
    is a party of and shows only the partner's share; the enterprise sees every share."""
    where = [Revenue.sequence == 0, Revenue.status == "booked"]
    if period is not None:
        where.append(Revenue.period == period)
    if installer_id is not None:
        where.append(Revenue.installer_id == installer_id)
    if dealer_id is not None:
        where.append(Revenue.dealer_id == dealer_id)
    if partner_id is not None:
        where.append((Revenue.installer_id == partner_id) | (Revenue.dealer_id == partner_id))
    total = await Revenue.scoped_count().where(*where)
    originals = await Revenue.scoped_select().where(*where).order_by(
        Revenue.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
    ids = [row["work_order_id"] for row in originals]
    documents = await Revenue.scoped_select().where(
        Revenue.work_order_id.is_in(ids) & (Revenue.status == "booked")) if ids else []
    sums: dict[int, dict[str, Decimal]] = {}
    for document in documents:
        held = sums.setdefault(document["work_order_id"], {})
        for key in ("total", "cost", *ROLE_OF_TOTAL.values()):
            held[key] = held.get(key, ZERO) + document[key]
        held["adjustments"] = held.get("adjustments", ZERO) + (document["sequence"] > 0)
    rows = []
    for original in originals:
        held = sums[original["work_order_id"]]
        row = {"work_order_id": original["work_order_id"],
               "number": original["work_order_number"], "type": original["work_order_type"],
               "title": (original["facts"].get("work_order") or {}).get("title") or "",
               "period": original["period"], "doc_date": original["doc_date"],
               "region_code": original["region_code"], "adjustments": int(held["adjustments"])}
        if partner_id is None:
            row.update({"dealer_id": original["dealer_id"],
                        "installer_id": original["installer_id"],
                        **{key: held[key] for key in ("total", "cost", *ROLE_OF_TOTAL.values())}})
            row["margin"] = held["enterprise_amount"] - held["cost"]
        else:
            row["share"] = sum((held[ROLE_OF_TOTAL[role]] for role in ROLES
                                if original[f"{role}_id"] == partner_id), ZERO)
        rows.append(row)
    return rows, total


async def view(work_order_id: int, *, partner_id: int | None) -> dict[str, Any]:
    """A work order's revenue documents as the caller may see them: the enterprise sees
    everything; a partner only the documents it is a party of, and of each line only its own
    share and the reasons that gave it (``NotFound`` when it is no party)."""
    documents = await documents_of(work_order_id)
    roles: list[str] = []
    if partner_id is not None:
        roles = sorted({role for d in documents for role in ROLES
                        if d[f"{role}_id"] == partner_id})
        if not roles:
            raise NotFound(N_("work order %(id)s has no revenue booked"),
                           params={"id": work_order_id})
    shown = []
    for document in documents:
        head = {k: json_value(document[k]) for k in (
            "id", "sequence", "kind", "status", "reason", "period", "origin_period",
            "doc_date", "region_code", "currency", "created_at")}
        head["carried_forward"] = document["period"] != document["origin_period"]
        if partner_id is None:
            head.update({k: json_value(document[k], k) for k in (
                "dealer_id", "installer_id", "total", "cost", "enterprise_amount",
                "dealer_amount", "installer_amount")})
            head["margin"] = json_value(document["enterprise_amount"] - document["cost"], "margin")
            head["facts"] = {k: v for k, v in document["facts"].items() if k != "work_order"}
            head["lines"] = [{k: json_value(line[k], k) for k in (
                "line_no", "key", "component", "title", "quantity", "amount", "cost",
                "enterprise_amount", "dealer_amount", "installer_amount", "price_trace",
                "split_trace")} for line in document["lines"]]
        else:
            mine = [r for r in roles if document[f"{r}_id"] == partner_id]
            head["share"] = json_value(sum((document[ROLE_OF_TOTAL[r]] for r in mine), ZERO),
                                  "share")
            head["lines"] = [{
                "line_no": line["line_no"], "component": line["component"],
                "title": line["title"], "quantity": json_value(line["quantity"]),
                "share": json_value(sum((line[ROLE_OF_TOTAL[r]] for r in mine), ZERO), "share"),
                "reasons": [m["reason"] for m in line["split_trace"] if m["to"] in mine]}
                for line in document["lines"] if any(line[ROLE_OF_TOTAL[r]] for r in mine)]
        shown.append(head)
    first = documents[0]
    work_order = first["facts"].get("work_order") or {}
    return {"work_order_id": work_order_id, "number": first["work_order_number"],
            "type": first["work_order_type"], "title": work_order.get("title") or "",
            "completed_at": work_order.get("completed_at"), "roles": roles,
            "documents": shown}
