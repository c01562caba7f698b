"""The pricing pipeline: base price, then an ordered fold of price steps, rounded once, last.

Steps come from the tenant's enabled plugins (``register_pricing_steps``) and run by ascending
``order``, ties broken by plugin then rule, never by registration order. Every step that changes
the total leaves a trace line naming its plugin, rule and reason. Money paths fail closed: if the
base price hook or any step raises, the whole call fails with an error naming the plugin.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from jimu_sdk.errors import PricingError, ValidationFailed
from jimu_sdk.types import Money, PriceContext, PriceResult, PriceStep, PriceTraceLine

from jimu.plugins import HookFailed

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState


def ordered_steps(kernel: Kernel, enabled: frozenset[str]) -> list[tuple[str, PriceStep]]:
    steps = [(slug, step) for slug in enabled
             for step in kernel.plugins.plugins[slug].contributed("register_pricing_steps", [])]
    return sorted(steps, key=lambda pair: (pair[1].order, pair[0], pair[1].rule))


def quote(kernel: Kernel, tenant: TenantState, context: PriceContext) -> PriceResult:
    if context.quantity <= 0:
        raise ValidationFailed("quantity must be greater than zero", field="quantity")
    base, base_plugin = None, ""
    # Call the firstresult hook impl by impl (in pluggy's order) to know which plugin answered.
    for impl in reversed(tenant.hooks.resolve_base_price.get_hookimpls()):
        try:
            base = impl.function(context)
        except HookFailed as exc:
            raise PricingError(f"no price: plugin {exc.plugin} failed while resolving the base "
                               f"price of {context.item!r} ({exc.error})",
                               plugin=exc.plugin) from exc
        if base is not None:
            base_plugin = impl.plugin_name
            break
    if base is None:
        raise PricingError(f"no enabled plugin knows a base price for {context.item!r}",
                           field="item")
    if base.unit_price.currency != context.currency:
        raise PricingError(f"base price of {context.item!r} is in {base.unit_price.currency}, "
                           f"not {context.currency}")
    total = base.unit_price * context.quantity
    trace = [PriceTraceLine(plugin=base_plugin, rule=base.rule,
                            reason=f"{base.reason} × {context.quantity}",
                            before=Money(0, context.currency), after=total)]
    for slug, step in ordered_steps(kernel, tenant.enabled):
        try:
            adjustment = step.apply(context, total)
        except Exception as exc:
            kernel.failures.record(tenant_id=tenant.id, plugin=slug,
                                   hook="register_pricing_steps", kind="error",
                                   error=f"{step.rule}: {type(exc).__name__}: {exc}",
                                   tb=traceback.format_exc())
            raise PricingError(f"no price: plugin {slug} failed in price step {step.rule!r} "
                               f"({type(exc).__name__}: {exc})", plugin=slug,
                               rule=step.rule) from exc
        if adjustment is None:
            continue
        if adjustment.total.currency != total.currency:
            raise PricingError(f"price step {step.rule!r} of plugin {slug} changed the currency",
                               plugin=slug, rule=step.rule)
        trace.append(PriceTraceLine(plugin=slug, rule=step.rule, reason=adjustment.reason,
                                    before=total, after=adjustment.total))
        total = adjustment.total
    rounded = total.rounded()
    if rounded.amount < 0:
        raise PricingError(f"price steps made the price of {context.item!r} negative "
                           f"({rounded})")
    return PriceResult(total=rounded, unit_price=base.unit_price, trace=tuple(trace))

