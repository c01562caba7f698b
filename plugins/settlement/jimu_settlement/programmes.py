"""Rebate and share programmes (返利/分成政策) and the targets partners are measured against.

A programme covers the partners in its scope (regions, kinds, levels, codes; empty: all) in
the periods it is valid for, and counts their purchases booked in a period (``sales``
entries; only some categories or items when it names them):

- **ladder rebate** (阶梯返利): bands of volume, each with a rate — money per unit when the
  volume is a quantity (cases), a percentage of the amount when it is money. ``whole``: the
  whole volume at the rate of the band reached; ``banded``: each band's part of the volume at
  its own rate. Bands start at 0, follow each other without gap or overlap, the last is
  open-ended, and rates never fall as volume grows, so a rebate never decreases when volume
  increases.
- **volume share** (按订单量分成): a percentage of the amount of the orders counted, plus an
  optional amount per order.

A programme's result for a partner is rounded half up to the cent, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jimu_sdk import N_, Conflict, NotFound, ValidationFailed, platform

from jimu_settlement import periods
from jimu_settlement.ledger import decimal
from jimu_settlement.tables import Programme, Target

KINDS = ("ladder_rebate", "volume_share")
MODES = ("whole", "banded")
METRICS = ("quantity", "amount")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MAX_BANDS = 20
SCOPE_KEYS = ("region_codes", "partner_kinds", "partner_levels", "partner_codes")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Band:
    low: Decimal
    high: Decimal | None  # None: open-ended
    rate: Decimal


@dataclass(frozen=True)
class Volume:
    """What a partner bought in a period, counted by one programme."""

    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    orders: int = 0


@dataclass(frozen=True)
class Outcome:
    """A programme's result for one partner: the money, and how it was reached."""

    amount: Decimal
    volume: Decimal
    band: int | None  # index of the band reached (ladders)
    rate: Decimal | None
    next_low: Decimal | None  # where the next band starts
    next_rate: Decimal | None
    explanation: str


def fmt(value: Decimal) -> str:
    """``5120`` → ``5,120``, ``2.50`` → ``2.5``."""
    return format(value.normalize(), ",f")


def bands_of(programme: Mapping[str, Any]) -> list[Band]:
    return [Band(Decimal(b["min"]), None if b.get("max") in (None, "") else Decimal(b["max"]),
                 Decimal(b["rate"])) for b in programme["bands"]]


def volume_of(programme: Mapping[str, Any], volume: Volume) -> Decimal:
    return volume.quantity if programme["metric"] == "quantity" else volume.amount


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _rate_text(programme: Mapping[str, Any], rate: Decimal) -> str:
    if programme["metric"] == "quantity":
        return f"{fmt(rate)} 元/{programme.get('unit') or '件'}"
    return f"{fmt(rate)}%"


def ladder(programme: Mapping[str, Any], volume: Volume,
           bands: Sequence[Band] | None = None) -> Outcome:
    """``bands``: the programme's, parsed once by a caller settling many partners."""
    bands = bands_of(programme) if bands is None else bands
    counted = volume_of(programme, volume)
    per_unit = programme["metric"] == "quantity"
    reached = next((i for i, b in enumerate(bands)
                    if counted >= b.low and (b.high is None or counted < b.high)), 0)
    band = bands[reached]
    following = bands[reached + 1] if reached + 1 < len(bands) else None
    unit = programme.get("unit") or ""
    if programme["mode"] == "whole":
        exact = counted * band.rate if per_unit else counted * band.rate / HUNDRED
        text = (f"{fmt(counted)}{unit} 达到第 {reached + 1} 档，全量按 "
                f"{_rate_text(programme, band.rate)} = {_money(exact):,.2f}")
    else:
        exact = ZERO
        parts = []
        for b in bands:
            if counted <= b.low:
                break
            top = counted if b.high is None else min(counted, b.high)
            piece = top - b.low
            exact += piece * b.rate if per_unit else piece * b.rate / HUNDRED
            if b.rate:
                parts.append(f"{fmt(piece)}{unit} × {_rate_text(programme, b.rate)}")
        text = (f"{fmt(counted)}{unit} 分档累进：" + (" + ".join(parts) or "0")
                + f" = {_money(exact):,.2f}")
    return Outcome(_money(exact), counted, reached, band.rate,
                   following.low if following else None,
                   following.rate if following else None, text)


def volume_share(programme: Mapping[str, Any], volume: Volume) -> Outcome:
    pct = Decimal(programme["share_pct"] or 0)
    per_order = Decimal(programme["per_order"] or 0)
    exact = volume.amount * pct / HUNDRED + per_order * volume.orders
    text = f"订单金额 {volume.amount:,.2f} × {fmt(pct)}%"
    if per_order:
        text += f" + {volume.orders} 单 × {per_order:,.2f}"
    return Outcome(_money(exact), volume.amount, None, pct, None, None,
                   text + f" = {_money(exact):,.2f}")


def outcome(programme: Mapping[str, Any], volume: Volume,
            bands: Sequence[Band] | None = None) -> Outcome:
    if programme["kind"] == "ladder_rebate":
        return ladder(programme, volume, bands)
    return volume_share(programme, volume)


# ----------------------------------------------------------------------------- scope


def covers(programme: Mapping[str, Any], partner: Mapping[str, Any], period: str, *,
           paths: dict[str, set[str]] | None = None) -> bool:
    """Whether ``programme`` settles ``partner`` in ``period``. ``paths`` keeps the regions
    above each region code for a caller asking for many partners."""
    if not programme["enabled"]:
        return False
    if programme["valid_from"] and period < programme["valid_from"]:
        return False
    if programme["valid_to"] and period > programme["valid_to"]:
        return False
    if programme["partner_kinds"] and partner.get("kind") not in programme["partner_kinds"]:
        return False
    if programme["partner_levels"] and partner.get("level") not in programme["partner_levels"]:
        return False
    if programme["partner_codes"] and partner.get("code") not in programme["partner_codes"]:
        return False
    regions = programme["region_codes"]
    if regions:
        code = partner.get("region_code") or ""
        path = None if paths is None else paths.get(code)
        if path is None:
            path = {r["code"] for r in platform().region_path(code)}
            if paths is not None:
                paths[code] = path
        if not path.intersection(regions):
            return False
    return True


def filter_key(programme: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which sales lines a programme counts: (categories, items); both empty: all."""
    return tuple(sorted(programme["categories"])), tuple(sorted(programme["items"]))


# ----------------------------------------------------------------------------- validation


def check_bands(raw: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    if not raw:
        raise ValidationFailed(N_("a ladder rebate needs at least one band"), field="bands")
    if len(raw) > MAX_BANDS:
        raise ValidationFailed(N_("a ladder has at most %(max)s bands"), field="bands",
                               params={"max": MAX_BANDS})
    out = []
    previous: Band | None = None
    for index, band in enumerate(raw):
        field = f"bands[{index}]"
        low = decimal(band.get("min", ""), f"{field}.min")
        high_raw = band.get("max")
        high = None if high_raw in (None, "") else decimal(high_raw, f"{field}.max")
        rate = decimal(band.get("rate", ""), f"{field}.rate")
        if index == 0 and low != 0:
            raise ValidationFailed(N_("the first band starts at 0"), field=f"{field}.min")
        if previous is not None:
            if previous.high is None or low < previous.high:
                raise ValidationFailed(
                    N_("band %(band)s overlaps the band before it: it starts at %(min)s, "
                       "before %(previous)s"), field=f"{field}.min",
                    params={"band": index + 1, "min": fmt(low),
                            "previous": "∞" if previous.high is None else fmt(previous.high)})
            if low > previous.high:
                raise ValidationFailed(
                    N_("there is a gap between %(previous)s and %(min)s before band %(band)s"),
                    field=f"{field}.min", params={"band": index + 1, "min": fmt(low),
                                                  "previous": fmt(previous.high)})
            if rate < previous.rate:
                raise ValidationFailed(
                    N_("band %(band)s has a lower rate than the band before it: a ladder "
                       "rebate never falls as volume grows"), field=f"{field}.rate",
                    params={"band": index + 1})
        if high is not None and high <= low:
            raise ValidationFailed(N_("a band ends above where it starts"),
                                   field=f"{field}.max")
        if rate < 0 or (metric == "amount" and rate > HUNDRED):
            raise ValidationFailed(N_("a rate is between 0 and 100%% of the amount")
                                   if metric == "amount" else N_("a rate is at least 0"),
                                   field=f"{field}.rate")
        if rate != rate.quantize(Decimal("0.0001")):
            raise ValidationFailed(N_("at most four decimal places"), field=f"{field}.rate")
        previous = Band(low, high, rate)
        out.append({"min": str(low), "max": None if high is None else str(high),
                    "rate": str(rate)})
    if previous is not None and previous.high is not None:
        raise ValidationFailed(N_("the last band has no end (leave its max empty)"),
                               field=f"bands[{len(raw) - 1}].max")
    return out


async def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if not CODE.match(values.get("code") or ""):
        raise ValidationFailed(N_("a code is letters, digits, _, . and - (at most 40)"),
                               field="code")
    if values.get("kind") not in KINDS:
        raise ValidationFailed(N_("kind is ladder_rebate or volume_share"), field="kind")
    if values.get("metric") not in METRICS:
        raise ValidationFailed(N_("metric is quantity or amount"), field="metric")
    if values["kind"] == "ladder_rebate":
        if values.get("mode") not in MODES:
            raise ValidationFailed(N_("mode is whole or banded"), field="mode")
        values["bands"] = check_bands(values.get("bands") or [], values["metric"])
        values["share_pct"] = values["per_order"] = None
    else:
        if values.get("bands"):
            raise ValidationFailed(N_("a volume share has no bands"), field="bands")
        pct = decimal(values.get("share_pct") if values.get("share_pct") is not None else "",
                      "share_pct")
        if not ZERO < pct <= HUNDRED:
            raise ValidationFailed(N_("a share is more than 0%% and at most 100%%, not "
                                      "%(value)s%%"), field="share_pct",
                                   params={"value": fmt(pct)})
        per_order = decimal(values.get("per_order") or "0", "per_order")
        if per_order < 0 or per_order.quantize(CENT) != per_order:
            raise ValidationFailed(N_("an amount is at least 0, in yuan and fen (two decimal "
                                      "places)"), field="per_order")
        values.update(share_pct=pct, per_order=per_order or None, bands=[], mode="whole",
                      metric="amount")
    for name in ("valid_from", "valid_to"):
        if values.get(name):
            periods.check_code(values[name], name)
    if values.get("valid_from") and values.get("valid_to") and (
            values["valid_to"] < values["valid_from"]):
        raise ValidationFailed(N_("valid_to is not before valid_from"), field="valid_to")
    for code in values.get("region_codes") or []:
        if not platform().region_path(code):
            raise ValidationFailed(N_("%(code)s is not a known region code"),
                                   field="region_codes", params={"code": code})
    known = {p["code"] for p in await platform().list_partners()}
    for code in values.get("partner_codes") or []:
        if code not in known:
            raise ValidationFailed(N_("there is no partner %(code)s"), field="partner_codes",
                                   params={"code": code})
    return values


def _out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "share_pct": None if row["share_pct"] is None else Decimal(row["share_pct"]),
            "per_order": None if row["per_order"] is None else Decimal(row["per_order"])}


async def list_programmes(*, enabled_only: bool = False) -> list[dict[str, Any]]:
    query = Programme.scoped_select().order_by(Programme.code)
    if enabled_only:
        query = query.where(Programme.enabled == True)  # noqa: E712
    return [_out(r) for r in await query]


async def get_programme(code: str) -> dict[str, Any]:
    row = await Programme.scoped_select().where(Programme.code == code).first()
    if row is None:
        raise NotFound(N_("there is no programme %(code)s"), params={"code": code})
    return _out(row)


def _audit(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()
            if k not in ("id", "tenant_id", "created_at", "updated_at")}


async def create_programme(data: Mapping[str, Any]) -> dict[str, Any]:
    values = await validate(data)
    if await Programme.scoped_count().where(Programme.code == values["code"]):
        raise Conflict(N_("a programme %(code)s exists already"), field="code",
                       params={"code": values["code"]})
    now = platform().now()
    row = await Programme.scoped_insert(**values, created_at=now, updated_at=now)
    await platform().audit("settlement.programme.create", f"settlement_programme:{row['code']}",
                           None, _audit(row))
    return _out(row)


async def update_programme(code: str, data: Mapping[str, Any]) -> dict[str, Any]:
    before = await get_programme(code)
    values = await validate({**data, "code": code})
    values.pop("code")
    await Programme.scoped_update({getattr(Programme, k): v for k, v in values.items()}
                                  | {Programme.updated_at: platform().now()}).where(
        Programme.code == code)
    after = await get_programme(code)
    await platform().audit("settlement.programme.update", f"settlement_programme:{code}",
                           _audit(before), _audit(after))
    return after


async def delete_programme(code: str) -> None:
    from jimu_settlement.tables import Entry

    before = await get_programme(code)
    if await Entry.scoped_count().where((Entry.source_type == "programme")
                                        & (Entry.source_id == before["id"])):
        raise Conflict(N_("programme %(code)s has settled amounts; switch it off instead of "
                          "deleting it"), params={"code": code})
    await Programme.scoped_delete().where(Programme.code == code)
    await platform().audit("settlement.programme.delete", f"settlement_programme:{code}",
                           _audit(before), None)


# ----------------------------------------------------------------------------- targets


async def set_target(*, period: str, metric: str, value: Any, partner_id: int | None = None,
                     region_code: str = "", note: str = "") -> dict[str, Any]:
    periods.check_code(period)
    if metric not in METRICS:
        raise ValidationFailed(N_("metric is quantity or amount"), field="metric")
    amount = decimal(value, "value")
    if amount <= 0:
        raise ValidationFailed(N_("a target is more than 0"), field="value")
    if (partner_id is None) == (not region_code):
        raise ValidationFailed(N_("a target is for a partner or for a region, one of the two"),
                               field="partner_id")
    if partner_id is not None:
        await platform().get_partner(partner_id)
        scope = f"partner:{partner_id}"
    else:
        if not platform().region_path(region_code):
            raise ValidationFailed(N_("%(code)s is not a known region code"),
                                   field="region_code", params={"code": region_code})
        scope = f"region:{region_code}"
    existing = await Target.scoped_select().where(
        (Target.period == period) & (Target.scope == scope) & (Target.metric == metric)
    ).first()
    if existing is None:
        row = await Target.scoped_insert(period=period, scope=scope, partner_id=partner_id,
                                         region_code=region_code, metric=metric, value=amount,
                                         note=note)
    else:
        await Target.scoped_update({Target.value: amount, Target.note: note}).where(
            Target.id == existing["id"])
        row = {**existing, "value": amount, "note": note}
    await platform().audit("settlement.target.save", f"settlement_target:{period}:{scope}",
                           _audit(existing), _audit(row))
    return row


async def list_targets(period: str) -> list[dict[str, Any]]:
    periods.check_code(period)
    return await Target.scoped_select().where(Target.period == period).order_by(Target.scope)


def target_for(targets: Iterable[Mapping[str, Any]], partner: Mapping[str, Any],
               metric: str) -> Decimal | None:
    """The partner's own target, else that of the deepest region it lies in."""
    by_scope = {t["scope"]: Decimal(t["value"]) for t in targets if t["metric"] == metric}
    own = by_scope.get(f"partner:{partner['id']}")
    if own is not None:
        return own
    for region in reversed(platform().region_path(partner.get("region_code") or "")):
        found = by_scope.get(f"region:{region['code']}")
        if found is not None:
            return found
    return None
