"""The parts ledger, free of HTTP.

Every change of stock is a row of ``parts_movement`` and, in the same transaction, a guarded
``UPDATE`` of the ``parts_stock`` row of that (warehouse, sku): the guard
(``on_hand - reserved >= q``) is evaluated by the database on the locked row, so two concurrent
requests can never take the same units (SQLite serialises writers; PostgreSQL re-checks the
``WHERE`` after the competing transaction commits). So for every (warehouse, sku) the sum of
the ledger's deltas equals the stock row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jimu_price_lists import public as price_lists
from jimu_sdk import (
    N_,
    Conflict,
    NotFound,
    PriceContext,
    ValidationFailed,
    current_scope,
    platform,
)
from jimu_sdk.context import current_tenant_id

from jimu_parts.tables import Movement, Part, Reservation, Stock, Warehouse

Q = Decimal("0.0001")
MAX_QUANTITY = Decimal("1000000000")
MAX_COST = Decimal("100000000")
# On SQLite piccolo stores NUMERIC as a float; every value here is a multiple of 0.0001, so
# half of that absorbs the float error in the guards and changes nothing on PostgreSQL.
SLACK = Decimal("0.00005")
KINDS = ("receipt", "adjustment", "reservation", "release", "consumption", "return",
         "transfer_out", "transfer_in")
STATUSES = ("active", "released", "consumed", "expired")
PARTS_CACHE = "parts.parts"


def dec(value: Any) -> Decimal:
    """A stored quantity or cost as an exact Decimal of 4 places."""
    if value is None:
        return Decimal(0).quantize(Q)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(Q, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_quantity(value: Any, field: str = "quantity", *, allow_negative: bool = False
                   ) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(N_("%(field)s must be a number"), field=field,
                               params={"field": field}) from exc
    if not quantity.is_finite():
        raise ValidationFailed(N_("%(field)s must be a number"), field=field,
                               params={"field": field})
    if quantity == 0 or (quantity < 0 and not allow_negative):
        raise ValidationFailed(N_("%(field)s must be greater than zero"), field=field,
                               params={"field": field})
    if abs(quantity) > MAX_QUANTITY:
        raise ValidationFailed(N_("%(field)s must be at most %(max)s"), field=field,
                               params={"field": field, "max": MAX_QUANTITY})
    if quantity != quantity.quantize(Q):
        raise ValidationFailed(N_("%(field)s has more than 4 decimal places"), field=field,
                               params={"field": field})
    return quantity.quantize(Q)


def check_cost(value: Any, field: str = "unit_cost") -> Decimal:
    try:
        cost = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(N_("%(field)s must be a number"), field=field,
                               params={"field": field}) from exc
    if not cost.is_finite() or cost < 0:
        raise ValidationFailed(N_("%(field)s must be zero or more"), field=field,
                               params={"field": field})
    if cost > MAX_COST:
        raise ValidationFailed(N_("%(field)s must be at most %(max)s"), field=field,
                               params={"field": field, "max": MAX_COST})
    return cost.quantize(Q, rounding=ROUND_HALF_UP)


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


def settings() -> Mapping[str, Any]:
    return platform().settings("parts")


# ----------------------------------------------------------------------------- warehouses


async def list_warehouses() -> list[dict[str, Any]]:
    return await Warehouse.scoped_select().order_by(Warehouse.code)


async def warehouse_by_code(code: str, field: str = "warehouse") -> dict[str, Any]:
    row = await Warehouse.scoped_select().where(Warehouse.code == code).first()
    if row is None:
        raise ValidationFailed(N_("warehouse %(code)s not found"), field=field,
                               params={"code": code})
    return row


async def warehouse_names() -> dict[int, dict[str, Any]]:
    return {w["id"]: w for w in await list_warehouses()}


def _check_region(code: str | None) -> str | None:
    if not code:
        return None
    if not platform().region_path(code):
        raise ValidationFailed(N_("%(code)s is not a known region code"), field="region_code",
                               params={"code": code})
    return code


async def create_warehouse(*, code: str, name: str, region_code: str | None,
                           active: bool = True) -> dict[str, Any]:
    code, name = code.strip(), name.strip()
    if not code:
        raise ValidationFailed(N_("enter a code"), field="code")
    if not name:
        raise ValidationFailed(N_("enter a name"), field="name")
    if await Warehouse.scoped_count().where(Warehouse.code == code):
        raise Conflict(N_("a warehouse with the code %(code)s already exists"), field="code",
                       params={"code": code})
    row = await Warehouse.scoped_insert(code=code, name=name,
                                        region_code=_check_region(region_code), active=active)
    await platform().audit("parts.warehouse.create", f"warehouse:{code}", None,
                           {"code": code, "name": name, "region_code": row["region_code"]})
    return row


async def update_warehouse(code: str, *, name: str, region_code: str | None, active: bool
                           ) -> dict[str, Any]:
    before = await warehouse_by_code(code)
    if not name.strip():
        raise ValidationFailed(N_("enter a name"), field="name")
    values = {Warehouse.name: name.strip(), Warehouse.region_code: _check_region(region_code),
              Warehouse.active: active}
    await Warehouse.scoped_update(values).where(Warehouse.id == before["id"])
    after = await warehouse_by_code(code)
    await platform().audit("parts.warehouse.update", f"warehouse:{code}",
                           {k: before[k] for k in ("name", "region_code", "active")},
                           {k: after[k] for k in ("name", "region_code", "active")})
    return after


# ----------------------------------------------------------------------------- parts


async def _load_parts() -> dict[str, dict[str, Any]]:
    rows = await Part.scoped_select().order_by(Part.sku)
    return {r["sku"]: {"id": r["id"], "sku": r["sku"], "active": r["active"],
                       "reorder_point": dec(r["reorder_point"]),
                       "default_warehouse_id": r["default_warehouse_id"]} for r in rows}


async def stocked_parts() -> dict[str, dict[str, Any]]:
    """Every part of the tenant by SKU (cached; invalidated when a part is saved)."""
    return await platform().cached(PARTS_CACHE, _load_parts)


async def is_stocked(sku: str) -> bool:
    part = (await stocked_parts()).get(sku)
    return bool(part and part["active"])


async def part_by_sku(sku: str, field: str = "sku") -> dict[str, Any]:
    row = await Part.scoped_select().where(Part.sku == sku).first()
    if row is None:
        raise NotFound(N_("part %(sku)s not found"), field=field, params={"sku": sku})
    return row


async def _stocked_part(sku: str, field: str = "sku") -> dict[str, Any]:
    part = (await stocked_parts()).get(sku)
    if part is None:
        raise ValidationFailed(N_("%(sku)s is not a part of the parts library; add it first"),
                               field=field, params={"sku": sku})
    return part


async def _part_values(*, sku: str, reorder_point: Any, default_warehouse: str | None
                       ) -> dict[str, Any]:
    item = await price_lists.get_item(sku)
    if item is None:
        raise ValidationFailed(N_("%(sku)s is not an item of the price lists"), field="sku",
                               params={"sku": sku})
    point = Decimal(0)
    if reorder_point not in (None, "") and Decimal(str(reorder_point)) != 0:
        point = check_quantity(reorder_point, "reorder_point")
    warehouse_id = None
    if default_warehouse:
        warehouse_id = (await warehouse_by_code(default_warehouse, "default_warehouse"))["id"]
    return {"reorder_point": point, "default_warehouse_id": warehouse_id}


async def create_part(*, sku: str, reorder_point: Any = None, default_warehouse: str | None = None,
                      active: bool = True, note: str = "") -> dict[str, Any]:
    sku = sku.strip()
    if not sku:
        raise ValidationFailed(N_("enter a SKU"), field="sku")
    values = await _part_values(sku=sku, reorder_point=reorder_point,
                                default_warehouse=default_warehouse)
    if await Part.scoped_count().where(Part.sku == sku):
        raise Conflict(N_("%(sku)s is already in the parts library"), field="sku",
                       params={"sku": sku})
    row = await Part.scoped_insert(sku=sku, active=active, note=note, **values)
    await platform().invalidate(PARTS_CACHE)
    await platform().audit("parts.part.create", f"part:{sku}", None, _part_audit(row))
    return row


async def update_part(sku: str, *, reorder_point: Any, default_warehouse: str | None,
                      active: bool, note: str = "") -> dict[str, Any]:
    before = await part_by_sku(sku)
    values = await _part_values(sku=sku, reorder_point=reorder_point,
                                default_warehouse=default_warehouse)
    await Part.scoped_update({Part.reorder_point: values["reorder_point"],
                              Part.default_warehouse_id: values["default_warehouse_id"],
                              Part.active: active, Part.note: note}).where(
        Part.id == before["id"])
    after = await part_by_sku(sku)
    await platform().invalidate(PARTS_CACHE)
    await platform().audit("parts.part.update", f"part:{sku}", _part_audit(before),
                           _part_audit(after))
    return after


def _part_audit(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"sku": row["sku"], "reorder_point": str(dec(row["reorder_point"])),
            "default_warehouse_id": row["default_warehouse_id"], "active": row["active"]}


async def list_parts() -> list[dict[str, Any]]:
    return await Part.scoped_select().order_by(Part.sku)


# ----------------------------------------------------------------------------- stock rows


async def _ensure_stock(warehouse_id: int, sku: str) -> None:
    await Stock.raw(
        "INSERT INTO parts_stock (tenant_id, warehouse_id, sku, on_hand, reserved, avg_cost) "
        "VALUES ({}, {}, {}, 0, 0, 0) ON CONFLICT (tenant_id, warehouse_id, sku) DO NOTHING",
        current_tenant_id(), warehouse_id, sku)


async def _change(warehouse_id: int, sku: str, *, on_hand: Decimal = Decimal(0),
                  reserved: Decimal = Decimal(0), need_available: Decimal = Decimal(0),
                  need_reserved: Decimal = Decimal(0)) -> dict[str, Decimal] | None:
    """Add the deltas to the stock row if it holds ``need_available`` units beyond what is
    reserved and ``need_reserved`` reserved ones; ``None`` when the guard refuses. Returns the
    row after the change."""
    rows = await Stock.raw(
        "UPDATE parts_stock SET on_hand = on_hand + {}, reserved = reserved + {} "
        "WHERE tenant_id = {} AND warehouse_id = {} AND sku = {} "
        "AND on_hand - reserved + {} >= {} AND reserved + {} >= {} "
        "RETURNING on_hand, reserved, avg_cost",
        on_hand, reserved, current_tenant_id(), warehouse_id, sku, SLACK, need_available,
        SLACK, need_reserved)
    if not rows:
        return None
    row = rows[0]
    return {"on_hand": dec(row["on_hand"]), "reserved": dec(row["reserved"]),
            "avg_cost": dec(row["avg_cost"])}


async def stock_row(warehouse_id: int, sku: str) -> dict[str, Decimal]:
    row = await Stock.scoped_select().where(
        (Stock.warehouse_id == warehouse_id) & (Stock.sku == sku)).first()
    if row is None:
        return {"on_hand": dec(0), "reserved": dec(0), "avg_cost": dec(0)}
    return {"on_hand": dec(row["on_hand"]), "reserved": dec(row["reserved"]),
            "avg_cost": dec(row["avg_cost"])}


async def _set_avg(warehouse_id: int, sku: str, after: Mapping[str, Decimal], quantity: Decimal,
                   unit_cost: Decimal) -> None:
    """Moving weighted average after ``quantity`` came in at ``unit_cost`` (the row is locked
    by the update that added them)."""
    before = after["on_hand"] - quantity
    if before <= 0:
        average = unit_cost
    else:
        average = (before * after["avg_cost"] + quantity * unit_cost) / after["on_hand"]
    await Stock.scoped_update({Stock.avg_cost: average.quantize(Q, rounding=ROUND_HALF_UP)}
                              ).where((Stock.warehouse_id == warehouse_id) & (Stock.sku == sku))


async def _record(kind: str, warehouse_id: int, sku: str, *, on_hand: Decimal = Decimal(0),
                  reserved: Decimal = Decimal(0), unit_cost: Decimal | None = None,
                  ref: str = "", note: str = "") -> dict[str, Any]:
    return await Movement.scoped_insert(
        kind=kind, warehouse_id=warehouse_id, sku=sku, on_hand_delta=on_hand,
        reserved_delta=reserved, unit_cost=unit_cost, ref=ref, note=note, user_id=_user_id(),
        at=platform().now())


async def _short(sku: str, warehouse: Mapping[str, Any], requested: Decimal,
                 field: str = "quantity") -> Conflict:
    row = await stock_row(warehouse["id"], sku)
    available = max(row["on_hand"] - row["reserved"], Decimal(0))
    item = await price_lists.get_item(sku)
    name = f"{item['name']} ({sku})" if item else sku
    return Conflict(
        N_("not enough %(part)s in %(warehouse)s: %(available)s available, "
           "%(requested)s requested"), field=field,
        params={"part": name, "warehouse": warehouse["name"],
                "available": _plain(available), "requested": _plain(requested)})


def _plain(value: Decimal) -> str:
    """4.0000 → "4", 0.5000 → "0.5" (for messages)."""
    text = format(value.normalize(), "f")
    return text


# ----------------------------------------------------------------------------- movements


async def receive(*, warehouse: str, sku: str, quantity: Any, unit_cost: Any, ref: str = "",
                  note: str = "") -> dict[str, Any]:
    """Units come in (a purchase): on hand up, moving average cost updated."""
    wh = await warehouse_by_code(warehouse)
    await _stocked_part(sku)
    qty = check_quantity(quantity)
    cost = check_cost(unit_cost)
    await _ensure_stock(wh["id"], sku)
    after = await _change(wh["id"], sku, on_hand=qty)
    assert after is not None  # no guard on a receipt
    await _set_avg(wh["id"], sku, after, qty, cost)
    return await _record("receipt", wh["id"], sku, on_hand=qty, unit_cost=cost, ref=ref,
                         note=note)


async def adjust(*, warehouse: str, sku: str, delta: Any, note: str, ref: str = ""
                 ) -> dict[str, Any]:
    """A stock count correction; a decrease may not take reserved units."""
    wh = await warehouse_by_code(warehouse)
    await _stocked_part(sku)
    qty = check_quantity(delta, "delta", allow_negative=True)
    if not note.strip():
        raise ValidationFailed(N_("say why the stock is adjusted"), field="note")
    await _ensure_stock(wh["id"], sku)
    after = await _change(wh["id"], sku, on_hand=qty,
                          need_available=-qty if qty < 0 else Decimal(0))
    if after is None:
        raise await _short(sku, wh, -qty, "delta")
    return await _record("adjustment", wh["id"], sku, on_hand=qty, unit_cost=after["avg_cost"],
                         ref=ref, note=note.strip())


async def transfer(*, source: str, target: str, sku: str, quantity: Any, note: str = ""
                   ) -> list[dict[str, Any]]:
    """Move available units between warehouses at the source's average cost."""
    src = await warehouse_by_code(source, "source")
    dst = await warehouse_by_code(target, "target")
    if src["id"] == dst["id"]:
        raise ValidationFailed(N_("choose two different warehouses"), field="target")
    await _stocked_part(sku)
    qty = check_quantity(quantity)
    await _ensure_stock(src["id"], sku)
    out = await _change(src["id"], sku, on_hand=-qty, need_available=qty)
    if out is None:
        raise await _short(sku, src, qty)
    cost = out["avg_cost"]
    ref = f"transfer:{src['code']}>{dst['code']}"
    first = await _record("transfer_out", src["id"], sku, on_hand=-qty, unit_cost=cost, ref=ref,
                          note=note)
    await _ensure_stock(dst["id"], sku)
    after = await _change(dst["id"], sku, on_hand=qty)
    assert after is not None
    await _set_avg(dst["id"], sku, after, qty, cost)
    second = await _record("transfer_in", dst["id"], sku, on_hand=qty, unit_cost=cost, ref=ref,
                           note=note)
    return [first, second]


# ----------------------------------------------------------------------------- reservations


def _timer_key(ref: str) -> str:
    return f"parts:reservation:{ref}"


async def reservation_by_ref(ref: str, field: str = "ref") -> dict[str, Any]:
    row = await Reservation.scoped_select().where(Reservation.ref == ref).first()
    if row is None:
        raise NotFound(N_("reservation %(ref)s not found"), field=field, params={"ref": ref})
    return row


async def _candidates(sku: str, part: Mapping[str, Any], region_code: str | None
                      ) -> list[dict[str, Any]]:
    """Warehouses to reserve from, best first: the part's default warehouse, then those in
    the order's region (deepest first), then by available stock."""
    warehouses = {w["id"]: w for w in await list_warehouses() if w["active"]}
    stocks = await Stock.scoped_select().where(Stock.sku == sku)
    available = {s["warehouse_id"]: dec(s["on_hand"]) - dec(s["reserved"]) for s in stocks}
    path = [r["code"] for r in platform().region_path(region_code)] if region_code else []

    def rank(w: Mapping[str, Any]) -> tuple[int, int, Decimal, str]:
        default = 0 if w["id"] == part["default_warehouse_id"] else 1
        depth = -path.index(w["region_code"]) if w["region_code"] in path else 1
        return (default, depth, -available.get(w["id"], Decimal(0)), w["code"])

    return sorted(warehouses.values(), key=rank)


async def reserve(*, ref: str, sku: str, quantity: Any, warehouse: str | None = None,
                  expires_at: dt.datetime | None = None, region_code: str | None = None,
                  field: str = "quantity") -> dict[str, Any]:
    """Hold ``quantity`` of ``sku`` for ``ref``; a quantity beyond what is available is
    refused (409) naming the part and what is available, and nothing is written."""
    ref = ref.strip()
    if not ref or len(ref) > 120:
        raise ValidationFailed(N_("a reservation needs a reference of at most 120 characters"),
                               field="ref")
    part = await _stocked_part(sku)
    if not part["active"]:
        raise ValidationFailed(N_("%(sku)s is not active in the parts library"), field="sku",
                               params={"sku": sku})
    qty = check_quantity(quantity, field)
    now = platform().now()
    if expires_at is None:
        expires_at = now + dt.timedelta(hours=int(settings().get("reservation_hours", 72)))
    elif expires_at.tzinfo is None:
        raise ValidationFailed(N_("give the expiry with a time zone"), field="expires_at")
    elif expires_at <= now:
        raise ValidationFailed(N_("the expiry is in the past"), field="expires_at")
    if await Reservation.scoped_count().where(Reservation.ref == ref):
        raise Conflict(N_("the reference %(ref)s is already reserved"), field="ref",
                       params={"ref": ref})
    if warehouse:
        choices = [await warehouse_by_code(warehouse)]
    else:
        choices = await _candidates(sku, part, region_code)
        if not choices:
            raise ValidationFailed(N_("there is no warehouse yet; add one first"),
                                   field="warehouse")
    chosen = None
    for wh in choices:
        if await _change(wh["id"], sku, reserved=qty, need_available=qty) is not None:
            chosen = wh
            break
    if chosen is None:
        raise await _short(sku, choices[0], qty, field)
    await _record("reservation", chosen["id"], sku, reserved=qty, ref=ref)
    row = await Reservation.scoped_insert(ref=ref, sku=sku, warehouse_id=chosen["id"],
                                          quantity=qty, status="active", expires_at=expires_at,
                                          created_at=now)
    await platform().schedule_at(expires_at, "parts.expire_reservation", {"ref": ref},
                                 key=_timer_key(ref))
    return row


async def _claim(row: Mapping[str, Any], status: str) -> None:
    """Move a reservation on from the status it was read in, before touching stock: of two
    requests (or a request and the expiry timer) ending it at once, the second finds it
    changed and is refused, so its stock is given back once."""
    changed = await Reservation.scoped_update({Reservation.status: status}).where(
        (Reservation.id == row["id"]) & (Reservation.status == row["status"])
    ).returning(Reservation.id)
    if not changed:
        raise _not_active(await reservation_by_ref(row["ref"]))


async def _end(row: Mapping[str, Any], status: str, note: str = "") -> None:
    """Give back what an active reservation still holds."""
    await _claim(row, status)
    qty = dec(row["quantity"])
    after = await _change(row["warehouse_id"], row["sku"], reserved=-qty, need_reserved=qty)
    if after is None:  # the ledger invariant makes this unreachable
        raise Conflict(N_("the stock of %(sku)s does not hold reservation %(ref)s"),
                       params={"sku": row["sku"], "ref": row["ref"]})
    await _record("release", row["warehouse_id"], row["sku"], reserved=-qty, ref=row["ref"],
                  note=note or status)


def _not_active(row: Mapping[str, Any]) -> Conflict:
    return Conflict(N_("reservation %(ref)s is already %(status)s"), field="ref",
                    params={"ref": row["ref"], "status": row["status"]})


async def release(ref: str) -> dict[str, Any]:
    row = await reservation_by_ref(ref)
    if row["status"] != "active":
        raise _not_active(row)
    await _end(row, "released")
    await platform().cancel_timer(_timer_key(ref))
    return await reservation_by_ref(ref)


async def reservation_row(ref: str) -> dict[str, Any] | None:
    return await Reservation.scoped_select().where(Reservation.ref == ref).first()


async def release_if_active(ref: str) -> bool:
    """Release ``ref`` when it is still active (the flow node's clean-up; safe to repeat)."""
    row = await reservation_row(ref)
    if row is None or row["status"] != "active":
        return False
    await release(ref)
    return True


async def expire_reservation(ref: str) -> bool:
    """Release a reservation whose time is up (the timer's job; safe to run twice)."""
    row = await Reservation.scoped_select().where(Reservation.ref == ref).first()
    if row is None or row["status"] != "active":
        return False
    if row["expires_at"] is not None and row["expires_at"] > platform().now():
        return False
    await _end(row, "expired")
    return True


async def consume(ref: str, quantity: Any = None) -> tuple[dict[str, Any], Decimal]:
    """Use ``quantity`` (default: all) of a reservation; the rest is released. Returns the
    reservation and the cost booked at the moving average cost of that moment. A reservation
    that expired meanwhile is consumed from what is available."""
    row = await reservation_by_ref(ref)
    if row["status"] not in ("active", "expired"):
        raise _not_active(row)
    held = dec(row["quantity"])
    qty = held if quantity is None else check_quantity(quantity)
    if qty > held:
        raise ValidationFailed(N_("at most %(max)s can be consumed from reservation %(ref)s"),
                               field="quantity", params={"max": _plain(held), "ref": ref})
    await _claim(row, "consumed")
    wid, sku = row["warehouse_id"], row["sku"]
    if row["status"] == "active":
        after = await _change(wid, sku, on_hand=-qty, reserved=-qty, need_reserved=qty)
        reserved_delta = -qty
    else:
        after = await _change(wid, sku, on_hand=-qty, need_available=qty)
        reserved_delta = Decimal(0)
    if after is None:
        raise await _short(sku, (await warehouse_names())[wid], qty)
    unit_cost = after["avg_cost"]
    cost = (qty * unit_cost).quantize(Q, rounding=ROUND_HALF_UP)
    await _record("consumption", wid, sku, on_hand=-qty, reserved=reserved_delta,
                  unit_cost=unit_cost, ref=ref)
    rest = held - qty
    if row["status"] == "active" and rest > 0:
        await _change(wid, sku, reserved=-rest, need_reserved=rest)
        await _record("release", wid, sku, reserved=-rest, ref=ref, note="rest of consumption")
    await Reservation.scoped_update({Reservation.status: "consumed", Reservation.consumed: qty,
                                     Reservation.unit_cost: unit_cost, Reservation.cost: cost}
                                    ).where(Reservation.id == row["id"])
    await platform().cancel_timer(_timer_key(ref))
    return await reservation_by_ref(ref), cost


async def return_consumed(ref: str, quantity: Any, note: str = "") -> dict[str, Any]:
    """Consumed units coming back to stock, at the cost they were consumed at."""
    row = await reservation_by_ref(ref)
    if row["status"] != "consumed":
        raise Conflict(N_("reservation %(ref)s has not been consumed"), field="ref",
                       params={"ref": ref})
    qty = check_quantity(quantity)
    left = dec(row["consumed"]) - dec(row["returned"])
    if qty > left:
        raise ValidationFailed(N_("at most %(max)s of %(ref)s can be returned"),
                               field="quantity", params={"max": _plain(left), "ref": ref})
    wid, sku = row["warehouse_id"], row["sku"]
    cost = dec(row["unit_cost"])
    after = await _change(wid, sku, on_hand=qty)
    assert after is not None
    await _set_avg(wid, sku, after, qty, cost)
    await _record("return", wid, sku, on_hand=qty, unit_cost=cost, ref=ref, note=note)
    await Reservation.scoped_update({Reservation.returned: dec(row["returned"]) + qty}).where(
        Reservation.id == row["id"])
    return await reservation_by_ref(ref)


# ----------------------------------------------------------------------------- reading


async def available(sku: str, warehouse: str | None = None) -> Decimal:
    query = Stock.scoped_select().where(Stock.sku == sku)
    if warehouse:
        query = query.where(Stock.warehouse_id == (await warehouse_by_code(warehouse))["id"])
    return sum((dec(r["on_hand"]) - dec(r["reserved"]) for r in await query), Decimal(0))


async def unit_cost(sku: str, warehouse: str | None = None) -> Decimal | None:
    """The moving average cost (over all warehouses, weighted by on hand, unless one is
    given); ``None`` when nothing is in stock."""
    query = Stock.scoped_select().where(Stock.sku == sku)
    if warehouse:
        query = query.where(Stock.warehouse_id == (await warehouse_by_code(warehouse))["id"])
    rows = [r for r in await query if dec(r["on_hand"]) > 0]
    total = sum((dec(r["on_hand"]) for r in rows), Decimal(0))
    if not total:
        return None
    value = sum((dec(r["on_hand"]) * dec(r["avg_cost"]) for r in rows), Decimal(0))
    return (value / total).quantize(Q, rounding=ROUND_HALF_UP)


async def stock_overview(*, sku: str = "", warehouse: str = "", low: bool = False
                         ) -> list[dict[str, Any]]:
    """One line per (warehouse, part): on hand, reserved, available, average cost, low."""
    parts = await stocked_parts()
    warehouses = await warehouse_names()
    query = Stock.scoped_select()
    if sku:
        query = query.where(Stock.sku == sku)
    if warehouse:
        query = query.where(Stock.warehouse_id == (await warehouse_by_code(warehouse))["id"])
    rows = await query.order_by(Stock.sku).order_by(Stock.warehouse_id)
    items = await price_lists.items_by_sku(r["sku"] for r in rows)
    lines = []
    for r in rows:
        on_hand, reserved = dec(r["on_hand"]), dec(r["reserved"])
        part = parts.get(r["sku"], {})
        point = part.get("reorder_point", Decimal(0))
        free = on_hand - reserved
        line = {"sku": r["sku"], "name": (items.get(r["sku"]) or {}).get("name", ""),
                "warehouse": warehouses[r["warehouse_id"]]["code"],
                "warehouse_name": warehouses[r["warehouse_id"]]["name"],
                "on_hand": on_hand, "reserved": reserved, "available": free,
                "avg_cost": dec(r["avg_cost"]), "reorder_point": point,
                "low": bool(point) and free <= point}
        if not low or line["low"]:
            lines.append(line)
    return lines


async def list_movements(*, sku: str = "", warehouse: str = "", kind: str = "", ref: str = "",
                         limit: int = 100) -> list[dict[str, Any]]:
    query = Movement.scoped_select()
    if sku:
        query = query.where(Movement.sku == sku)
    if warehouse:
        query = query.where(Movement.warehouse_id == (await warehouse_by_code(warehouse))["id"])
    if kind:
        if kind not in KINDS:
            raise ValidationFailed(N_("kind must be one of %(kinds)s"), field="kind",
                                   params={"kinds": ", ".join(KINDS)})
        query = query.where(Movement.kind == kind)
    if ref:
        query = query.where(Movement.ref == ref)
    return await query.order_by(Movement.id, ascending=False).limit(limit)


async def list_reservations(*, status: str = "", sku: str = "", ref_prefix: str = "",
                            limit: int = 100) -> list[dict[str, Any]]:
    query = Reservation.scoped_select()
    if status:
        if status not in STATUSES:
            raise ValidationFailed(N_("status must be one of %(statuses)s"), field="status",
                                   params={"statuses": ", ".join(STATUSES)})
        query = query.where(Reservation.status == status)
    if sku:
        query = query.where(Reservation.sku == sku)
    if ref_prefix:
        query = query.where(Reservation.ref.like(ref_prefix.replace("%", "") + "%"))
    return await query.order_by(Reservation.id, ascending=False).limit(limit)


async def tier_prices(sku: str) -> list[dict[str, Any]]:
    """The settlement price of one unit per tier code of the settings, as if the partner were
    on that tier (the caller's facts win over the price tiers plugin's)."""
    codes = list(settings().get("tier_codes") or [])
    if not codes:
        return []
    tenant = current_tenant_id()
    results = await platform().price(
        [PriceContext(tenant_id=tenant, item=sku, quantity=Decimal(1),
                      facts={"price_tiers.tier": code}) for code in codes])
    return [{"tier": code, "price": r.total.amount,
             "reasons": [t.reason for t in r.trace]} for code, r in zip(codes, results,
                                                                        strict=True)]


# ----------------------------------------------------------------------------- orders


def _order_lines(payload: Mapping[str, Any]) -> Iterable[tuple[int, Mapping[str, Any]]]:
    return enumerate(payload.get("lines") or [])


async def reserve_order(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``orders.created``: reserve each line whose SKU is a stocked part."""
    order_id = payload["order_id"]
    hours = int(settings().get("order_reservation_hours", 168))
    expires = platform().now() + dt.timedelta(hours=hours)
    made = []
    for index, line in _order_lines(payload):
        if not await is_stocked(str(line["item"])):
            continue
        made.append(await reserve(ref=f"order:{order_id}:{line['line_no']}",
                                  sku=str(line["item"]), quantity=line["quantity"],
                                  region_code=payload.get("region_code"), expires_at=expires,
                                  field=f"lines[{index}].quantity"))
    return made


async def _order_reservations(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    refs = [f"order:{payload['order_id']}:{line['line_no']}" for _, line in
            _order_lines(payload)]
    if not refs:
        return []
    return await Reservation.scoped_select().where(Reservation.ref.is_in(refs))


async def consume_order(payload: Mapping[str, Any]) -> Decimal:
    """``orders.completed``: consume the order's reservations; returns the cost booked."""
    total = Decimal(0)
    for row in await _order_reservations(payload):
        if row["status"] in ("active", "expired"):
            total += (await consume(row["ref"]))[1]
    return total


async def release_order(payload: Mapping[str, Any]) -> None:
    """``orders.cancelled``: release what the order still holds."""
    for row in await _order_reservations(payload):
        if row["status"] == "active":
            await release(row["ref"])


# ----------------------------------------------------------------------------- demo


async def seed_demo(tenant_id: int) -> None:
    demo_items = [
        ("OIL-FILTER", "机油滤芯", "part", "个", "保养配件", Decimal("45.00"), Decimal("28.00")),
        ("OIL-5W30-1L", "全合成机油 1L", "consumable", "L", "保养配件", Decimal("68.00"),
         Decimal("40.00")),
    ]
    for sku, name, kind, unit, category, price, cost in demo_items:
        if await price_lists.get_item(sku) is None:
            await price_lists.upsert_item(sku=sku, name=name, kind=kind, unit=unit,
                                          category=category, list_price=price, cost=cost)
    if not await Warehouse.scoped_count().where(Warehouse.code == "SH"):
        await create_warehouse(code="SH", name="上海仓", region_code="310115")
    if not await Warehouse.scoped_count().where(Warehouse.code == "SZ"):
        await create_warehouse(code="SZ", name="苏州仓", region_code="320500")
    stock = {"OIL-FILTER": (("SH", 120, "28.00"), ("SZ", 60, "27.50")),
             "OIL-5W30-1L": (("SH", 400, "40.00"), ("SZ", 200, "39.20"))}
    for sku, lines in stock.items():
        if await Part.scoped_count().where(Part.sku == sku):
            continue
        await create_part(sku=sku, reorder_point=20 if sku == "OIL-FILTER" else 80,
                          default_warehouse="SH")
        for code, quantity, unit_cost_text in lines:
            await receive(warehouse=code, sku=sku, quantity=quantity, unit_cost=unit_cost_text,
                          ref="demo:opening", note="期初入库")
    await reserve(ref="demo:workshop:1", sku="OIL-FILTER", quantity=2, warehouse="SH")
    await reserve(ref="demo:workshop:2", sku="OIL-5W30-1L", quantity=8, warehouse="SZ")


# ----------------------------------------------------------------------------- path keys


async def _by_key(table: Any, column: Any, key: str) -> dict[str, Any] | None:
    """A row named in a URL by its code/sku/ref or by its id (ids are what listings carry)."""
    row = await table.scoped_select().where(column == key).first()
    if row is None and key.isdigit() and len(key) < 10:
        row = await table.scoped_select().where(table.id == int(key)).first()
    return row


async def warehouse_key(key: str) -> str:
    row = await _by_key(Warehouse, Warehouse.code, key)
    if row is None:
        raise NotFound(N_("warehouse %(code)s not found"), params={"code": key})
    return row["code"]


async def part_key(key: str) -> str:
    row = await _by_key(Part, Part.sku, key)
    if row is None:
        raise NotFound(N_("part %(sku)s not found"), params={"sku": key})
    return row["sku"]


async def reservation_key(key: str) -> str:
    row = await _by_key(Reservation, Reservation.ref, key)
    if row is None:
        raise NotFound(N_("reservation %(ref)s not found"), params={"ref": key})
    return row["ref"]
