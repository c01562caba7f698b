"""The "parts" workflow node (备件出入库): reserve parts for a work order, record the parts used
on site and consume them from stock, or give reservations back.

References are ``flow:<run>:<node>:<sku>``, so a reservation belongs to one run and one node
and the same run never takes the same units twice: entering a reserve node again finds its
reservation active and keeps it. Everything runs in the transaction that moves the run: a part
that is short takes the node's ``short`` edge (reserve) or answers 409 naming the line to the
person recording it (consume), and nothing of it is written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec
from jimu_sdk import N_, Advance, NodeContext, NodeType, ValidationFailed, Wait, localized
from jimu_sdk.errors import Conflict

from jimu_parts import services

Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
MAX_LINES = 50


class PartLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Annotated[Sku, msgspec.Meta(title=N_("Part (SKU)"))]
    quantity: Annotated[str, msgspec.Meta(pattern=r"^\d{1,9}(\.\d{1,4})?$",
                                          title=N_("Quantity"))] = "1"


class PartsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mode: Annotated[Literal["reserve", "consume", "release"], msgspec.Meta(
        title=N_("What to do"),
        description=N_("reserve: hold the parts listed; consume: take the parts used out of "
                       "stock; release: give this run's reservations back"))] = "consume"
    lines: Annotated[list[PartLine], msgspec.Meta(
        max_length=MAX_LINES, title=N_("Parts"),
        description=N_("Parts and quantities (reserve; consume when nobody is asked)"))] = []
    ask: Annotated[bool, msgspec.Meta(
        title=N_("Ask for the parts used"),
        description=N_("consume: the assignee lists the parts used on site"))] = True
    warehouse: Annotated[str, msgspec.Meta(max_length=32, title=N_("Warehouse code"),
                                           description=N_("Empty: chosen by region"))] = ""


def parts_outcomes(settings: PartsSettings | None) -> list[str]:
    if settings is not None and settings.mode == "reserve":
        return ["reserved", "short"]
    return ["next"]


def parts_check(settings: PartsSettings) -> list[str]:
    if settings.mode == "reserve" and not settings.lines:
        return ["list the parts to reserve"]
    if settings.mode == "consume" and not settings.ask and not settings.lines:
        return ["list the parts to consume, or ask the assignee for them"]
    return []


def _ref(context: NodeContext, sku: str) -> str:
    return f"flow:{context.run_id}:{context.node_id}:{sku}"


def _quantity(value: Any, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("quantity must be a number"), field=field) from None
    if not quantity.is_finite() or quantity <= 0 or quantity > Decimal("999999999"):
        raise ValidationFailed(N_("quantity must be more than 0"), field=field)
    return quantity


def _plain(quantity: Decimal) -> str:
    """``2`` and ``2.5``, never ``2.0000`` (PostgreSQL's Numeric scale) nor ``1E+2``."""
    return format(quantity.normalize(), "f")


def _merged(lines: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    merged: dict[str, Decimal] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, Decimal(0)) + quantity
    return merged


def _run_refs(context: NodeContext) -> list[str]:
    return list(context.data.get("_parts_refs", []))


async def _reserve(context: NodeContext) -> Advance:
    settings: PartsSettings = context.settings
    region = context.data.get("region_code")
    wanted = _merged([(line.sku, _quantity(line.quantity, "lines")) for line in settings.lines])
    refs, short = [], []
    for sku, quantity in wanted.items():
        ref = _ref(context, sku)
        existing = await services.reservation_row(ref)
        if existing is not None and existing["status"] == "active":
            refs.append(ref)  # the run came back here: its units are held already
            continue
        if existing is not None:
            short.append(f"{sku}: reservation {ref} is {existing['status']}")
            continue
        try:
            await services.reserve(ref=ref, sku=sku, quantity=quantity,
                                   warehouse=settings.warehouse or None, expires_at=None,
                                   region_code=region if isinstance(region, str) else None,
                                   field="lines")
        except Conflict as exc:
            short.append(f"{sku}: {exc.message % exc.params if exc.params else exc.message}")
            continue
        refs.append(ref)
    if short:
        # All or nothing: give back what this pass took, so a short order holds no stock.
        for ref in refs:
            await services.release_if_active(ref)
        return Advance(outcome="short", note="short: " + "; ".join(short),
                       data={context.node_id: {"short": short}})
    lines = [{"sku": sku, "quantity": _plain(q)} for sku, q in wanted.items()]
    return Advance(outcome="reserved", note=f"reserved {len(refs)} parts",
                   data={context.node_id: {"lines": lines, "refs": refs},
                         "_parts_refs": sorted({*_run_refs(context), *refs})})


async def _consume(context: NodeContext, lines: dict[str, Decimal]) -> Advance:
    settings: PartsSettings = context.settings
    region = context.data.get("region_code")
    used, cost = [], Decimal(0)
    held = {ref.rsplit(":", 1)[1]: ref for ref in _run_refs(context)}
    for index, (sku, quantity) in enumerate(lines.items()):
        takes: list[tuple[str, Decimal]] = []
        ref = held.get(sku)
        reservation = await services.reservation_row(ref) if ref else None
        rest = quantity
        if ref and reservation is not None and reservation["status"] == "active":
            from_reservation = min(quantity, Decimal(reservation["quantity"]))
            takes.append((ref, from_reservation))
            rest -= from_reservation
        if rest > 0:
            # Not reserved (or more used than reserved): take the rest now, under this node's
            # own reference. 409 naming the part when the stock is short.
            own = _ref(context, sku)
            if await services.reservation_row(own) is not None:
                raise ValidationFailed(N_("%(sku)s was already recorded at this step"),
                                       field=f"lines[{index}].sku", params={"sku": sku})
            await services.reserve(ref=own, sku=sku, quantity=rest,
                                   warehouse=settings.warehouse or None, expires_at=None,
                                   region_code=region if isinstance(region, str) else None,
                                   field=f"lines[{index}].quantity")
            takes.append((own, rest))
        for take_ref, take in takes:
            _, booked = await services.consume(take_ref, take)
            cost += booked
            used.append({"sku": sku, "quantity": _plain(take), "cost": str(booked),
                         "ref": take_ref})
    # What was reserved and not used goes back to stock.
    for sku, ref in held.items():
        if sku not in lines:
            await services.release_if_active(ref)
    return Advance(note=f"consumed {len(lines)} parts, cost {cost}",
                   data={context.node_id: {"used": used, "cost": str(cost)}})


async def parts_enter(context: NodeContext) -> Advance | Wait:
    settings: PartsSettings = context.settings
    if settings.mode == "reserve":
        return await _reserve(context)
    if settings.mode == "release":
        released = [ref for ref in _run_refs(context) if await services.release_if_active(ref)]
        return Advance(note=f"released {len(released)} reservations",
                       data={context.node_id: {"released": released}})
    if settings.ask:
        return Wait(actions=("submit",), assignees=tuple(
            a for a in [context.data.get("assignee_id")] if isinstance(a, int)))
    return await _consume(context, _merged(
        [(line.sku, _quantity(line.quantity, "lines")) for line in settings.lines]))


async def parts_act(context: NodeContext, action: str, payload: dict[str, Any]) -> Advance:
    lines = payload.get("lines", [])
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        raise ValidationFailed(N_("lines is a list of at most %(limit)s parts"), field="lines",
                               params={"limit": MAX_LINES})
    parsed = []
    for index, line in enumerate(lines):
        sku = line.get("sku") if isinstance(line, dict) else None
        if not isinstance(sku, str) or not sku.strip():
            raise ValidationFailed(N_("name the part's SKU"), field=f"lines[{index}].sku")
        if not await services.is_stocked(sku.strip()):
            raise ValidationFailed(N_("%(sku)s is not a part of the parts library"),
                                   field=f"lines[{index}].sku", params={"sku": sku.strip()})
        parsed.append((sku.strip(), _quantity(line.get("quantity", "1"),
                                              f"lines[{index}].quantity")))
    return await _consume(context, _merged(parsed))


NODE_TYPES = [
    NodeType(key="parts", title=localized("备件出入库", "Parts"), settings=PartsSettings,
             outcomes=parts_outcomes, enter=parts_enter, act=parts_act, check=parts_check,
             icon="box", category="stock",
             description=localized("预留备件、登记现场用料并扣减库存，或释放预留",
                                   "Reserve parts, record the parts used and take them out "
                                   "of stock, or release the reservations")),
]
