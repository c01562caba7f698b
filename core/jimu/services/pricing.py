"""The pricing pipeline: facts, base price, an ordered fold of price steps, rounded once, last.

For a batch of lines (one quotation), in this order:

1. **Facts.** Core adds what it knows — the partner's level and kind, the customer's level, the
   region and its ancestors, the date — then every enabled plugin adds its own through
   ``pricing_facts`` (a partner's tier, an item's cost). Unknown partners, customers and
   regions are refused here, naming the line.
2. **Base price.** The first enabled plugin answering ``resolve_base_price`` gives the unit
   price; total = unit price × quantity.
3. **Steps.** Steps from the tenant's enabled plugins (``register_pricing_steps``) run by
   ascending ``order``, ties broken by plugin then rule, never by registration order. A step's
   ``prepare`` runs once per batch (and may answer ``None``: nothing to do for these lines);
   its ``apply`` once per line. Every change leaves a trace
   line naming plugin, rule, reason and the facts used; with ``explain`` the rules passed over
   are collected too.
4. **Rounding.** Half up to the currency's minor unit, once per line; when that moves the
   amount it is a trace line of its own, so a line's trace always sums to its total. Tax (trace
   lines of kind ``tax``) is reported apart, rounded the same way.

Money paths fail closed: a raising fact hook, base price hook or step fails the whole call with
an error naming the plugin, and the failure is recorded for the admin.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from jimu_sdk import N_, platform
from jimu_sdk.errors import JimuError, PricingError, ValidationFailed
from jimu_sdk.types import (
    MINOR_UNITS,
    ConsideredLine,
    Money,
    PriceAdjustment,
    PriceContext,
    PricePass,
    PriceResult,
    PriceStep,
    PriceTraceLine,
    StepApply,
)

from jimu.db.tables import Customer, Partner
from jimu.regions import ancestor_codes, region_index
from jimu.services.directory import CUSTOMER_FACTS_CACHE, PARTNER_FACTS_CACHE

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState

MAX_LINES = 2000
MAX_QUANTITY = Decimal(10) ** 9
ZERO = Decimal(0)


def ordered_steps(kernel: Kernel, enabled: frozenset[str]) -> list[tuple[str, PriceStep]]:
    steps = [(slug, step) for slug in enabled
             for step in kernel.plugins.plugins[slug].contributed("register_pricing_steps", [])]
    return sorted(steps, key=lambda pair: (pair[1].order, pair[0], pair[1].rule))


def _namer(single: bool) -> Callable[[int, str], str]:
    if single:
        return lambda index, name: name
    return lambda index, name: f"lines[{index}].{name}"


async def price_lines(kernel: Kernel, tenant: TenantState, contexts: Sequence[PriceContext], *,
                      explain: bool = False, single: bool = False) -> list[PriceResult]:
    """Price each context; errors name the line (``lines[2].quantity``) unless ``single``."""
    field = _namer(single)
    if len(contexts) > MAX_LINES:
        raise ValidationFailed(N_("at most %(max)s lines can be priced at once"),
                               field="lines", params={"max": MAX_LINES})
    for index, context in enumerate(contexts):
        if not context.quantity.is_finite() or context.quantity <= ZERO:
            raise ValidationFailed(N_("quantity must be greater than zero"),
                                   field=field(index, "quantity"))
        if context.quantity > MAX_QUANTITY:
            raise ValidationFailed(N_("quantity must be at most %(max)s"),
                                   field=field(index, "quantity"), params={"max": MAX_QUANTITY})
    given = contexts
    contexts = await _with_core_facts(kernel, tenant, contexts, field, explain)
    contexts = await _with_plugin_facts(tenant, given, contexts)
    appliers = await _prepare_steps(kernel, tenant, contexts)
    # Per line, the plugins' own functions in pluggy's order: the failure handling of the
    # hook guard is done by _base_price (a raise fails the price closed, recorded).
    base_impls = [(impl.plugin_name, getattr(impl.function, "__wrapped__", impl.function))
                  for impl in reversed(tenant.hooks.resolve_base_price.get_hookimpls())]
    return [_price_line(kernel, tenant, index, context, appliers, base_impls, field)
            for index, context in enumerate(contexts)]


# ----------------------------------------------------------------------------- facts


async def _with_core_facts(kernel: Kernel, tenant: TenantState,
                           contexts: Sequence[PriceContext],
                           field: Callable[[int, str], str], explain: bool
                           ) -> list[PriceContext]:
    partner_ids = {c.partner_id for c in contexts if c.partner_id is not None}
    customer_ids = {c.customer_id for c in contexts if c.customer_id is not None}
    partners = await directory_rows(PARTNER_FACTS_CACHE, Partner, (
        Partner.id, Partner.level, Partner.kind, Partner.region_code, Partner.parent_id),
        partner_ids)
    customers = await directory_rows(CUSTOMER_FACTS_CACHE, Customer, (
        Customer.id, Customer.level, Customer.region_code, Customer.partner_id), customer_ids)
    today = kernel.clock.now().astimezone(ZoneInfo(tenant.timezone)).date()
    regions = region_index()
    # The lines of a quotation share partner, customer, region, channel and date: their core
    # facts are worked out once per combination and copied to each line.
    shared: dict[tuple[Any, ...], tuple[dict[str, Any], str | None]] = {}
    enriched = []
    for index, context in enumerate(contexts):
        key = (context.partner_id, context.customer_id, context.region_code,
               context.channel, context.on_date)
        known = shared.get(key)
        if known is None:
            known = shared[key] = _core_facts(context, partners, customers, regions, today,
                                              index, field)
        base, region = known
        # The caller's facts win (e.g. a store's location); the dict is this line's own, so
        # plugin facts are merged into it in place below.
        facts = {**base, **context.facts} if context.facts else base.copy()
        enriched.append(PriceContext(  # positional: a struct parses keywords slower
            context.tenant_id, context.item, context.quantity, context.currency,
            context.partner_id, context.customer_id, region, context.channel,
            facts["on_date"], facts, explain or context.explain))
    return enriched


def _core_facts(context: PriceContext, partners: Mapping[int, Mapping[str, Any]],
                customers: Mapping[int, Mapping[str, Any]],
                regions: Mapping[str, Mapping[str, Any]], today: Any, index: int,
                field: Callable[[int, str], str]) -> tuple[dict[str, Any], str | None]:
    facts: dict[str, Any] = {"on_date": context.on_date or today,
                             "channel": context.channel or ""}
    region = context.region_code
    if context.partner_id is not None:
        partner = partners.get(context.partner_id)
        if partner is None:
            raise ValidationFailed(N_("partner %(id)s not found"),
                                   field=field(index, "partner_id"),
                                   params={"id": context.partner_id})
        facts.update({"partner.id": partner["id"], "partner.level": partner["level"],
                      "partner.kind": partner["kind"],
                      "partner.region_code": partner["region_code"]})
        region = region or partner["region_code"] or None
    if context.customer_id is not None:
        customer = customers.get(context.customer_id)
        if customer is None:
            raise ValidationFailed(N_("customer %(id)s not found"),
                                   field=field(index, "customer_id"),
                                   params={"id": context.customer_id})
        facts["customer.level"] = customer["level"]
        region = context.region_code or customer["region_code"] or region
    if region:
        if region not in regions:
            raise ValidationFailed(N_("%(code)s is not a known region code"),
                                   field=field(index, "region_code"), params={"code": region})
        facts.update({"region.code": region, "region.path": ancestor_codes(region),
                      "region.level": regions[region]["level"]})
    return facts, region


async def directory_rows(cache: str, table: Any, columns: tuple[Any, ...], ids: set[int]
                          ) -> Mapping[int, Mapping[str, Any]]:
    """The rows of ``ids``, from the rows already read at the directory's current revision
    (``directory.py`` invalidates on every write); only the missing ones are queried."""
    if not ids:
        return {}
    rows: dict[int, Mapping[str, Any]] = await platform().cached(cache, _empty_rows)
    missing = [i for i in ids if i not in rows]
    if missing:
        for row in await table.scoped_select(*columns).where(table.id.is_in(missing)):
            rows[row["id"]] = row
    return rows


async def _empty_rows() -> dict[int, Mapping[str, Any]]:
    return {}


async def _with_plugin_facts(tenant: TenantState, given: Sequence[PriceContext],
                             contexts: list[PriceContext]) -> list[PriceContext]:
    answers = []
    for answer in tenant.hooks.pricing_facts(contexts=contexts):
        if isinstance(answer, Awaitable):
            answer = await answer
        if answer:
            answers.append(answer)
    if not answers:
        return contexts
    # The facts dicts are this call's own (built by _with_core_facts): merged in place.
    for original, context, *parts in zip(given, contexts, *answers, strict=True):
        update = context.facts.update  # type: ignore[attr-defined]
        for part in parts:
            update(part)
        if original.facts:
            update(original.facts)  # what the caller says still wins ("as if tier A")
    return contexts


# ----------------------------------------------------------------------------- steps


async def _prepare_steps(kernel: Kernel, tenant: TenantState,
                         contexts: Sequence[PriceContext]
                         ) -> list[tuple[str, PriceStep, StepApply]]:
    return await prepare_steps(
        ordered_steps(kernel, tenant.enabled), contexts,
        lambda slug, step, exc: _step_failed(kernel, tenant, slug, step, exc))


async def prepare_steps(ordered: Iterable[tuple[str, Any]], contexts: Sequence[Any],
                        failed: Callable[[str, Any, Exception], Exception]
                        ) -> list[tuple[str, Any, Any]]:
    """Each step's ``apply`` for these documents: its own, or what its ``prepare(contexts)``
    returns (once per call, async; ``None``: nothing to do for them). A ``prepare`` that
    raises fails the whole call with ``failed(slug, step, error)`` (money paths fail closed);
    price steps and revenue split steps alike."""
    appliers = []
    for slug, step in ordered:
        if step.prepare is None:
            assert step.apply is not None
            appliers.append((slug, step, step.apply))
            continue
        try:
            apply = await step.prepare(contexts)
        except Exception as exc:
            raise failed(slug, step, exc) from exc
        if apply is not None:
            appliers.append((slug, step, apply))
    return appliers


def _step_failed(kernel: Kernel, tenant: TenantState, slug: str, step: PriceStep,
                 exc: Exception) -> JimuError:
    if isinstance(exc, PricingError | ValidationFailed):
        return exc  # the plugin refused the input, with its own message
    kernel.failures.record(tenant_id=tenant.id, plugin=slug, hook="register_pricing_steps",
                           kind="error", error=f"{step.rule}: {type(exc).__name__}: {exc}",
                           tb=traceback.format_exc())
    return PricingError(N_("no price: plugin %(plugin)s failed in price step %(rule)s "
                           "(%(error)s)"),
                        params={"plugin": slug, "rule": step.rule,
                                "error": f"{type(exc).__name__}: {exc}"},
                        plugin=slug, rule=step.rule)


def _base_price(kernel: Kernel, tenant: TenantState, impls: Sequence[tuple[str, Any]],
                index: int, context: PriceContext, field: Callable[[int, str], str]
                ) -> tuple[Any, str]:
    # Ask plugin by plugin (in pluggy's order) to know which one answered.
    for plugin, function in impls:
        try:
            base = function(context)
        except JimuError:
            raise  # the plugin refused the input (an unknown item): the user's to fix
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            kernel.failures.record(tenant_id=tenant.id, plugin=plugin,
                                   hook="resolve_base_price", kind="error", error=error,
                                   tb=traceback.format_exc())
            raise PricingError(N_("no price: plugin %(plugin)s failed while resolving the base "
                                  "price of %(item)s (%(error)s)"),
                               params={"plugin": plugin, "item": context.item, "error": error},
                               plugin=plugin) from exc
        if base is not None:
            return base, plugin
    raise PricingError(N_("no enabled plugin knows a base price for %(item)s"),
                       field=field(index, "item"), params={"item": context.item})


def _price_line(kernel: Kernel, tenant: TenantState, index: int, context: PriceContext,
                appliers: list[tuple[str, PriceStep, StepApply]], base_impls: Sequence[Any],
                field: Callable[[int, str], str]) -> PriceResult:
    # The hot loop of a quotation: plain comparisons of classes and amounts, one trace line
    # per change (built positionally: cheaper), the tax summed as it goes.
    base, base_plugin = _base_price(kernel, tenant, base_impls, index, context, field)
    currency = context.currency
    units = _units(currency)
    unit_price = base.unit_price
    if unit_price.currency != currency:
        raise PricingError(N_("the base price of %(item)s is in %(base)s, not %(currency)s"),
                           field=field(index, "currency"),
                           params={"item": context.item, "base": unit_price.currency,
                                   "currency": currency})
    if not unit_price.amount.is_finite():
        raise PricingError(N_("no price: plugin %(plugin)s answered %(amount)s as the base "
                              "price of %(item)s"), field=field(index, "item"),
                           params={"plugin": base_plugin, "amount": unit_price.amount,
                                   "item": context.item}, plugin=base_plugin)
    total = Money(unit_price.amount * context.quantity, currency)
    trace = [PriceTraceLine(base_plugin, base.rule, f"{base.reason} × {context.quantity}",
                            units.zero, total, base.facts)]
    considered: list[ConsideredLine] = []
    explain = context.explain
    tax = ZERO
    for slug, step, apply in appliers:
        try:
            outcome = apply(context, total)
        except Exception as exc:
            raise _step_failed(kernel, tenant, slug, step, exc) from exc
        if outcome is None:
            continue
        kind_of = outcome.__class__  # a class check first: cheaper than isinstance
        pieces = cast("Sequence[PriceAdjustment | PricePass]", (outcome,) if (
            kind_of is PriceAdjustment or kind_of is PricePass
            or isinstance(outcome, PriceAdjustment | PricePass)) else outcome)
        for piece in pieces:
            if explain and piece.considered:
                considered.extend(ConsideredLine(plugin=slug, rule=c.rule, reason=c.reason)
                                  for c in piece.considered)
            if piece.__class__ is PricePass or isinstance(piece, PricePass):
                continue
            after = piece.total
            if after.currency != currency or not after.amount.is_finite():
                raise _bad_total(kernel, tenant, slug, step, context, after, currency)
            kind = piece.kind
            trace.append(PriceTraceLine(slug, piece.rule or step.rule, piece.reason, total,
                                        after, piece.facts, kind))
            if kind == "tax":
                tax += after.amount - total.amount
            total = after
    minor = units.minor
    rounded = Money(total.amount.quantize(minor, ROUND_HALF_UP), currency)
    if rounded.amount != total.amount:
        trace.append(PriceTraceLine("core", "rounding", units.rounding_reason, total,
                                    rounded))
    if rounded.amount < ZERO:
        raise PricingError(N_("price steps made the price of %(item)s negative (%(total)s)"),
                           field=field(index, "item"),
                           params={"item": context.item, "total": str(rounded)})
    return PriceResult(rounded, unit_price, tuple(trace),
                       Money(tax.quantize(minor, ROUND_HALF_UP), currency) if tax
                       else units.zero_rounded, tuple(considered) if considered else (),
                       context.facts)


def _bad_total(kernel: Kernel, tenant: TenantState, slug: str, step: PriceStep,
               context: PriceContext, after: Money, currency: str) -> JimuError:
    if not after.amount.is_finite():
        return _step_failed(kernel, tenant, slug, step, ArithmeticError(
            f"it answered {after.amount} for {context.item}"))
    return PricingError(N_("price step %(rule)s of plugin %(plugin)s changed the currency"),
                        params={"rule": step.rule, "plugin": slug}, plugin=slug, rule=step.rule)


class _Units(NamedTuple):
    """What the fold needs of a currency: nothing (as is, and as written after rounding:
    ``0.00``), its minor unit and the reason of a rounding line."""

    zero: Money
    zero_rounded: Money
    minor: Decimal
    rounding_reason: str


@functools.cache
def _units(currency: str) -> _Units:
    minor = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    return _Units(Money(ZERO, currency), Money(ZERO.quantize(minor), currency), minor,
                  f"rounded half up to the {currency} minor unit")
