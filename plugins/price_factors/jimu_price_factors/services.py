"""Price factors: the kinds offered, configured factors (validated, audited) and the pricing
step that applies them. Free of HTTP."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import Any

import msgspec
from jimu_sdk import (
    N_,
    Conflict,
    Money,
    NotFound,
    PriceAdjustment,
    PriceContext,
    PriceFactorKind,
    PricePass,
    RuleConsidered,
    ValidationFailed,
    platform,
)

from jimu_price_factors.kinds import FLOOR_TOTAL_FACT, FloorParams, floor_total, minor_unit
from jimu_price_factors.tables import Factor

SLUG = "price_factors"
SNAPSHOT = "price_factors.snapshot"
KINDS_HOOK = "register_price_factor_kinds"

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SCOPE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
PARTNER_LEVELS = ("general_agent", "level1", "level2")
PARTNER_KINDS = ("dealer", "store", "installer", "service_provider", "agent")
CUSTOMER_LEVELS = ("regular", "silver", "gold", "platinum")
AUDIENCE_MATCHES = ("all", "any")
MAX_CODES = 500
PRIORITY_LIMIT = 1_000_000

SCOPE_FIELDS = ("regions", "partner_levels", "partner_tiers", "partner_kinds",
                "customer_levels", "channels", "items", "categories")
AUDIENCE_FIELDS = ("regions", "partner_levels", "partner_tiers", "partner_kinds",
                   "customer_levels", "channels")
AUDIENCE_FACTS = (("partner_levels", "partner.level"), ("partner_tiers", "price_tiers.tier"),
                  ("partner_kinds", "partner.kind"), ("customer_levels", "customer.level"),
                  ("channels", "channel"))
ALLOWED_VALUES = {"partner_levels": PARTNER_LEVELS, "partner_kinds": PARTNER_KINDS,
                  "customer_levels": CUSTOMER_LEVELS}


# =========================================================================== kinds


@dataclass(frozen=True, slots=True)
class OfferedKind:
    plugin: str
    kind: PriceFactorKind


def offered_kinds() -> dict[str, OfferedKind]:
    """Kinds from every plugin the tenant enabled (this one included), by key, in pipeline
    order (kind order, then key). A key offered twice keeps the first plugin's by slug."""
    kinds: dict[str, OfferedKind] = {}
    for plugin, kind in platform().contributions(KINDS_HOOK):
        kinds.setdefault(kind.key, OfferedKind(plugin, kind))
    return dict(sorted(kinds.items(), key=lambda pair: (pair[1].kind.order, pair[0])))


def params_schema(kind: PriceFactorKind) -> dict[str, Any]:
    return msgspec.json.schema(kind.params)


# =========================================================================== validation

_NAMED_FIELD = re.compile(r"(?:unknown|required) field `([A-Za-z_][A-Za-z0-9_]*)`")
_PATH = re.compile(r"`\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)`")


def _params_error(exc: msgspec.ValidationError) -> ValidationFailed:
    text = str(exc)
    paths = _PATH.findall(text)
    where = "params" + (paths[-1] if paths else "")
    message = _PATH.sub("", text).replace(" - at ", "").strip().rstrip("-").strip()
    named = _NAMED_FIELD.search(message)
    if named:  # "Object missing required field `percent`" is about params.percent
        where = f"{where}.{named.group(1)}"
    return ValidationFailed(N_("%(field)s: %(problem)s"), field=where,
                            params={"field": where, "problem": message})


LARGEST_PARAM = Decimal(10) ** 12


def _check_bounds(value: Any, path: str) -> None:
    """Check the ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum`` keywords of
    Decimal fields (msgspec bounds only ints and floats), through nested structs and lists."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_bounds(item, f"{path}[{index}]")
        return
    if not isinstance(value, msgspec.Struct):
        return
    for name, bounds in _struct_bounds(type(value)):
        current = getattr(value, name)
        where = f"{path}.{name}"
        if isinstance(current, Decimal) and not (current.is_finite()
                                                 and abs(current) <= LARGEST_PARAM):
            # msgspec reads "NaN" and "Infinity" as Decimals; one would stop every price.
            raise ValidationFailed(N_("%(field)s must be a number no larger than %(max)s"),
                                   field=where, params={"field": where, "max": LARGEST_PARAM})
        for bound in bounds:
            if isinstance(current, Decimal) and not bound.holds(current):
                raise ValidationFailed(N_("%(field)s must be %(rule)s"), field=where,
                                       params={"field": where, "rule": bound.text})
        _check_bounds(current, where)


@functools.cache
def _struct_bounds(struct: type[msgspec.Struct]) -> tuple[tuple[str, tuple[_Bound, ...]], ...]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple((fld.name, tuple(_bounds_of(fld.type))) for fld in info.fields)


@dataclass(frozen=True, slots=True)
class _Bound:
    op: str
    limit: Decimal

    def holds(self, value: Decimal) -> bool:
        return {"minimum": value >= self.limit, "maximum": value <= self.limit,
                "exclusiveMinimum": value > self.limit,
                "exclusiveMaximum": value < self.limit}[self.op]

    @property
    def text(self) -> str:
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                "exclusiveMaximum": "<"}[self.op]
        return f"{sign} {self.limit}"


def _bounds_of(type_info: Any) -> list[_Bound]:
    found: list[_Bound] = []
    metas = [type_info]
    if isinstance(type_info, msgspec.inspect.UnionType):
        metas = list(type_info.types)
    for candidate in metas:
        extra = getattr(candidate, "extra_json_schema", None) or {}
        for op in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if op in extra:
                found.append(_Bound(op, Decimal(str(extra[op]))))
    return found


def validate_params(kind: PriceFactorKind, params: Any) -> msgspec.Struct:
    """``params`` (a JSON object) as the kind's struct; errors name ``params.<field>``."""
    if not isinstance(params, Mapping):
        raise ValidationFailed(N_("params must be an object"), field="params")
    try:
        value = msgspec.convert(dict(params), kind.params, strict=False)
    except msgspec.ValidationError as exc:
        raise _params_error(exc) from exc
    _check_bounds(value, "params")
    return value


@dataclass(slots=True)
class FactorInput:
    """A factor as the API or a form gives it (code only when creating)."""

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    partner_levels: list[str] = field(default_factory=list)
    partner_tiers: list[str] = field(default_factory=list)
    partner_kinds: list[str] = field(default_factory=list)
    customer_levels: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    audience_match: str = "all"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    enabled: bool = True
    priority: int = 0


def _clean_codes(name: str, values: Iterable[Any]) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not SCOPE_CODE.match(text):
            raise ValidationFailed(N_("%(value)s is not a valid code in %(field)s"),
                                   field=name,
                                   params={"value": text, "field": name})
        allowed = ALLOWED_VALUES.get(name)
        if allowed and text not in allowed:
            raise ValidationFailed(N_("%(value)s is not one of %(allowed)s"), field=name,
                                   params={"value": text, "allowed": ", ".join(allowed)})
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_CODES:
        raise ValidationFailed(N_("%(field)s lists more than %(max)s codes"), field=name,
                               params={"field": name, "max": MAX_CODES})
    return cleaned


def validate(data: FactorInput, kinds: Mapping[str, OfferedKind]) -> dict[str, Any]:
    """The row values of a valid factor, or ``ValidationFailed`` naming the field."""
    name = data.name.strip()
    if not name:
        raise ValidationFailed(N_("give the factor a name"), field="name")
    if len(name) > 200:
        raise ValidationFailed(N_("the name is longer than 200 characters"), field="name")
    offered = kinds.get(data.kind)
    if offered is None:
        raise ValidationFailed(N_("%(kind)s is not a price factor kind offered to you (known: "
                                  "%(known)s)"), field="kind",
                               params={"kind": data.kind, "known": ", ".join(kinds)})
    params = validate_params(offered.kind, data.params)
    values: dict[str, Any] = {"name": name, "kind": data.kind,
                              "params": msgspec.to_builtins(params)}
    for scope_field in SCOPE_FIELDS:
        values[scope_field] = _clean_codes(scope_field, getattr(data, scope_field))
    if data.audience_match not in AUDIENCE_MATCHES:
        raise ValidationFailed(N_("audience_match must be all or any"), field="audience_match")
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        raise ValidationFailed(N_("the period ends (%(to)s) before it starts (%(from)s)"),
                               field="valid_to", params={"to": data.valid_to,
                                                         "from": data.valid_from})
    if not -PRIORITY_LIMIT <= data.priority <= PRIORITY_LIMIT:
        raise ValidationFailed(N_("priority must be between -%(max)s and %(max)s"),
                               field="priority", params={"max": PRIORITY_LIMIT})
    values.update(audience_match=data.audience_match, valid_from=data.valid_from,
                  valid_to=data.valid_to, enabled=bool(data.enabled), priority=data.priority)
    return values


# =========================================================================== factors CRUD


def _audit_view(row: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("code", "name", "kind", "params", *SCOPE_FIELDS, "audience_match", "valid_from",
            "valid_to", "enabled", "priority")
    return {key: (row[key].isoformat() if isinstance(row.get(key), dt.date) else row.get(key))
            for key in keep}


async def list_factors() -> list[dict[str, Any]]:
    return await Factor.scoped_select().order_by(Factor.code)


async def get_factor(code: str) -> dict[str, Any]:
    row = await Factor.scoped_select().where(Factor.code == code).first()
    if row is None:
        raise NotFound(N_("price factor %(code)s not found"), params={"code": code})
    return row


async def create_factor(code: str, data: FactorInput) -> dict[str, Any]:
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(N_("the code must be 1-40 letters, digits, . _ or -, starting "
                                  "with a letter or digit"), field="code")
    values = validate(data, offered_kinds())
    if await Factor.scoped_count().where(Factor.code == code):
        raise Conflict(N_("a price factor with code %(code)s already exists"), field="code",
                       params={"code": code})
    now = platform().now()
    row = await Factor.scoped_insert(code=code, created_at=now, updated_at=now, **values)
    await platform().invalidate(SNAPSHOT)
    await platform().audit("price_factors.create", f"price_factor:{code}", None,
                           _audit_view(row))
    return await get_factor(code)


async def update_factor(code: str, data: FactorInput) -> dict[str, Any]:
    before = await get_factor(code)
    values = validate(data, offered_kinds())
    await Factor.scoped_update({**values, "updated_at": platform().now()}).where(
        Factor.code == code)
    await platform().invalidate(SNAPSHOT)
    after = await get_factor(code)
    await platform().audit("price_factors.update", f"price_factor:{code}", _audit_view(before),
                           _audit_view(after))
    return after


async def toggle_factor(code: str) -> dict[str, Any]:
    before = await get_factor(code)
    await Factor.scoped_update({Factor.enabled: not before["enabled"],
                                Factor.updated_at: platform().now()}).where(Factor.code == code)
    await platform().invalidate(SNAPSHOT)
    await platform().audit("price_factors.toggle", f"price_factor:{code}",
                           {"enabled": before["enabled"]}, {"enabled": not before["enabled"]})
    return await get_factor(code)


async def delete_factor(code: str) -> None:
    before = await get_factor(code)
    await Factor.scoped_delete().where(Factor.code == code)
    await platform().invalidate(SNAPSHOT)
    await platform().audit("price_factors.delete", f"price_factor:{code}", _audit_view(before),
                           None)


# =========================================================================== the step


@dataclass(frozen=True, slots=True)
class FactorRow:
    """A factor as the pricing step keeps it in memory (one per configured factor)."""

    code: str
    name: str
    kind: str
    params: Mapping[str, Any]
    regions: frozenset[str]
    partner_levels: frozenset[str]
    partner_tiers: frozenset[str]
    partner_kinds: frozenset[str]
    customer_levels: frozenset[str]
    channels: frozenset[str]
    items: frozenset[str]
    categories: frozenset[str]
    audience_match: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    enabled: bool
    priority: int


@dataclass(slots=True)
class Snapshot:
    """The tenant's factors, cached until a write invalidates them; ``compiled`` memoises the
    factors ready to apply for one set of offered kinds."""

    rows: tuple[FactorRow, ...]
    compiled: dict[tuple[int, ...], Compiled] = field(default_factory=dict)


async def load_snapshot() -> Snapshot:
    rows = await Factor.scoped_select().order_by(Factor.code)
    return Snapshot(rows=tuple(FactorRow(
        code=r["code"], name=r["name"], kind=r["kind"], params=r["params"] or {},
        **{name: frozenset(r[name] or ()) for name in SCOPE_FIELDS},
        audience_match=r["audience_match"], valid_from=r["valid_from"],
        valid_to=r["valid_to"], enabled=r["enabled"], priority=r["priority"]) for r in rows))


def _listing(values: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(values)) + "]"


@dataclass(slots=True)
class Ready:
    """A switched-on factor whose kind is offered, with its parameters converted."""

    row: FactorRow
    kind: PriceFactorKind
    plugin: str
    params: Any
    rank: int = 0
    has_audience: bool = False
    # Whether facts_used can name anything (a factor for everyone, always: no)
    reads_facts: bool = True
    is_floor: bool = False
    # What the kind answered → the reason shown (the same few texts on every line)
    reasons: dict[str, str] = field(default_factory=dict)
    apply: Any = None  # kind.apply, looked up once

    def __post_init__(self) -> None:
        self.apply = self.kind.apply

    def audience(self, facts: Mapping[str, Any]) -> list[tuple[bool, str, dict[str, Any]]]:
        """Each non-empty audience condition: (met, why not, the facts it read). Builds text:
        for explanations and trace facts only, never on the hot path."""
        row = self.row
        checks: list[tuple[bool, str, dict[str, Any]]] = []
        if row.regions:
            path = tuple(facts.get("region.path") or ())
            zones = tuple(facts.get("regional_pricing.zones") or ())
            where = facts.get("region.code") or "(none)"
            zone_text = f" / zones {_listing(zones)}" if zones else ""
            checks.append((self._in_region(facts),
                           f"region {where}{zone_text} not in {_listing(row.regions)}",
                           {"region.path": list(path), "regional_pricing.zones": list(zones)}))
        for name, fact in AUDIENCE_FACTS:
            allowed = getattr(row, name)
            if allowed:
                value = facts.get(fact)
                checks.append((value in allowed,
                               f"{fact} {value or '(none)'} not in {_listing(allowed)}",
                               {fact: value}))
        return checks

    def _in_region(self, facts: Mapping[str, Any]) -> bool:
        regions = self.row.regions
        return any(code in regions for code in chain(facts.get("region.path") or (),
                                                     facts.get("regional_pricing.zones") or ()))

    def _audience_met(self, facts: Mapping[str, Any]) -> bool:
        row = self.row
        results = []
        if row.regions:
            results.append(self._in_region(facts))
        for name, fact in AUDIENCE_FACTS:
            allowed = getattr(row, name)
            if allowed:
                results.append(facts.get(fact) in allowed)
        if not results:
            return True
        return any(results) if row.audience_match == "any" else all(results)

    def matches(self, context: PriceContext) -> bool:
        row = self.row
        facts = context.facts
        on_date = facts.get("on_date")
        if row.valid_from and (on_date is None or on_date < row.valid_from):
            return False
        if row.valid_to and (on_date is None or on_date > row.valid_to):
            return False
        if row.items and context.item not in row.items:
            return False
        if row.categories and facts.get("price_lists.category") not in row.categories:
            return False
        return not self.has_audience or self._audience_met(facts)

    def why_not(self, context: PriceContext) -> str:
        """Why this factor does not apply to the line (only called when explaining)."""
        row = self.row
        facts = context.facts
        on_date = facts.get("on_date")
        if (row.valid_from and (on_date is None or on_date < row.valid_from)) or (
                row.valid_to and (on_date is None or on_date > row.valid_to)):
            return (f"not in period {row.valid_from or '…'}..{row.valid_to or '…'} "
                    f"(priced for {on_date})")
        if row.items and context.item not in row.items:
            return f"item {context.item} not in {_listing(row.items)}"
        if row.categories and facts.get("price_lists.category") not in row.categories:
            category = facts.get("price_lists.category") or "(none)"
            return f"category {category} not in {_listing(row.categories)}"
        failed = [why for met, why, _ in self.audience(facts) if not met]
        if row.audience_match == "any":
            return "none of the conditions met: " + "; ".join(failed)
        return "; ".join(failed)

    def facts_used(self, context: PriceContext) -> dict[str, Any]:
        """The facts that made this factor match (on every applied factor, so no text)."""
        row = self.row
        facts = context.facts
        used: dict[str, Any] = {}
        if row.valid_from or row.valid_to:
            used["on_date"] = facts.get("on_date")
        if row.items:
            used["item"] = context.item
        if row.categories:
            used["price_lists.category"] = facts.get("price_lists.category")
        if row.regions and self._in_region(facts):
            used["region.path"] = list(facts.get("region.path") or ())
            used["regional_pricing.zones"] = list(facts.get("regional_pricing.zones") or ())
        for name, fact in AUDIENCE_FACTS:
            allowed = getattr(row, name)
            if allowed and facts.get(fact) in allowed:
                used[fact] = facts.get(fact)
        return used


def _has_audience(row: FactorRow) -> bool:
    return bool(row.regions or row.partner_levels or row.partner_tiers or row.partner_kinds
                or row.customer_levels or row.channels)


@dataclass(slots=True)
class Compiled:
    """Factors ready to apply, indexed so a line only looks at the factors that can match it."""

    ready: list[Ready]
    skipped: list[tuple[FactorRow, str]]
    by_item: dict[str, list[Ready]]
    by_category: dict[str, list[Ready]]
    generic: list[Ready]
    memo: dict[tuple[str, Any], list[Ready]] = field(default_factory=dict)

    def candidates(self, item: str, category: Any) -> list[Ready]:
        key = (item, category)
        found = self.memo.get(key)
        if found is None:
            pool = chain(self.by_item.get(item, ()),
                         self.by_category.get(category, ()) if isinstance(category, str) else (),
                         self.generic)
            found = sorted(_unique(pool), key=lambda r: r.rank)
            if len(self.memo) < 10_000:
                self.memo[key] = found
        return found


def _unique(pool: Iterable[Ready]) -> list[Ready]:
    seen: set[int] = set()
    out = []
    for ready in pool:
        if id(ready) not in seen:
            seen.add(id(ready))
            out.append(ready)
    return out


def compile_factors(snapshot: Snapshot, kinds: Mapping[str, OfferedKind]) -> Compiled:
    key = tuple(sorted(id(offered.kind) for offered in kinds.values()))
    done = snapshot.compiled.get(key)
    if done is not None:
        return done
    ready: list[Ready] = []
    skipped: list[tuple[FactorRow, str]] = []
    for row in snapshot.rows:
        offered = kinds.get(row.kind)
        if offered is None:
            skipped.append((row, f"kind {row.kind} is not offered (its plugin is off)"))
            continue
        if not row.enabled:
            skipped.append((row, "switched off"))
            continue
        try:
            params = validate_params(offered.kind, row.params)
        except ValidationFailed as exc:
            skipped.append((row, f"its parameters no longer fit kind {row.kind}: {exc}"))
            continue
        ready.append(Ready(row=row, kind=offered.kind, plugin=offered.plugin, params=params,
                           has_audience=_has_audience(row),
                           reads_facts=bool(row.valid_from or row.valid_to or row.items
                                            or row.categories or _has_audience(row)),
                           is_floor=isinstance(params, FloorParams)))
    ready.sort(key=lambda r: (r.kind.order, r.kind.key, -r.row.priority, r.row.code))
    by_item: dict[str, list[Ready]] = {}
    by_category: dict[str, list[Ready]] = {}
    generic: list[Ready] = []
    for rank, factor in enumerate(ready):
        factor.rank = rank
        if factor.row.items:
            for item in factor.row.items:
                by_item.setdefault(item, []).append(factor)
        elif factor.row.categories:
            for category in factor.row.categories:
                by_category.setdefault(category, []).append(factor)
        else:
            generic.append(factor)
    compiled = Compiled(ready=ready, skipped=skipped, by_item=by_item, by_category=by_category,
                        generic=generic)
    snapshot.compiled[key] = compiled
    return compiled


def factor_reason(ready: Ready, adjustment: PriceAdjustment) -> str:
    """The factor's name, then what its kind did: "县城门店设备租赁补贴 −8.00/箱" (the kind's
    own label is left out when the name already says it)."""
    found = ready.reasons.get(adjustment.reason)
    if found is None:
        found = _factor_reason(ready.row.name, adjustment.reason)
        if len(ready.reasons) < 1000:
            ready.reasons[adjustment.reason] = found
    return found


def _factor_reason(name: str, reason: str) -> str:
    if not reason or reason.startswith(name):
        return reason or name
    label, _, rest = reason.partition(" ")
    if rest and label in name:
        return f"{name} {rest}"
    return f"{name} {reason}"


def tidy(amount: Money) -> Money:
    """The same amount written with the currency's minor unit when that loses nothing
    (``3144.1500`` → ``3144.15``, ``324.0`` → ``324.00``), so traces read like money."""
    value = amount.amount
    exact = value.quantize(minor_unit(amount.currency))
    return Money(exact, amount.currency) if exact == value else amount


_NOTHING_CONSIDERED: list[RuleConsidered] = []  # never appended to: only when explaining


def make_apply(compiled: Compiled):
    def apply(context: PriceContext, previous: Money):
        explain = context.explain
        if explain:
            pool: Sequence[Ready] = compiled.ready
        else:
            pool = compiled.candidates(context.item, context.facts.get("price_lists.category"))
            if not pool:
                return None
        outcome: list[PriceAdjustment | PricePass] = []
        considered: list[RuleConsidered] = [] if explain else _NOTHING_CONSIDERED
        total = previous
        floor: Decimal | None = None
        for ready in pool:
            if ready.reads_facts and not ready.matches(context):
                if explain:
                    considered.append(RuleConsidered(ready.row.code, ready.why_not(context)))
                continue
            line = context if floor is None else msgspec.structs.replace(
                context, facts={**context.facts, FLOOR_TOTAL_FACT: floor})
            if ready.is_floor:
                floor = max(floor or Decimal(0),
                            floor_total(context, ready.params, total.currency)[1])
            adjustment = ready.apply(line, total, ready.params)
            if adjustment is None:
                if explain:
                    considered.append(RuleConsidered(
                        ready.row.code, f"{ready.row.name}: matched, but leaves the price "
                                        f"unchanged ({total.amount})"))
                continue
            new_total = tidy(adjustment.total)
            reason = ready.reasons.get(adjustment.reason) or factor_reason(ready, adjustment)
            if (floor is not None and adjustment.kind != "tax"
                    and new_total.amount < floor):
                # A kind after the floor may not undo it.
                new_total = Money(floor, new_total.currency)
                reason += f"（不低于最低价 {floor}）"
            used = ready.facts_used(context) if ready.reads_facts else None
            outcome.append(PriceAdjustment(
                new_total, reason, ready.row.code,
                {**used, **adjustment.facts} if used else adjustment.facts, (),
                adjustment.kind))
            total = new_total
        if explain:
            considered.extend(RuleConsidered(row.code, why) for row, why in compiled.skipped)
            if considered:
                outcome.append(PricePass(considered=tuple(considered)))
        if len(outcome) == 1:
            return outcome[0]  # the common case (only the tax) skips a list
        return outcome or None

    return apply


async def prepare_step(contexts: Sequence[PriceContext]):
    """Load the tenant's factors once per pricing call and return the per-line ``apply``."""
    snapshot = await platform().cached(SNAPSHOT, load_snapshot)
    return make_apply(compile_factors(snapshot, offered_kinds()))


# =========================================================================== demo data

DEMO_FACTORS: tuple[tuple[str, FactorInput], ...] = (
    ("PROMO-TEA-DEC", FactorInput(
        name="冰红茶12月促销", kind="promotion",
        params={"percent_off": "10"}, items=["TEA-500-CASE"],
        valid_from=dt.date(2026, 12, 1), valid_to=dt.date(2026, 12, 31))),
    ("VOLUME-FMCG", FactorInput(
        name="快消批量折扣", kind="volume_discount",
        params={"bands": [{"min_quantity": "100", "percent": "2"},
                          {"min_quantity": "500", "percent": "4"}]},
        items=["TEA-500-CASE", "WATER-550-CASE"])),
    ("LEVEL-DISCOUNT", FactorInput(
        name="渠道级别折扣", kind="partner_level_discount",
        params={"general_agent": "5", "level1": "3", "level2": "1"},
        items=["TEA-500-CASE", "WATER-550-CASE"], enabled=False)),
    ("SUMMER-WATER", FactorInput(
        name="夏季饮用水旺季上调", kind="seasonal", params={"percent": "3"},
        items=["WATER-550-CASE"], valid_from=dt.date(2027, 6, 1),
        valid_to=dt.date(2027, 8, 31))),
    ("HB-TRADE-IN", FactorInput(
        name="华北空调以旧换新", kind="trade_in", params={"allowance_per_unit": "300"},
        items=["AC-1.5P"], regions=["HB"])),
    ("HN-LOGISTICS", FactorInput(
        name="华南矿泉水物流补贴", kind="logistics_subsidy",
        params={"amount_per_unit": "1.50"}, items=["WATER-550-CASE"], regions=["HN"])),
    ("COUNTY-RENTAL", FactorInput(
        name="县城门店设备租赁补贴", kind="equipment_rental_subsidy",
        params={"amount_per_unit": "8"}, items=["HOTPOT-BASE-CASE"],
        partner_tiers=["T4"], regions=["510129"], audience_match="any")),
    ("HB-GOV-SUBSIDY", FactorInput(
        name="华北家电政府补贴", kind="government_subsidy",
        params={"percent": "15", "cap_per_unit": "2000"}, items=["AC-1.5P"],
        regions=["HB"])),
    ("CROSS-BORDER-DUTY", FactorInput(
        name="跨境渠道关税", kind="cross_border_duty", params={"rate_percent": "9.1"},
        channels=["cross_border"])),
    ("FLOOR-COST-5", FactorInput(
        name="成本加5%最低价", kind="minimum_price_floor",
        params={"min_markup_percent": "5"})),
    ("ROUND-TEA-0.5", FactorInput(
        name="冰红茶单价取整0.5", kind="rounding", params={"step": "0.5", "mode": "half_up"},
        items=["TEA-500-CASE"])),
    ("VAT-13", FactorInput(
        name="增值税13%", kind="tax", params={"rate_percent": "13", "use_item_rate": True})),
)


async def seed_demo(tenant_id: int) -> None:
    for code, data in DEMO_FACTORS:
        if not await Factor.scoped_count().where(Factor.code == code):
            await create_factor(code, data)
