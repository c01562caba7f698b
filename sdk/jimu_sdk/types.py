"""Public types a plugin contributes through hooks or receives from them.

Everything here is plain data (msgspec structs and frozen dataclasses) or a small protocol, so a
plugin never needs an import from core. Text shown to people is ``Localized``: one string per
locale, and both ``zh-CN`` and ``en`` are required.

The types of the pricing path are frozen msgspec structs without garbage-collector tracking: a
quotation creates thousands of them, and a struct is built several times faster than a frozen
dataclass. Copy one with ``msgspec.structs.replace``; never put a value in their ``facts`` that
refers back to the struct (a cycle of untracked objects is never freed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

import msgspec

Localized = dict[str, str]
"""Text per locale, e.g. ``{"zh-CN": "跟进记录", "en": "Follow-ups"}``."""

REQUIRED_LOCALES = ("zh-CN", "en")


def localized(zh: str, en: str) -> Localized:
    """Build a :data:`Localized` text from its Chinese and English forms."""
    return {"zh-CN": zh, "en": en}


def N_(message: str) -> str:
    """Mark ``message`` as a message id of the plugin's catalog without translating it here
    (settings titles, error messages): ``scripts/i18n.py`` collects it, the UI translates it
    when it shows it."""
    return message


# --------------------------------------------------------------------------- plugin identity


class PluginMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What a plugin says about itself. Every plugin module defines ``meta = PluginMeta(...)``.

    ``requires_core`` is a PEP 440 specifier matched against the core API version, e.g.
    ``">=1.0,<2"``. ``depends`` names the slugs of plugins that must be enabled with this one.
    """

    name: str
    version: str
    title: Localized
    description: Localized
    author: str
    requires_core: str
    depends: tuple[str, ...] = ()
    homepage: str = ""


# --------------------------------------------------------------------------- money


class Money(msgspec.Struct, frozen=True, gc=False):
    """An amount of one currency. Never a float: ``Money("12.30")`` or ``Money(Decimal(...))``.

    Arithmetic keeps full precision; :meth:`rounded` applies the rounding policy (half up to the
    currency's minor unit), which core does once at the end of a money path.
    """

    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        amount: Any = self.amount
        if amount.__class__ is not Decimal:  # the common case skips the conversion
            if isinstance(amount, float):
                raise TypeError("Money does not accept float; pass a Decimal or a string")
            msgspec.structs.force_setattr(self, "amount", Decimal(amount))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if factor.__class__ is not Decimal:
            if isinstance(factor, float):
                raise TypeError("multiply Money by a Decimal, not a float")
            factor = Decimal(factor)
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        exponent = _MINOR_UNIT.get(self.currency)
        if exponent is None:
            exponent = Decimal(1).scaleb(-MINOR_UNITS.get(self.currency, 2))
        # rounding given positionally: the keyword form costs twice as much per call
        return Money(self.amount.quantize(exponent, ROUND_HALF_UP), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0, "KRW": 0}
_MINOR_UNIT = {code: Decimal(1).scaleb(-places) for code, places in MINOR_UNITS.items()}


# --------------------------------------------------------------------------- pricing


class PriceContext(msgspec.Struct, frozen=True, gc=False):
    """What a price depends on.

    Callers give the item, quantity and whatever they know of partner, customer, region,
    channel and date. Before any step runs, core fills ``facts`` (see ``docs/pricing.md``):
    ``partner.level``, ``partner.kind``, ``partner.region_code``, ``customer.level``,
    ``region.code`` and ``region.path`` (province → city → district codes), ``on_date``; then
    each enabled plugin adds its own through ``pricing_facts`` (``<slug>.<fact>``).
    ``region_code`` defaults to the customer's region, then the partner's. ``explain`` asks
    steps to also report the rules they passed over (the price simulator); skip building those
    reasons when it is false, it is the hot path of a quotation.
    """

    tenant_id: int
    item: str
    quantity: Decimal = Decimal(1)
    currency: str = "CNY"
    partner_id: int | None = None
    customer_id: int | None = None
    region_code: str | None = None
    channel: str | None = None
    on_date: dt.date | None = None
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)
    explain: bool = False


class BasePrice(msgspec.Struct, frozen=True, gc=False):
    """Answer of ``resolve_base_price``: the unit price before adjustments, and why."""

    unit_price: Money
    rule: str
    reason: str
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)


class RuleConsidered(msgspec.Struct, frozen=True, gc=False):
    """A rule a step looked at and did not apply, and why (shown by the price simulator)."""

    rule: str
    reason: str


class PriceAdjustment(msgspec.Struct, frozen=True, gc=False):
    """What a price step returns when it changes the price: the new total, and why.

    ``rule`` names the rule that decided (defaults to the step's name); ``facts`` are the input
    facts it relied on; ``considered`` lists rules it looked at and passed over. ``kind`` is
    ``"tax"`` for a tax step (core reports tax apart from the net price) and ``"price"``
    otherwise.
    """

    total: Money
    reason: str
    rule: str = ""
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)
    considered: tuple[RuleConsidered, ...] = ()
    kind: Literal["price", "tax"] = "price"


class PricePass(msgspec.Struct, frozen=True, gc=False):
    """What a step returns when it leaves the price alone but can say what it looked at."""

    considered: tuple[RuleConsidered, ...] = ()


StepOutcome = PriceAdjustment | PricePass | Sequence[PriceAdjustment | PricePass] | None
"""A step's answer: one adjustment, a pass, several in order (each its own trace line), or
``None`` (nothing to say)."""

StepApply = Callable[[PriceContext, Money], StepOutcome]


@dataclass(frozen=True, slots=True)
class PriceStep:
    """One ordered step of the pricing fold.

    Give ``apply(context, previous)`` for a step that needs no stored data, or
    ``prepare(contexts)``: an async function called once per pricing call (a quotation's lines
    together) that loads what the step needs and returns the ``apply`` to use, or ``None``
    when the step has nothing to do for any of these lines (no labour line in the quotation)
    and nothing to explain. ``apply`` is synchronous and must not touch the database. Steps run
    in ascending ``order`` (ties by plugin then rule name), never in registration order.
    """

    rule: str
    order: int
    apply: StepApply | None = None
    prepare: Callable[[Sequence[PriceContext]], Awaitable[StepApply | None]] | None = None
    title: Localized = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.apply is None) == (self.prepare is None):
            raise ValueError(f"price step {self.rule!r} needs exactly one of apply or prepare")


@dataclass(frozen=True, slots=True)
class PriceFactorKind:
    """A kind of price factor (promotion, logistics subsidy, tax, …) for the price factors
    plugin. Tenants configure factors of a kind per region and period with ``params``;
    ``apply(context, previous, params)`` returns the adjustment of one configured factor or
    ``None``. Kinds run by ascending ``order`` inside the factor block of the pricing fold.
    """

    key: str
    title: Localized
    order: int
    params: type[msgspec.Struct]
    apply: Callable[[PriceContext, Money, Any], PriceAdjustment | None]
    description: Localized = field(default_factory=dict)


class PriceTraceLine(msgspec.Struct, frozen=True, gc=False):
    """One line of a price's explanation: which plugin and rule moved the price, and why."""

    plugin: str
    rule: str
    reason: str
    before: Money
    after: Money
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)
    kind: str = "price"

    @property
    def change(self) -> Money:
        return self.after - self.before


class ConsideredLine(msgspec.Struct, frozen=True, gc=False):
    """A rule that was looked at and did not apply: its plugin, the rule and why not."""

    plugin: str
    rule: str
    reason: str


class PriceResult(msgspec.Struct, frozen=True, gc=False):
    """A priced line. ``total`` is rounded (the rounding policy: half up to the currency's
    minor unit, once per line); ``tax`` is the part of it that tax steps added; ``net`` is
    ``total - tax``. ``facts`` are the facts the line was priced on."""

    total: Money
    unit_price: Money
    trace: tuple[PriceTraceLine, ...]
    tax: Money | None = None
    considered: tuple[ConsideredLine, ...] = ()
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @property
    def net(self) -> Money:
        return self.total - self.tax if self.tax is not None else self.total


# --------------------------------------------------------------------------- revenue split

ENTERPRISE = "enterprise"
"""The role of the tenant itself in a revenue split: it starts with every line and keeps what
the split steps do not give away (so it also takes the rounding)."""


class SplitLine(msgspec.Struct, frozen=True, gc=False):
    """One amount of a document to share out: a work order's labour, a part, a call-out fee.

    ``amount`` is what the line is worth, already rounded (a priced line's total); a line of
    amount zero carries a pure transfer (a subsidy the enterprise pays an installer).
    ``component`` says what the line is (``labour``, ``parts``, ``fee``, ``subsidy``, ``sale``
    or a plugin's own word) so that split rules choose lines without knowing their keys;
    ``cost`` is what the line cost the enterprise, for margins.
    """

    key: str
    component: str
    amount: Money
    title: str = ""
    cost: Money | None = None
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)


class SplitContext(msgspec.Struct, frozen=True, gc=False):
    """A document whose revenue is shared between the enterprise and its partners.

    ``parties`` maps each role other than the enterprise (``dealer``, ``installer``, …) to the
    partner playing it. Before any step runs, core fills ``facts`` with ``region.code``,
    ``region.path`` and ``on_date``, and per role ``<role>.id``, ``<role>.kind``,
    ``<role>.level``, ``<role>.region_code``; facts the caller gives win.
    """

    tenant_id: int
    document: str
    kind: str
    lines: tuple[SplitLine, ...]
    parties: Mapping[str, int] = msgspec.field(default_factory=dict)
    currency: str = "CNY"
    region_code: str | None = None
    on_date: dt.date | None = None
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)


class SplitMove(msgspec.Struct, frozen=True, gc=False):
    """Move ``amount`` of line ``line`` from role ``source`` to role ``to`` (unrounded; a
    negative amount moves the other way, e.g. a share of a negative correction)."""

    line: str
    to: str
    amount: Decimal
    source: str = ENTERPRISE


class SplitAdjustment(msgspec.Struct, frozen=True, gc=False):
    """What a split step returns when it moves money between parties, and why."""

    moves: tuple[SplitMove, ...]
    reason: str
    rule: str = ""
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)


SplitShares = Mapping[str, Mapping[str, Decimal]]
"""The shares so far: line key → role → amount (unrounded)."""

SplitOutcome = SplitAdjustment | Sequence[SplitAdjustment] | None
SplitApply = Callable[[SplitContext, SplitShares], SplitOutcome]


@dataclass(frozen=True, slots=True)
class RevenueSplitStep:
    """One ordered step of the revenue split fold.

    Give ``apply(context, shares)`` or ``prepare(contexts)`` (async, once per call, returns the
    ``apply`` to use or ``None`` when it has nothing to do), exactly as a :class:`PriceStep`.
    ``apply`` answers the moves it makes between parties; core checks that every move names a
    line and a party of the document, applies it, and rounds once, last.
    """

    rule: str
    order: int
    apply: SplitApply | None = None
    prepare: Callable[[Sequence[SplitContext]], Awaitable[SplitApply | None]] | None = None
    title: Localized = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.apply is None) == (self.prepare is None):
            raise ValueError(f"split step {self.rule!r} needs exactly one of apply or prepare")


class SplitTraceLine(msgspec.Struct, frozen=True, gc=False):
    """One move of a split's explanation: which plugin and rule gave what to whom, and why."""

    plugin: str
    rule: str
    reason: str
    line: str
    source: str
    to: str
    amount: Money
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)


class SplitLineResult(msgspec.Struct, frozen=True, gc=False):
    """A line with its shares, rounded: the shares always sum to ``amount`` exactly."""

    key: str
    component: str
    title: str
    amount: Money
    shares: Mapping[str, Money]
    cost: Money | None = None


class SplitResult(msgspec.Struct, frozen=True, gc=False):
    """A document's split: each line's shares and the moves that made them."""

    document: str
    lines: tuple[SplitLineResult, ...]
    trace: tuple[SplitTraceLine, ...]
    facts: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def totals(self) -> dict[str, Money]:
        """Each role's share of the whole document."""
        out: dict[str, Money] = {}
        for line in self.lines:
            for role, money in line.shares.items():
                out[role] = out[role] + money if role in out else money
        return out


# --------------------------------------------------------------------------- workflow nodes


class NodeContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a node sees when core asks it something about one run of a flow.

    ``data`` is the run's data (what started it, e.g. a work order's fields, plus what earlier
    nodes added, e.g. each form stage's answers under the node's id); ``settings`` is the node's
    settings, already converted to the type's ``settings`` struct; ``state`` is what this node
    kept while waiting (approvals so far). ``node_id``/``label`` name the node in the graph.
    """

    run_id: int
    flow: str
    version: int
    node_id: str
    label: str
    subject: str
    data: Mapping[str, Any]
    settings: Any
    state: Mapping[str, Any]
    actor_id: int | None
    now: dt.datetime


class Advance(msgspec.Struct, frozen=True, kw_only=True):
    """Leave the node along its outgoing edge ``outcome`` (e.g. ``"next"``, ``"approved"``).

    ``data`` is merged into the run's data (keys replace); ``note`` is shown on the timeline.
    """

    outcome: str = "next"
    data: Mapping[str, Any] = msgspec.field(default_factory=dict)
    note: str = ""


class Wait(msgspec.Struct, frozen=True, kw_only=True):
    """Stay on the node until a person acts or a timer is due.

    ``actions`` are what a person may do here (``"submit"``, ``"approve"``, ``"reject"``): core
    refuses any other with 409 naming these. ``due`` asks for ``on_timer`` at that time (a
    durable timer, cancelled when the run moves on). ``state`` is kept for the next call;
    ``data`` is merged into the run's data; ``assignees`` are the user ids that may act (empty:
    anyone allowed to act on the flow's subject).
    """

    actions: tuple[str, ...] = ()
    due: dt.datetime | None = None
    state: Mapping[str, Any] = msgspec.field(default_factory=dict)
    data: Mapping[str, Any] = msgspec.field(default_factory=dict)
    assignees: tuple[int, ...] = ()
    note: str = ""


NodeOutcome = Advance | Wait
"""What a node answers: move on along an outcome, or wait."""


@dataclass(frozen=True, slots=True)
class NodeType:
    """A workflow node type (start, form, approval, branch, …), contributed by a plugin through
    ``register_workflow_nodes``; core runs flows, node types decide what happens at a node.

    - ``settings``: a msgspec struct of the node's settings; the flow designer builds the node's
      form from it and core converts a node's stored settings with it (errors name the node).
    - ``outcomes(settings)``: the names of the node's outgoing edges (``("next",)`` by
      default; a branch names its cases and ``"default"``). Publishing checks each outcome has
      exactly one edge. ``()`` for an end node.
    - ``enter(context)``: the run arrives; answer :class:`Advance` or :class:`Wait`.
    - ``act(context, action, payload)``: a person does one of the waiting node's ``actions``
      (submit a form, approve); answer ``Advance``/``Wait``, or raise ``ValidationFailed``
      naming the fields (nothing is changed then).
    - ``on_timer(context)``: the ``due`` time of a ``Wait`` came.
    - ``check(settings)``: problems the schema cannot express ("the approvers list is empty");
      each is reported against the node when the flow is published.
    - ``role``: ``"start"`` (exactly one per flow, no incoming edge), ``"end"`` (no outgoing
      edge, completes the run) or ``"step"``.

    Each may be ``async``. Runs of a flow are advanced in one transaction per action, so a node
    may read and write the database, emit events and schedule jobs through the SDK.
    """

    key: str
    title: Localized
    enter: Callable[[NodeContext], NodeOutcome | Awaitable[NodeOutcome]]
    settings: type[msgspec.Struct] | None = None
    outcomes: Callable[[Any], Sequence[str]] | tuple[str, ...] = ("next",)
    act: Callable[[NodeContext, str, Mapping[str, Any]],
                  NodeOutcome | Awaitable[NodeOutcome]] | None = None
    on_timer: Callable[[NodeContext], NodeOutcome | Awaitable[NodeOutcome]] | None = None
    check: Callable[[Any], Sequence[str]] | None = None
    role: Literal["start", "end", "step"] = "step"
    icon: str = "circle"
    category: str = "general"
    description: Localized = field(default_factory=dict)

    def outcomes_for(self, settings: Any) -> tuple[str, ...]:
        """The outgoing edge names of a node of this type with ``settings``."""
        if callable(self.outcomes):
            return tuple(self.outcomes(settings))
        return tuple(self.outcomes)


# --------------------------------------------------------------------------- channels


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A raw webhook call as the channel received it."""

    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One event parsed from a channel call; ``external_id`` makes redelivery harmless."""

    kind: str
    external_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    kind: str
    recipient: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    external_id: str = ""
    error: str = ""


class ChannelAdapter(Protocol):
    """An external platform: verifies and parses what it sends, sends what we send it."""

    key: str
    title: Localized

    def verify(self, request: InboundRequest, secret: str) -> bool: ...

    def parse(self, request: InboundRequest) -> Sequence[InboundEvent]: ...

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult: ...


# --------------------------------------------------------------------------- tags


@dataclass(frozen=True, slots=True)
class TagRule:
    """Derives a customer tag from the customer's facts (see ``customer_facts``)."""

    key: str
    title: Localized
    matches: Callable[[Mapping[str, Any]], bool]


# --------------------------------------------------------------------------- events, jobs, time


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """An event as a handler receives it, after the outbox delivered it."""

    id: int
    tenant_id: int
    type: str
    payload: Mapping[str, Any]
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EventHandler:
    """Runs for each event of ``event_type`` in tenants that enable the plugin.

    Delivery is at least once; the core records ``(handler, event)`` as processed in the same
    transaction as the handler's writes, so a redelivered event is skipped.

    ``in_transaction=True`` runs the handler instead inside the emitting transaction, at the
    moment of ``emit``: its writes commit or roll back with the change that caused the event,
    and a ``JimuError`` it raises fails the emitter's request with that error (e.g. an order
    that cannot reserve its parts is refused, and nothing of it is written). Keep such
    handlers quick; they are never retried or redelivered.
    """

    event_type: str
    name: str
    handle: Callable[[DomainEvent], Awaitable[None] | None]
    max_retries: int = 5
    in_transaction: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    """A background job, named ``<slug>.<name>`` on the broker. ``run(tenant_id, **args)``.

    ``run`` runs in one transaction of the tenant. ``transaction=False`` runs it with none
    open, for long work that reports its progress as it goes: it opens its own with ``async
    with platform().transaction():``, each committed when its block ends (so what it writes in
    one is visible to others at once), and can make its result atomic by writing it all in the
    last one.
    """

    name: str
    run: Callable[..., Awaitable[None] | None]
    max_retries: int = 5
    time_limit_ms: int = 600_000
    transaction: bool = True


@dataclass(frozen=True, slots=True)
class CliOption:
    """An option of a plugin's command: ``--<name> VALUE``, or ``--<name>`` alone for a
    ``flag`` (then its value is ``True``)."""

    name: str
    help: str
    required: bool = False
    flag: bool = False


Progress = Callable[[int, str], None]
"""``progress(percent, stage)``: moves a long command's progress bar."""


@dataclass(frozen=True, slots=True)
class CliCommand:
    """``jimu plugins run <slug> <name> --tenant <code> [--option value …]``.

    ``run(options, progress)`` runs for that tenant, in its scope with no transaction open
    (open ``async with platform().transaction():`` for the work, as a ``Job(transaction=False)``
    does), reports with ``progress(percent, stage)`` and returns a line to print. A
    ``JimuError`` it raises is printed as the command's error (exit code 2).
    """

    name: str
    help: str
    run: Callable[[Mapping[str, Any], Progress], Awaitable[str | None]]
    options: tuple[CliOption, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """Run ``job`` for every tenant that has the plugin enabled, on a cron expression (UTC).

    Supported cron: five fields, each ``*``, a number, a list ``1,15``, a range ``1-5`` or a
    step ``*/15``. Example: ``"0 2 * * *"`` is every night at 02:00.
    """

    name: str
    cron: str
    job: str


# --------------------------------------------------------------------------- access, UI, data


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission a plugin adds; ``default_roles`` get it when a tenant is created."""

    key: str
    title: Localized
    default_roles: tuple[str, ...] = ("admin",)


@dataclass(frozen=True, slots=True)
class MenuItem:
    key: str
    title: Localized
    href: str
    permission: str | None = None
    order: int = 100
    icon: str = ""


@dataclass(frozen=True, slots=True)
class AdminPage:
    """A page under ``/admin/p/<slug>/<path>``; ``handler`` is a litestar route handler."""

    handler: Any
    title: Localized
    permission: str | None = None


@dataclass(frozen=True, slots=True)
class Stat:
    """A dashboard figure: ``value`` (already formatted or a number) and a short caption."""

    value: str | int | Decimal
    caption: Localized | str = ""
    href: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """An Apache ECharts ``option`` (JSON-able: no functions) and the same data as a table.

    The table is shown under the chart for people who prefer to read, and for screen readers.
    """

    option: Mapping[str, Any]
    columns: Sequence[Localized | str] = ()
    rows: Sequence[Sequence[Any]] = ()
    height: int = 260


@dataclass(frozen=True, slots=True)
class DashboardWidget:
    """A card on the tenant home. ``render`` runs per page view, in the viewer's scope, and
    returns a :class:`Stat` or a :class:`Chart` (or ``None`` to hide the card)."""

    key: str
    title: Localized
    render: Callable[[], Awaitable[Stat | Chart | None]]
    permission: str | None = None
    order: int = 100
    wide: bool = False


DemoSeeder = Callable[[int], Awaitable[None]]
"""Called with the demo tenant's id inside its tenant scope and transaction."""

Translations = Mapping[str, Mapping[str, str]]
"""``{locale: {message id: text}}`` (or return a catalog directory path instead)."""

TenantRole = Literal["admin", "staff", "partner"]
