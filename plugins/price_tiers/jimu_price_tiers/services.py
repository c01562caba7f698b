"""Price tiers (多档位): tiers, rule sets, volume facts, evaluation and history. No HTTP here.

Which rule set decides a partner's tier: among the **enabled** rule sets whose scope (partner
kinds, partner codes, regions) covers the partner, the one with the highest ``priority`` that
yields a tier; ties are impossible (refused at save) and would fall back to the rule set code.
A partner whose current assignment is ``locked`` (a manual override) is skipped until unlocked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from jimu_sdk import (
    N_,
    Conflict,
    NotFound,
    ValidationFailed,
    current_scope,
    current_tenant_id,
    platform,
)
from piccolo.query.functions.aggregate import Count, Min, Sum

from jimu_price_tiers.tables import Assignment, RuleSet, Tier, Volume

BASES = ("monthly_volume", "partner_level", "city_tier", "cooperation")
PARTNER_KINDS = ("dealer", "store", "installer", "service_provider", "agent")
PARTNER_LEVELS = ("general_agent", "level1", "level2", "")
LEVEL_NAMES = {"general_agent": "总代", "level1": "一级", "level2": "二级", "": "无级别"}
TIER_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
RULE_SET_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
COUNTY_SUFFIXES = ("县", "旗")  # 县, 自治县, 旗, 自治旗: county-level, not an urban district
BATCH = 1000
CACHE = "price_tiers.current"


# ----------------------------------------------------------------------------- rule bodies


class Band(msgspec.Struct, forbid_unknown_fields=True):
    min: Decimal
    max: Decimal | None
    tier: str


class MonthlyVolumeBody(msgspec.Struct, forbid_unknown_fields=True):
    bands: list[Band]
    categories: list[str] = []
    items: list[str] = []
    unit: str = ""


class CityGroup(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    region_codes: list[str]
    tier: str


class CityTierBody(msgspec.Struct, forbid_unknown_fields=True):
    groups: list[CityGroup]
    default: str | None = None
    county_tier: str | None = None


class Threshold(msgspec.Struct, forbid_unknown_fields=True):
    tier: str
    min_completed_orders: Annotated[int, msgspec.Meta(ge=0)] = 0
    min_months: Annotated[int, msgspec.Meta(ge=0)] = 0


class CooperationBody(msgspec.Struct, forbid_unknown_fields=True):
    thresholds: list[Threshold]


BODY_TYPES: dict[str, Any] = {"monthly_volume": MonthlyVolumeBody,
                              "partner_level": dict[str, str | None],
                              "city_tier": CityTierBody, "cooperation": CooperationBody}


class EvaluationSummary(msgspec.Struct):
    evaluated: int
    changed: int
    by_tier: dict[str, int]


def fmt(value: Decimal | int) -> str:
    """5120.0000 → "5,120"; 12.5 → "12.5"."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value.normalize():,f}"


def band_label(band: Band) -> str:
    upper = "∞" if band.max is None else fmt(band.max)
    return f"[{fmt(band.min)}, {upper}) → {band.tier}"


def _local_now() -> dt.datetime:
    return platform().now().astimezone(ZoneInfo(platform().timezone()))


def volume_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime, str]:
    """The last full calendar month in the tenant's time zone, as a UTC half-open interval
    ``[start, end)`` and its label (``2026-10``): on any day of November it is October."""
    tz = ZoneInfo(platform().timezone())
    local = (now or platform().now()).astimezone(tz)
    end = dt.datetime(local.year, local.month, 1, tzinfo=tz)
    previous = end - dt.timedelta(days=1)
    start = dt.datetime(previous.year, previous.month, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC), f"{start:%Y-%m}"


def full_months(since: dt.datetime, now: dt.datetime) -> int:
    """Whole calendar months from ``since`` to ``now`` (tenant time zone)."""
    tz = ZoneInfo(platform().timezone())
    a, b = since.astimezone(tz), now.astimezone(tz)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if (b.day, b.time()) < (a.day, a.time()):
        months -= 1
    return max(months, 0)


def region_codes_of(code: str | None) -> tuple[str, ...]:
    if not code:
        return ()
    return tuple(r["code"] for r in platform().region_path(code))


# ----------------------------------------------------------------------------- tiers


def _tier_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("code", "name", "rank", "description")}


async def list_tiers() -> list[dict[str, Any]]:
    rows = await Tier.scoped_select().order_by(Tier.rank).order_by(Tier.code)
    return [_tier_out(r) for r in rows]


async def tier_ranks() -> dict[str, int]:
    return {r["code"]: r["rank"] for r in await Tier.scoped_select(Tier.code, Tier.rank)}


async def get_tier(code: str) -> dict[str, Any]:
    row = await Tier.scoped_select().where(Tier.code == code).first()
    if row is None:
        raise NotFound(N_("tier %(code)s not found"), params={"code": code})
    return row


def _check_tier_fields(name: str, rank: int) -> None:
    if not name.strip():
        raise ValidationFailed(N_("give the tier a name"), field="name")
    if not 1 <= rank <= 99:
        raise ValidationFailed(N_("rank must be between 1 (best) and 99"), field="rank")


async def create_tier(*, code: str, name: str, rank: int, description: str = ""
                      ) -> dict[str, Any]:
    if not TIER_CODE.match(code):
        raise ValidationFailed(N_("a tier code is 1–16 capital letters, digits, _ or -, "
                                  "e.g. A or T1"), field="code")
    _check_tier_fields(name, rank)
    if await Tier.scoped_select(Tier.id).where(Tier.code == code).first():
        raise Conflict(N_("tier %(code)s already exists"), field="code", params={"code": code})
    row = await Tier.scoped_insert(code=code, name=name.strip(), rank=rank,
                                   description=description)
    await platform().audit("price_tiers.tier.create", f"tier:{code}", None, _tier_out(row))
    return _tier_out(row)


async def update_tier(code: str, *, name: str, rank: int, description: str = ""
                      ) -> dict[str, Any]:
    before = await get_tier(code)
    _check_tier_fields(name, rank)
    await Tier.scoped_update({Tier.name: name.strip(), Tier.rank: rank,
                              Tier.description: description}).where(Tier.code == code)
    after = _tier_out(await get_tier(code))
    await platform().audit("price_tiers.tier.update", f"tier:{code}", _tier_out(before), after)
    return after


def tiers_used_by(body: Mapping[str, Any], basis: str) -> set[str]:
    if basis == "monthly_volume":
        return {b["tier"] for b in body.get("bands", [])}
    if basis == "partner_level":
        return {t for t in body.values() if t}
    if basis == "city_tier":
        return ({g["tier"] for g in body.get("groups", [])}
                | {t for t in (body.get("default"), body.get("county_tier")) if t})
    return {t["tier"] for t in body.get("thresholds", [])}


async def delete_tier(code: str) -> None:
    before = await get_tier(code)
    for rule_set in await RuleSet.scoped_select(RuleSet.code, RuleSet.basis, RuleSet.body):
        if code in tiers_used_by(rule_set["body"], rule_set["basis"]):
            raise Conflict(N_("tier %(code)s is used by rule set %(rule_set)s; change the rule "
                              "set first"), params={"code": code, "rule_set": rule_set["code"]})
    if await Assignment.scoped_select(Assignment.id).where(
            (Assignment.tier == code) & Assignment.valid_to.is_null()).first():
        raise Conflict(N_("tier %(code)s is assigned to partners; re-evaluate or reassign them "
                          "first"), params={"code": code})
    await Tier.scoped_delete().where(Tier.code == code)
    await platform().audit("price_tiers.tier.delete", f"tier:{code}", _tier_out(before), None)


# ----------------------------------------------------------------------------- rule sets


@dataclass
class RuleSetIn:
    code: str
    name: str
    basis: str
    body: Any
    partner_kinds: list[str] = field(default_factory=list)
    partner_codes: list[str] = field(default_factory=list)
    region_codes: list[str] = field(default_factory=list)
    priority: int = 0
    enabled: bool = True


RULE_SET_FIELDS = ("code", "name", "basis", "partner_kinds", "partner_codes", "region_codes",
                   "priority", "enabled", "body")


def _rule_set_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in RULE_SET_FIELDS}


async def list_rule_sets() -> list[dict[str, Any]]:
    rows = await RuleSet.scoped_select().order_by(RuleSet.priority, ascending=False
                                                  ).order_by(RuleSet.code)
    return [_rule_set_out(r) for r in rows]


async def get_rule_set(code: str) -> dict[str, Any]:
    row = await RuleSet.scoped_select().where(RuleSet.code == code).first()
    if row is None:
        raise NotFound(N_("rule set %(code)s not found"), params={"code": code})
    return _rule_set_out(row)


def _decode_body(basis: str, raw: Any) -> Any:
    try:
        return msgspec.convert(raw, type=BODY_TYPES[basis], strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(N_("the rule body is not valid for %(basis)s: %(error)s"),
                               field="body", params={"basis": basis, "error": str(exc)}
                               ) from exc


def _unknown_tiers(used: Iterable[str], ranks: Mapping[str, int]) -> None:
    unknown = sorted({t for t in used if t not in ranks})
    if unknown:
        raise ValidationFailed(N_("unknown tier code(s) %(codes)s; create the tiers first"),
                               field="body", params={"codes": ", ".join(unknown)})


def check_bands(body: MonthlyVolumeBody, ranks: Mapping[str, int]) -> None:
    """Bands must cover [0, ∞) without gap or overlap, and more volume never gives a worse
    tier."""
    if not body.bands:
        raise ValidationFailed(N_("add at least one volume band"), field="body.bands")
    _unknown_tiers((b.tier for b in body.bands), ranks)
    for band in body.bands:
        if not band.min.is_finite() or (band.max is not None and not band.max.is_finite()):
            raise ValidationFailed(N_("volume band %(band)s is empty or negative"),
                                   field="body.bands", params={"band": band_label(band)})
    bands = sorted(body.bands, key=lambda b: b.min)
    for band in bands:
        if band.min < 0 or (band.max is not None and band.max <= band.min):
            raise ValidationFailed(N_("volume band %(band)s is empty or negative"),
                                   field="body.bands", params={"band": band_label(band)})
    if bands[0].min != 0:
        raise ValidationFailed(N_("volume bands leave a gap: nothing covers [0, %(min)s) before "
                                  "band %(band)s"), field="body.bands",
                               params={"min": fmt(bands[0].min), "band": band_label(bands[0])})
    for lower, upper in pairwise(bands):
        params = {"a": band_label(lower), "b": band_label(upper)}
        if lower.max is None or upper.min < lower.max:
            raise ValidationFailed(N_("volume bands %(a)s and %(b)s overlap"),
                                   field="body.bands", params=params)
        if upper.min > lower.max:
            raise ValidationFailed(N_("volume bands %(a)s and %(b)s leave a gap"),
                                   field="body.bands", params=params)
        if ranks[upper.tier] > ranks[lower.tier]:
            raise ValidationFailed(N_("volume band %(b)s gives a worse tier than %(a)s for more "
                                      "volume"), field="body.bands", params=params)
    if bands[-1].max is not None:
        raise ValidationFailed(N_("volume bands leave a gap: nothing covers %(max)s and more; "
                                  "leave the last band's max empty"), field="body.bands",
                               params={"max": fmt(bands[-1].max)})


def check_thresholds(body: CooperationBody, ranks: Mapping[str, int]) -> None:
    if not body.thresholds:
        raise ValidationFailed(N_("add at least one threshold"), field="body.thresholds")
    _unknown_tiers((t.tier for t in body.thresholds), ranks)
    seen = Counter(t.tier for t in body.thresholds)
    twice = sorted(t for t, n in seen.items() if n > 1)
    if twice:
        raise ValidationFailed(N_("tier %(tier)s has more than one threshold"),
                               field="body.thresholds", params={"tier": twice[0]})
    ordered = sorted(body.thresholds, key=lambda t: ranks[t.tier])
    for better, worse in pairwise(ordered):
        b_orders, b_months = _effective(better)
        w_orders, w_months = _effective(worse)
        if (b_orders < w_orders or b_months < w_months
                or (b_orders == w_orders and b_months == w_months)):
            raise ValidationFailed(
                N_("thresholds are not monotonic: the better tier %(better)s (%(bo)s orders or "
                   "%(bm)s months) must need more than the worse tier %(worse)s (%(wo)s orders "
                   "or %(wm)s months)"), field="body.thresholds",
                params={"better": better.tier, "bo": better.min_completed_orders,
                        "bm": better.min_months, "worse": worse.tier,
                        "wo": worse.min_completed_orders, "wm": worse.min_months})


def _effective(threshold: Threshold) -> tuple[float, float]:
    """0 means "not a criterion" (unless both are 0: always reached)."""
    orders, months = threshold.min_completed_orders, threshold.min_months
    if orders == 0 and months == 0:
        return 0, 0
    return (orders or float("inf")), (months or float("inf"))


def check_levels(body: dict[str, str | None], ranks: Mapping[str, int]) -> None:
    for level in PARTNER_LEVELS:
        if level not in body:
            raise ValidationFailed(N_("the partner level mapping is missing level %(level)s"),
                                   field="body", params={"level": level or '""'})
    extra = sorted(set(body) - set(PARTNER_LEVELS))
    if extra:
        raise ValidationFailed(N_("%(level)s is not a partner level (general_agent, level1, "
                                  "level2 or \"\")"), field="body", params={"level": extra[0]})
    _unknown_tiers((t for t in body.values() if t), ranks)


def check_city_tier(body: CityTierBody, ranks: Mapping[str, int]) -> None:
    if not body.default:
        raise ValidationFailed(N_("a city tier rule set needs a default tier for every other "
                                  "region (e.g. county stores)"), field="body.default")
    _unknown_tiers([*(g.tier for g in body.groups), body.default,
                    *([body.county_tier] if body.county_tier else [])], ranks)
    owner: dict[str, str] = {}
    for index, group in enumerate(body.groups):
        if not group.region_codes:
            raise ValidationFailed(N_("city group %(name)s lists no region"),
                                   field=f"body.groups[{index}].region_codes",
                                   params={"name": group.name})
        for code in group.region_codes:
            if not region_codes_of(code):
                raise ValidationFailed(N_("%(code)s is not a known region code"),
                                       field=f"body.groups[{index}].region_codes",
                                       params={"code": code})
            if code in owner:
                raise ValidationFailed(N_("region %(code)s is in both city groups %(a)s and "
                                          "%(b)s"), field=f"body.groups[{index}].region_codes",
                                       params={"code": code, "a": owner[code],
                                               "b": group.name})
            owner[code] = group.name


def _scopes_overlap(a: Mapping[str, Any], b: Mapping[str, Any],
                    partners: Sequence[Mapping[str, Any]]) -> bool:
    """Could one partner fall under both rule sets' scopes?"""
    if a["partner_codes"] or b["partner_codes"]:
        return any(applies(a, p) and applies(b, p) for p in partners)
    kinds_a, kinds_b = set(a["partner_kinds"]), set(b["partner_kinds"])
    if kinds_a and kinds_b and not kinds_a & kinds_b:
        return False
    if a["region_codes"] and b["region_codes"]:
        return any(x in region_codes_of(y) or y in region_codes_of(x)
                   for x in a["region_codes"] for y in b["region_codes"])
    return True


async def validate_rule_set(data: RuleSetIn, *, existing: str | None) -> dict[str, Any]:
    if not RULE_SET_CODE.match(data.code):
        raise ValidationFailed(N_("a rule set code is 1–32 letters, digits, _ . or -"),
                               field="code")
    if not data.name.strip():
        raise ValidationFailed(N_("give the rule set a name"), field="name")
    if data.basis not in BASES:
        raise ValidationFailed(N_("basis must be one of %(bases)s"), field="basis",
                               params={"bases": ", ".join(BASES)})
    for kind in data.partner_kinds:
        if kind not in PARTNER_KINDS:
            raise ValidationFailed(N_("%(kind)s is not a partner kind (%(kinds)s)"),
                                   field="partner_kinds",
                                   params={"kind": kind, "kinds": ", ".join(PARTNER_KINDS)})
    for code in data.region_codes:
        if not region_codes_of(code):
            raise ValidationFailed(N_("%(code)s is not a known region code"),
                                   field="region_codes", params={"code": code})
    partners = await platform().list_partners()
    known = {p["code"] for p in partners}
    for code in data.partner_codes:
        if code not in known:
            raise ValidationFailed(N_("partner %(code)s not found"), field="partner_codes",
                                   params={"code": code})
    ranks = await tier_ranks()
    body = _decode_body(data.basis, data.body)
    if data.basis == "monthly_volume":
        check_bands(body, ranks)
    elif data.basis == "partner_level":
        check_levels(body, ranks)
    elif data.basis == "city_tier":
        check_city_tier(body, ranks)
    else:
        check_thresholds(body, ranks)
    values = {"code": data.code, "name": data.name.strip(), "basis": data.basis,
              "partner_kinds": sorted(set(data.partner_kinds)),
              "partner_codes": sorted(set(data.partner_codes)),
              "region_codes": sorted(set(data.region_codes)), "priority": data.priority,
              "enabled": data.enabled, "body": msgspec.to_builtins(body)}
    if data.enabled:
        others = await RuleSet.scoped_select().where(
            (RuleSet.enabled == True) & (RuleSet.priority == data.priority)  # noqa: E712
            & (RuleSet.code != (existing or data.code)))
        for other in sorted(others, key=lambda r: r["code"]):
            if _scopes_overlap(values, other, partners):
                raise ValidationFailed(
                    N_("rule sets %(a)s and %(b)s are both enabled with priority %(priority)s "
                       "for the same partners; give one another priority or narrow its "
                       "partners"), field="priority",
                    params={"a": other["code"], "b": data.code, "priority": data.priority})
    return values


async def create_rule_set(data: RuleSetIn) -> dict[str, Any]:
    if await RuleSet.scoped_select(RuleSet.id).where(RuleSet.code == data.code).first():
        raise Conflict(N_("rule set %(code)s already exists"), field="code",
                       params={"code": data.code})
    values = await validate_rule_set(data, existing=None)
    await RuleSet.scoped_insert(**values, updated_at=platform().now())
    await platform().audit("price_tiers.rule_set.create", f"rule_set:{data.code}", None, values)
    return values


async def update_rule_set(code: str, data: RuleSetIn) -> dict[str, Any]:
    before = await get_rule_set(code)
    data.code = code
    values = await validate_rule_set(data, existing=code)
    await RuleSet.scoped_update({**{getattr(RuleSet, k): v for k, v in values.items()},
                                 RuleSet.updated_at: platform().now()}
                                ).where(RuleSet.code == code)
    await platform().audit("price_tiers.rule_set.update", f"rule_set:{code}", before, values)
    return values


async def delete_rule_set(code: str) -> None:
    before = await get_rule_set(code)
    await RuleSet.scoped_delete().where(RuleSet.code == code)
    await platform().audit("price_tiers.rule_set.delete", f"rule_set:{code}", before, None)


# ----------------------------------------------------------------------------- volumes


@dataclass
class VolumeLine:
    partner_id: int
    order_ref: str
    line_no: int
    item: str
    category: str
    quantity: Decimal
    amount: Decimal
    completed_at: dt.datetime


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(N_("%(field)s must be a number"), field=field_name,
                               params={"field": field_name}) from exc
    if not number.is_finite():
        raise ValidationFailed(N_("%(field)s must be a number"), field=field_name,
                               params={"field": field_name})
    return number


def check_line(line: VolumeLine, prefix: str) -> None:
    for name in ("quantity", "amount"):
        if not getattr(line, name).is_finite():
            raise ValidationFailed(N_("%(field)s must be a number"), field=f"{prefix}.{name}",
                                   params={"field": name})
    if line.quantity <= 0:
        raise ValidationFailed(N_("quantity must be greater than zero"),
                               field=f"{prefix}.quantity")
    if line.quantity >= Decimal(10) ** 12 or line.amount >= Decimal(10) ** 13:
        raise ValidationFailed(N_("%(field)s is too large"), field=f"{prefix}.quantity",
                               params={"field": "quantity"})
    if line.amount < 0:
        raise ValidationFailed(N_("amount must not be negative"), field=f"{prefix}.amount")
    if line.completed_at.tzinfo is None:
        raise ValidationFailed(N_("completed_at needs a time zone, e.g. 2026-10-05T10:00:00+08:00"),
                               field=f"{prefix}.completed_at")
    if not line.order_ref.strip():
        raise ValidationFailed(N_("order_ref must not be empty"), field=f"{prefix}.order_ref")


async def record_volumes(lines: Sequence[VolumeLine], *, prefix: str = "lines"
                         ) -> tuple[int, int, set[int]]:
    """Store completed-order lines; lines already stored (same order_ref and line_no) are
    skipped, so redelivery is harmless. Returns (recorded, skipped, partner ids touched)."""
    seen: set[tuple[str, int]] = set()
    for index, line in enumerate(lines):
        check_line(line, f"{prefix}[{index}]")
        key = (line.order_ref, line.line_no)
        if key in seen:
            raise ValidationFailed(N_("order %(order)s line %(line)s appears twice"),
                                   field=f"{prefix}[{index}].line_no",
                                   params={"order": line.order_ref, "line": line.line_no})
        seen.add(key)
    partner_ids = sorted({line.partner_id for line in lines})
    known = {p["id"] for p in await platform().list_partners(partner_ids)} if lines else set()
    for index, line in enumerate(lines):
        if line.partner_id not in known:
            raise ValidationFailed(N_("partner %(id)s not found"),
                                   field=f"{prefix}[{index}].partner_id",
                                   params={"id": line.partner_id})
    stored: set[tuple[str, int]] = set()
    refs = sorted({line.order_ref for line in lines})
    for start in range(0, len(refs), BATCH):
        rows = await Volume.scoped_select(Volume.order_ref, Volume.line_no).where(
            Volume.order_ref.is_in(refs[start:start + BATCH]))
        stored |= {(r["order_ref"], r["line_no"]) for r in rows}
    tenant_id = current_tenant_id()
    fresh = [Volume(tenant_id=tenant_id, partner_id=line.partner_id, order_ref=line.order_ref,
                    line_no=line.line_no, item=line.item, category=line.category,
                    quantity=line.quantity, amount=line.amount,
                    completed_at=line.completed_at.astimezone(dt.UTC))
             for line in lines if (line.order_ref, line.line_no) not in stored]
    for start in range(0, len(fresh), BATCH):
        await Volume.insert(*fresh[start:start + BATCH])
    touched = {line.partner_id for line in lines if (line.order_ref, line.line_no) not in stored}
    return len(fresh), len(lines) - len(fresh), touched


def lines_from_event(payload: Mapping[str, Any]) -> list[VolumeLine]:
    """``orders.completed``: {order_id, partner_id, completed_at, lines: [{item, category,
    quantity, amount}]}; line numbers are the positions, from 1."""
    completed_at = dt.datetime.fromisoformat(str(payload["completed_at"]))
    if completed_at.tzinfo is None:
        completed_at = completed_at.replace(tzinfo=dt.UTC)
    # Order numbers of this platform live apart from the ERP's order_ref (POST /volumes).
    return [VolumeLine(partner_id=int(payload["partner_id"]),
                       order_ref=f"order:{payload['order_id']}",
                       line_no=index, item=str(line.get("item", "")),
                       category=str(line.get("category", "")),
                       quantity=_decimal(line.get("quantity"), f"lines[{index - 1}].quantity"),
                       amount=_decimal(line.get("amount", "0"), f"lines[{index - 1}].amount"),
                       completed_at=completed_at)
            for index, line in enumerate(payload.get("lines", []), start=1)]


async def volumes_of(partner_id: int, limit: int = 100) -> list[dict[str, Any]]:
    return await Volume.scoped_select().where(Volume.partner_id == partner_id).order_by(
        Volume.completed_at, ascending=False).order_by(Volume.id, ascending=False).limit(limit)


# ----------------------------------------------------------------------------- deciding


@dataclass
class Decision:
    tier: str
    rule_set: str
    reason: str
    facts: dict[str, Any]


@dataclass
class Inputs:
    """Everything evaluation reads, loaded with a fixed number of queries."""

    now: dt.datetime
    ranks: dict[str, int]
    window: tuple[dt.datetime, dt.datetime, str]
    volumes: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[int, Decimal]]
    orders: dict[int, tuple[int, dt.datetime | None]]


def applies(rule_set: Mapping[str, Any], partner: Mapping[str, Any]) -> bool:
    if rule_set["partner_kinds"] and partner["kind"] not in rule_set["partner_kinds"]:
        return False
    if rule_set["partner_codes"] and partner["code"] not in rule_set["partner_codes"]:
        return False
    if rule_set["region_codes"]:
        path = region_codes_of(partner.get("region_code"))
        return any(code in path for code in rule_set["region_codes"])
    return True


def _filter_key(body: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(body.get("categories") or ())), tuple(sorted(body.get("items") or ()))


def decide_volume(rule_set: Mapping[str, Any], quantity: Decimal, month: str) -> Decision:
    body = rule_set["body"]
    unit = body.get("unit") or ""
    for band in body["bands"]:
        low = Decimal(str(band["min"]))
        high = None if band["max"] is None else Decimal(str(band["max"]))
        if quantity >= low and (high is None or quantity < high):
            if low > 0:
                why = (f"上月（{month}）完成 {fmt(quantity)}{unit} ≥ {fmt(low)}{unit} → "
                       f"{band['tier']}")
            else:
                why = (f"上月（{month}）完成 {fmt(quantity)}{unit} < {fmt(high)}{unit} → "
                       f"{band['tier']}" if high is not None else
                       f"上月（{month}）完成 {fmt(quantity)}{unit} → {band['tier']}")
            return Decision(band["tier"], rule_set["code"], why,
                            {"month": month, "quantity": str(quantity),
                             "band_min": str(low), "band_max": None if high is None else str(high)})
    raise AssertionError("bands cover [0, ∞) by construction")


def decide_level(rule_set: Mapping[str, Any], partner: Mapping[str, Any]) -> Decision | None:
    level = partner.get("level") or ""
    tier = rule_set["body"].get(level)
    if not tier:
        return None
    return Decision(tier, rule_set["code"],
                    f"合作伙伴级别 {LEVEL_NAMES.get(level, level)} → {tier}", {"level": level})


def decide_city(rule_set: Mapping[str, Any], partner: Mapping[str, Any]) -> Decision:
    body = rule_set["body"]
    chain = platform().region_path(partner["region_code"]) if partner.get("region_code") else []
    path = [r["code"] for r in chain]
    facts: dict[str, Any] = {"region_code": partner.get("region_code") or ""}
    own = chain[-1] if chain else None
    if body.get("county_tier") and own is not None and own["level"] == "district" \
            and str(own["name"]).endswith(COUNTY_SUFFIXES):
        facts["county"] = own["name"]
        return Decision(body["county_tier"], rule_set["code"],
                        f"{own['name']} 为县域门店 → {body['county_tier']}", facts)
    best: tuple[int, Mapping[str, Any], str] | None = None
    for group in body["groups"]:
        for code in group["region_codes"]:
            if code in path and (best is None or path.index(code) > best[0]):
                best = (path.index(code), group, code)
    if best is not None:
        depth, group, code = best
        facts.update({"group": group["name"], "matched_region": code})
        return Decision(group["tier"], rule_set["code"],
                        f"所在 {chain[depth]['name']} 属于「{group['name']}」→ {group['tier']}",
                        facts)
    place = own["name"] if own else "未知地区"
    return Decision(body["default"], rule_set["code"],
                    f"{place} 不在任何城市分组 → 默认 {body['default']}", facts)


def decide_cooperation(rule_set: Mapping[str, Any], partner: Mapping[str, Any],
                       inputs: Inputs) -> Decision | None:
    count, first = inputs.orders.get(partner["id"], (0, None))
    since = first or partner.get("created_at")
    months = full_months(since, inputs.now) if since else 0
    facts = {"completed_orders": count, "months": months,
             "since": since.isoformat() if since else None}
    thresholds = sorted(rule_set["body"]["thresholds"],
                        key=lambda t: inputs.ranks.get(t["tier"], 99))
    for t in thresholds:
        if count >= t["min_completed_orders"] and t["min_completed_orders"] > 0:
            return Decision(t["tier"], rule_set["code"],
                            f"已完成 {count} 单 ≥ {t['min_completed_orders']} 单 → {t['tier']}",
                            facts)
        if months >= t["min_months"] and t["min_months"] > 0:
            return Decision(t["tier"], rule_set["code"],
                            f"合作 {months} 个月 ≥ {t['min_months']} 个月 → {t['tier']}", facts)
        if t["min_completed_orders"] == 0 and t["min_months"] == 0:
            return Decision(t["tier"], rule_set["code"],
                            f"已完成 {count} 单、合作 {months} 个月 → {t['tier']}", facts)
    return None


def decide(partner: Mapping[str, Any], rule_sets: Sequence[Mapping[str, Any]],
           inputs: Inputs) -> Decision | None:
    """The tier of the highest-priority applicable rule set that yields one."""
    for rule_set in rule_sets:
        if not applies(rule_set, partner):
            continue
        basis = rule_set["basis"]
        decision: Decision | None
        if basis == "monthly_volume":
            quantity = inputs.volumes[_filter_key(rule_set["body"])].get(partner["id"],
                                                                        Decimal(0))
            decision = decide_volume(rule_set, quantity, inputs.window[2])
        elif basis == "partner_level":
            decision = decide_level(rule_set, partner)
        elif basis == "city_tier":
            decision = decide_city(rule_set, partner)
        else:
            decision = decide_cooperation(rule_set, partner, inputs)
        if decision is not None:
            return decision
    return None


# ----------------------------------------------------------------------------- evaluation


def _quantity(value: Any) -> Decimal:
    # SQLite sums NUMERIC as int/float; the column has four decimals, so round back to them.
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


async def _volume_sums(key: tuple[tuple[str, ...], tuple[str, ...]],
                       window: tuple[dt.datetime, dt.datetime, str],
                       partner_ids: Sequence[int] | None) -> dict[int, Decimal]:
    categories, items = key
    where: list[Any] = [Volume.completed_at >= window[0], Volume.completed_at < window[1]]
    if categories and items:
        where.append(Volume.category.is_in(list(categories)) | Volume.item.is_in(list(items)))
    elif categories:
        where.append(Volume.category.is_in(list(categories)))
    elif items:
        where.append(Volume.item.is_in(list(items)))
    if partner_ids is not None:
        where.append(Volume.partner_id.is_in(list(partner_ids) or [-1]))
    rows = await Volume.scoped_select(Volume.partner_id, Sum(Volume.quantity, alias="qty")
                                      ).where(*where).group_by(Volume.partner_id)
    return {r["partner_id"]: _quantity(r["qty"]) for r in rows}


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


async def _order_history(partner_ids: Sequence[int] | None, now: dt.datetime
                         ) -> dict[int, tuple[int, dt.datetime | None]]:
    where = [Volume.completed_at <= now]
    if partner_ids is not None:
        where.append(Volume.partner_id.is_in(list(partner_ids) or [-1]))
    rows = await Volume.scoped_select(
        Volume.partner_id, Count(distinct=[Volume.order_ref], alias="orders"),
        Min(Volume.completed_at, alias="first")).where(*where).group_by(Volume.partner_id)
    return {r["partner_id"]: (int(r["orders"]), _as_datetime(r["first"])) for r in rows}


async def enabled_rule_sets() -> list[dict[str, Any]]:
    rows = await RuleSet.scoped_select().where(RuleSet.enabled == True)  # noqa: E712
    return sorted(rows, key=lambda r: (-r["priority"], r["code"]))


async def evaluate(partner_ids: Sequence[int] | None = None, *,
                   as_of: dt.datetime | None = None) -> EvaluationSummary:
    """Re-evaluate the tiers of the given partners (all when ``None``) in a fixed number of
    queries: rule sets, tiers, partners, one grouped volume sum per distinct volume filter,
    one grouped order history, current assignments; then batched inserts and one update.

    ``as_of`` evaluates as if the clock showed that time (the demo builds its history so)."""
    now = as_of or platform().now()
    rule_sets = await enabled_rule_sets()
    partners = await platform().list_partners(partner_ids)
    ids = None if partner_ids is None else [p["id"] for p in partners]
    window = volume_window(now)
    volumes = {}
    for key in {_filter_key(r["body"]) for r in rule_sets if r["basis"] == "monthly_volume"}:
        volumes[key] = await _volume_sums(key, window, ids)
    orders = (await _order_history(ids, now)
              if any(r["basis"] == "cooperation" for r in rule_sets) else {})
    inputs = Inputs(now=now, ranks=await tier_ranks(), window=window, volumes=volumes,
                    orders=orders)
    query = Assignment.scoped_select(Assignment.id, Assignment.partner_id, Assignment.tier,
                                     Assignment.locked).where(Assignment.valid_to.is_null())
    if ids is not None:
        query = query.where(Assignment.partner_id.is_in(ids or [-1]))
    current = {r["partner_id"]: r for r in await query}
    closing: list[int] = []
    opening: list[Decision] = []
    opening_ids: list[int] = []
    by_tier: Counter[str] = Counter()
    for partner in partners:
        now_row = current.get(partner["id"])
        if now_row is not None and now_row["locked"]:
            by_tier[now_row["tier"]] += 1
            continue
        decision = decide(partner, rule_sets, inputs)
        if decision is not None:
            by_tier[decision.tier] += 1
        if (now_row["tier"] if now_row else None) == (decision.tier if decision else None):
            continue
        if now_row is not None:
            closing.append(now_row["id"])
        if decision is not None:
            opening.append(decision)
            opening_ids.append(partner["id"])
    await _write_changes(closing, opening_ids, opening, now)
    closed = set(closing)
    changed = len(set(opening_ids)
                  | {r["partner_id"] for r in current.values() if r["id"] in closed})
    return EvaluationSummary(evaluated=len(partners), changed=changed,
                             by_tier=dict(sorted(by_tier.items())))


async def _write_changes(closing: list[int], partner_ids: list[int], opening: list[Decision],
                         now: dt.datetime) -> None:
    for start in range(0, len(closing), BATCH):
        await Assignment.scoped_update({Assignment.valid_to: now}).where(
            Assignment.id.is_in(closing[start:start + BATCH]))
    if opening and Assignment._meta.db.engine_type == "postgres":
        # One statement for every new row: PostgreSQL unnests the columns as arrays.
        await Assignment.raw(
            "INSERT INTO price_tiers_assignment (tenant_id, partner_id, tier, rule_set, reason, "
            "facts, locked, assigned_by, valid_from, valid_to) SELECT {}, u.partner_id, u.tier, "
            "u.rule_set, u.reason, u.facts::json, false, NULL, {}, NULL FROM unnest("
            "{}::int[], {}::text[], {}::text[], {}::text[], {}::text[]) "
            "AS u(partner_id, tier, rule_set, reason, facts)",
            current_tenant_id(), now, partner_ids,
            [a.tier for a in opening], [a.rule_set for a in opening],
            [a.reason for a in opening], [json.dumps(a.facts, ensure_ascii=False)
                                          for a in opening])
    else:
        tenant_id = current_tenant_id()
        rows = [Assignment(tenant_id=tenant_id, partner_id=pid, tier=d.tier,
                           rule_set=d.rule_set, reason=d.reason, facts=d.facts, locked=False,
                           valid_from=now) for pid, d in zip(partner_ids, opening, strict=True)]
        for start in range(0, len(rows), BATCH):
            await Assignment.insert(*rows[start:start + BATCH])
    if closing or opening:
        await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- assignments


def _assignment_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("partner_id", "tier", "rule_set", "reason", "facts", "locked",
                                "assigned_by", "valid_from", "valid_to")}


async def current_assignments(tier: str | None = None) -> list[dict[str, Any]]:
    query = Assignment.scoped_select().where(Assignment.valid_to.is_null())
    if tier:
        query = query.where(Assignment.tier == tier)
    return [_assignment_out(r) for r in await query.order_by(Assignment.partner_id)]


async def current_of(partner_id: int) -> dict[str, Any] | None:
    row = await Assignment.scoped_select().where(
        (Assignment.partner_id == partner_id) & Assignment.valid_to.is_null()).first()
    return _assignment_out(row) if row else None


async def history_of(partner_id: int) -> list[dict[str, Any]]:
    rows = await Assignment.scoped_select().where(Assignment.partner_id == partner_id
                                                  ).order_by(Assignment.valid_from,
                                                             ascending=False
                                                             ).order_by(Assignment.id,
                                                                        ascending=False)
    return [_assignment_out(r) for r in rows]


async def assign_manually(*, partner_id: int, tier: str, note: str, locked: bool
                          ) -> dict[str, Any]:
    """An admin's override, kept in history with who did it; with ``locked`` evaluations
    leave it alone until it is unlocked."""
    await platform().get_partner(partner_id)
    ranks = await tier_ranks()
    if tier not in ranks:
        raise ValidationFailed(N_("unknown tier code(s) %(codes)s; create the tiers first"),
                               field="tier", params={"codes": tier})
    scope = current_scope()
    user = scope.user_id if scope else None
    before = await current_of(partner_id)
    now = platform().now()
    reason = f"手动指定（用户 #{user}）" + (f"：{note.strip()}" if note.strip() else "")
    if before is not None:
        await Assignment.scoped_update({Assignment.valid_to: now}).where(
            (Assignment.partner_id == partner_id) & Assignment.valid_to.is_null())
    row = await Assignment.scoped_insert(partner_id=partner_id, tier=tier, rule_set="",
                                         reason=reason, facts={"note": note.strip()},
                                         locked=locked, assigned_by=user, valid_from=now)
    await platform().invalidate(CACHE)
    after = _assignment_out(row)
    await platform().audit("price_tiers.assign", f"partner:{partner_id}", before, after)
    return after


async def unlock(partner_id: int) -> EvaluationSummary:
    await platform().get_partner(partner_id)
    before = await current_of(partner_id)
    if before is None or not before["locked"]:
        raise Conflict(N_("partner %(id)s has no locked tier"), params={"id": partner_id})
    await Assignment.scoped_update({Assignment.locked: False}).where(
        (Assignment.partner_id == partner_id) & Assignment.valid_to.is_null())
    await platform().audit("price_tiers.unlock", f"partner:{partner_id}", before,
                           {**before, "locked": False})
    return await evaluate([partner_id])


# ----------------------------------------------------------------------------- facts


async def _load_current() -> dict[int, tuple[str, str]]:
    rows = await Assignment.scoped_select(Assignment.partner_id, Assignment.tier,
                                          Assignment.reason).where(Assignment.valid_to.is_null())
    return {r["partner_id"]: (r["tier"], r["reason"]) for r in rows}


async def pricing_facts(contexts: Sequence[Any]) -> list[dict[str, Any]]:
    current = await platform().cached(CACHE, _load_current)
    per_partner: dict[int | None, dict[str, Any]] = {}  # a quotation's lines share one
    facts = []
    for context in contexts:
        found = per_partner.get(context.partner_id)
        if found is None:
            tier, reason = current.get(context.partner_id, (None, None)) \
                if context.partner_id is not None else (None, None)
            found = per_partner[context.partner_id] = {"price_tiers.tier": tier,
                                                       "price_tiers.tier_reason": reason}
        facts.append(found)
    return facts


# ----------------------------------------------------------------------------- board


async def board() -> list[dict[str, Any]]:
    """Each partner with its current tier, why and since when."""
    partners = await platform().list_partners()
    current = {r["partner_id"]: r for r in await current_assignments()}
    return [{"partner": p, "assignment": current.get(p["id"])} for p in partners]
