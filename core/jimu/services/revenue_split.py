"""The revenue split: who earns what of a document (the last part of the pricing hook).

For a batch of documents (a settlement's work orders, or one completing work order):

1. **Facts.** Core adds the region and its ancestors, the date and, per role, the partner
   playing it (``installer.kind``, ``dealer.level`` …); unknown partners and regions are
   refused here, naming the document.
2. **Start.** The enterprise holds every line in full.
3. **Steps.** Steps from the tenant's enabled plugins (``register_revenue_split_steps``) run by
   ascending ``order``, ties broken by plugin then rule. Each answers moves of part of a line
   from one role to another; core refuses a move naming a line or a role the document does not
   have, so no money appears or vanishes: a move only carries it from one party to another.
4. **Rounding.** Once per line, last: every share but the enterprise's is rounded half up to
   the currency's minor unit and the enterprise keeps the rest. Where that moves a share it is
   a trace line of its own (``core / rounding``), so the trace explains every cent.

Money paths fail closed: a raising step fails the whole call with an error naming the plugin,
and the failure is recorded for the admin.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jimu_sdk import N_
from jimu_sdk.errors import JimuError, PricingError, ValidationFailed
from jimu_sdk.types import (
    ENTERPRISE,
    MINOR_UNITS,
    Money,
    RevenueSplitStep,
    SplitAdjustment,
    SplitApply,
    SplitContext,
    SplitLineResult,
    SplitResult,
    SplitTraceLine,
)

from jimu.db.tables import Partner
from jimu.regions import ancestor_codes, region_index
from jimu.services.directory import PARTNER_FACTS_CACHE
from jimu.services.pricing import directory_rows, prepare_steps

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState

MAX_DOCUMENTS = 5000
MAX_LINES = 500
ROLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
ZERO = Decimal(0)


def ordered_split_steps(kernel: Kernel, enabled: frozenset[str]
                        ) -> list[tuple[str, RevenueSplitStep]]:
    steps = [(slug, step) for slug in enabled for step in
             kernel.plugins.plugins[slug].contributed("register_revenue_split_steps", [])]
    return sorted(steps, key=lambda pair: (pair[1].order, pair[0], pair[1].rule))


def _namer(single: bool) -> Callable[[int, str], str]:
    if single:
        return lambda index, name: name
    return lambda index, name: f"documents[{index}].{name}"


async def split_documents(kernel: Kernel, tenant: TenantState,
                          contexts: Sequence[SplitContext], *, single: bool = False
                          ) -> list[SplitResult]:
    """Split each document; errors name it (``documents[2].lines[0].amount``) unless
    ``single``."""
    field = _namer(single)
    if len(contexts) > MAX_DOCUMENTS:
        raise ValidationFailed(N_("at most %(max)s documents can be split at once"),
                               field="documents", params={"max": MAX_DOCUMENTS})
    for index, context in enumerate(contexts):
        _check_document(index, context, field)
    contexts = await _with_facts(kernel, tenant, contexts, field)
    appliers = await _prepare(kernel, tenant, contexts)
    return [_split(kernel, tenant, context, appliers) for context in contexts]


def _check_document(index: int, context: SplitContext,
                    field: Callable[[int, str], str]) -> None:
    if not context.lines:
        raise ValidationFailed(N_("a document to split needs at least one line"),
                               field=field(index, "lines"))
    if len(context.lines) > MAX_LINES:
        raise ValidationFailed(N_("a document can have at most %(max)s lines"),
                               field=field(index, "lines"), params={"max": MAX_LINES})
    keys: set[str] = set()
    for number, line in enumerate(context.lines):
        if line.key in keys or not line.key:
            raise ValidationFailed(N_("each line needs its own key; %(key)s is used twice"),
                                   field=field(index, f"lines[{number}].key"),
                                   params={"key": line.key or '""'})
        keys.add(line.key)
        amount = line.amount
        if amount.currency != context.currency or not amount.amount.is_finite() or (
                amount.rounded().amount != amount.amount):
            raise ValidationFailed(
                N_("the amount must be in %(currency)s and already rounded to its minor unit"),
                field=field(index, f"lines[{number}].amount"),
                params={"currency": context.currency})
    for role in context.parties:
        if role == ENTERPRISE or not role or not set(role) <= ROLE_CHARS:
            raise ValidationFailed(
                N_("%(role)s cannot be a party's role: use lower-case letters, digits and _, "
                   "and not enterprise (the enterprise is always a party)"),
                field=field(index, "parties"), params={"role": role or '""'})


async def _with_facts(kernel: Kernel, tenant: TenantState, contexts: Sequence[SplitContext],
                      field: Callable[[int, str], str]) -> list[SplitContext]:
    partner_ids = {pid for c in contexts for pid in c.parties.values()}
    partners = await directory_rows(PARTNER_FACTS_CACHE, Partner, (
        Partner.id, Partner.level, Partner.kind, Partner.region_code), partner_ids)
    regions = region_index()
    today = kernel.clock.now().astimezone(ZoneInfo(tenant.timezone)).date()
    out = []
    for index, context in enumerate(contexts):
        facts: dict[str, Any] = {"on_date": context.on_date or today,
                                 "document.kind": context.kind}
        for role, partner_id in context.parties.items():
            partner = partners.get(partner_id)
            if partner is None:
                raise ValidationFailed(N_("partner %(id)s not found"),
                                       field=field(index, f"parties.{role}"),
                                       params={"id": partner_id})
            facts.update({f"{role}.id": partner_id, f"{role}.kind": partner["kind"],
                          f"{role}.level": partner["level"],
                          f"{role}.region_code": partner["region_code"]})
        region = context.region_code
        if region:
            if region not in regions:
                raise ValidationFailed(N_("%(code)s is not a known region code"),
                                       field=field(index, "region_code"),
                                       params={"code": region})
            facts.update({"region.code": region, "region.path": ancestor_codes(region)})
        facts.update(context.facts)
        out.append(SplitContext(context.tenant_id, context.document, context.kind,
                                context.lines, context.parties, context.currency, region,
                                facts["on_date"], facts))
    return out


async def _prepare(kernel: Kernel, tenant: TenantState, contexts: Sequence[SplitContext]
                   ) -> list[tuple[str, RevenueSplitStep, SplitApply]]:
    return await prepare_steps(
        ordered_split_steps(kernel, tenant.enabled), contexts,
        lambda slug, step, exc: _failed(kernel, tenant, slug, step, exc))


def _failed(kernel: Kernel, tenant: TenantState, slug: str, step: RevenueSplitStep,
            exc: Exception) -> JimuError:
    if isinstance(exc, PricingError | ValidationFailed):
        return exc
    kernel.failures.record(tenant_id=tenant.id, plugin=slug,
                           hook="register_revenue_split_steps", kind="error",
                           error=f"{step.rule}: {type(exc).__name__}: {exc}",
                           tb=traceback.format_exc())
    return PricingError(N_("no split: plugin %(plugin)s failed in split step %(rule)s "
                           "(%(error)s)"),
                        params={"plugin": slug, "rule": step.rule,
                                "error": f"{type(exc).__name__}: {exc}"},
                        plugin=slug, rule=step.rule)


def _bad_move(slug: str, step: RevenueSplitStep, message: str, **params: Any) -> PricingError:
    return PricingError(message, params={"plugin": slug, "rule": step.rule, **params},
                        plugin=slug, rule=step.rule)


def _split(kernel: Kernel, tenant: TenantState, context: SplitContext,
           appliers: Sequence[tuple[str, RevenueSplitStep, SplitApply]]) -> SplitResult:
    currency = context.currency
    roles = {ENTERPRISE, *context.parties}
    shares: dict[str, dict[str, Decimal]] = {
        line.key: {ENTERPRISE: line.amount.amount} for line in context.lines}
    trace: list[SplitTraceLine] = []
    for slug, step, apply in appliers:
        try:
            outcome = apply(context, shares)
        except Exception as exc:
            raise _failed(kernel, tenant, slug, step, exc) from exc
        if outcome is None:
            continue
        pieces = (outcome,) if isinstance(outcome, SplitAdjustment) else outcome
        for piece in pieces:
            for move in piece.moves:
                held = shares.get(move.line)
                if held is None:
                    raise _bad_move(slug, step, N_(
                        "split step %(rule)s of plugin %(plugin)s moved money of a line "
                        "%(line)s that the document does not have"), line=move.line)
                for role in (move.source, move.to):
                    if role not in roles:
                        raise _bad_move(slug, step, N_(
                            "split step %(rule)s of plugin %(plugin)s moved money to or from "
                            "%(role)s, but this document has no %(role)s"), role=role)
                amount = move.amount
                if amount.__class__ is not Decimal or not amount.is_finite():
                    raise _bad_move(slug, step, N_(
                        "split step %(rule)s of plugin %(plugin)s moved %(amount)s, not a "
                        "finite Decimal"), amount=str(amount))
                held[move.source] = held.get(move.source, ZERO) - amount
                held[move.to] = held.get(move.to, ZERO) + amount
                trace.append(SplitTraceLine(slug, piece.rule or step.rule, piece.reason,
                                            move.line, move.source, move.to,
                                            Money(amount, currency), piece.facts))
    minor = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    lines = []
    for line in context.lines:
        rounded: dict[str, Money] = {}
        given = ZERO
        for role, amount in shares[line.key].items():
            if role == ENTERPRISE:
                continue
            exact = amount.quantize(minor, ROUND_HALF_UP)
            if exact != amount:
                trace.append(SplitTraceLine(
                    "core", "rounding", f"rounded half up to the {currency} minor unit; the "
                    "enterprise keeps the difference", line.key, ENTERPRISE, role,
                    Money(exact - amount, currency)))
            rounded[role] = Money(exact, currency)
            given += exact
        # The enterprise keeps the rest: the shares sum to the line's amount to the cent.
        rounded = {ENTERPRISE: Money(line.amount.amount - given, currency), **rounded}
        lines.append(SplitLineResult(line.key, line.component, line.title, line.amount,
                                     rounded, line.cost))
    return SplitResult(context.document, tuple(lines), tuple(trace), context.facts)
