"""Every hook Jimu core knows about. The hook reference (docs/hook-reference.md) is generated
from this module; a test fails when a hook lacks a docstring, an example or a test.

Two families:

* **Contribution hooks** (``register_*``) run once at start-up for every *installed* plugin and
  return what the plugin adds. Core calls each plugin's implementation separately, so each
  contribution is attributed to its plugin and a failing one marks only that plugin as broken.
* **Runtime hooks** run per request or event and reach only the plugins the acting tenant has
  enabled. A raising or slow implementation is recorded as a hook failure and skipped, except on
  money paths, which fail closed.

Implementations take keyword arguments only and may accept a subset of the arguments below.
Give them no default values: pluggy 1.7 passes every argument a hook is called with, so a
default would only mislead the reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from jimu_sdk.markers import hookspec
from jimu_sdk.types import (
    AdminPage,
    BasePrice,
    ChannelAdapter,
    CliCommand,
    DashboardWidget,
    DemoSeeder,
    EventHandler,
    Job,
    MenuItem,
    NodeType,
    Permission,
    PriceContext,
    PriceFactorKind,
    PriceStep,
    RevenueSplitStep,
    Schedule,
    TagRule,
    Translations,
)

CONTRIBUTION_HOOKS = (
    "register_piccolo_app",
    "register_routes",
    "register_admin_pages",
    "register_menu_items",
    "register_dashboard_widgets",
    "register_template_dir",
    "register_static_dir",
    "register_jobs",
    "register_schedules",
    "register_cli_commands",
    "register_event_handlers",
    "register_settings_schema",
    "register_permissions",
    "register_translations",
    "register_demo_data",
    "register_pricing_steps",
    "register_price_factor_kinds",
    "register_revenue_split_steps",
    "register_workflow_nodes",
    "register_channels",
    "register_tag_rules",
)
RUNTIME_HOOKS = ("resolve_base_price", "pricing_facts", "customer_facts")
FAIL_CLOSED_HOOKS = frozenset({"resolve_base_price", "pricing_facts"})


# ================================================================= plumbing (contributions)


@hookspec
def register_piccolo_app() -> str | None:
    """Name the plugin's piccolo app module: its tables and migrations.

    Tables are prefixed with the plugin slug; tenant-owned tables mix in ``TenantScoped``.
    Migrations run for every installed plugin (tenants switch behaviour, not schema).

    Example::

        @hookimpl
        def register_piccolo_app():
            return "jimu_followups.piccolo_app"
    """


@hookspec
def register_routes() -> Sequence[Any] | None:
    """Return litestar route handlers or controllers, mounted under ``/api/v1/<slug>``.

    They answer 404 to tenants that have the plugin disabled. Raise ``jimu_sdk`` errors for bad
    input; core turns them into JSON errors.

    Example::

        @get("/notes")
        async def list_notes() -> list[dict]:
            return await Note.scoped_select()

        @hookimpl
        def register_routes():
            return [list_notes]
    """


@hookspec
def register_admin_pages() -> Sequence[AdminPage] | None:
    """Return admin pages, mounted under ``/admin/p/<slug>`` and guarded like routes.

    Example::

        @get("/", media_type=MediaType.HTML)
        async def index() -> Template:
            return Template("followups/index.html")

        @hookimpl
        def register_admin_pages():
            return [AdminPage(handler=index, title=localized("跟进记录", "Follow-ups"))]
    """


@hookspec
def register_menu_items() -> Sequence[MenuItem] | None:
    """Return entries for the admin menu; shown only to tenants with the plugin enabled.

    Example::

        @hookimpl
        def register_menu_items():
            return [MenuItem(key="followups", title=localized("跟进", "Follow-ups"),
                             href="/admin/p/followups/", permission="followups.read")]
    """


@hookspec
def register_dashboard_widgets() -> Sequence[DashboardWidget] | None:
    """Return cards for the tenant home: figures (``Stat``) and charts (``Chart``).

    A card shows only when the tenant has the plugin on and the viewer holds ``permission``.
    ``render`` runs on every view of the home page inside the viewer's scope, so its queries
    are tenant-scoped; a card that raises or times out is left out and recorded as a hook
    failure. A chart carries its data as a table too.

    Example::

        async def due_today():
            count = await FollowUp.scoped_count().where(FollowUp.next_contact_on == today())
            return Stat(value=count, caption=localized("今天待跟进", "due today"),
                        href="/admin/p/followups/")

        @hookimpl
        def register_dashboard_widgets():
            return [DashboardWidget(key="due", title=localized("待跟进", "Due follow-ups"),
                                    render=due_today, permission="followups.read")]
    """


@hookspec
def register_template_dir() -> str | None:
    """Return the directory holding the plugin's jinja2 templates.

    Templates must live under ``<dir>/<slug>/`` so one plugin cannot shadow another's.

    Example::

        @hookimpl
        def register_template_dir():
            return str(Path(__file__).parent / "templates")
    """


@hookspec
def register_static_dir() -> str | None:
    """Return the directory of the plugin's static assets (CSS, scripts, images).

    They are served at ``/static/p/<slug>/`` (pages may not carry inline styles or scripts:
    the content security policy allows only the platform's own files). Link them from a
    template with the ``version`` variable so a new release is not served from a cache.

    Example::

        @hookimpl
        def register_static_dir():
            return str(Path(__file__).parent / "static")

        {# in a template #}
        {% block head %}<link rel="stylesheet"
            href="/static/p/my_plugin/my_plugin.css?v={{ version }}">{% endblock %}
    """


@hookspec
def register_jobs() -> Sequence[Job] | None:
    """Return background jobs; each becomes the dramatiq actor ``<slug>.<name>``.

    A job runs ``run(tenant_id=..., **args)`` inside the tenant's scope and one transaction;
    it must be safe to run twice (delivery is at least once).

    Example::

        async def remind(tenant_id, note_id):
            ...

        @hookimpl
        def register_jobs():
            return [Job(name="remind", run=remind, max_retries=3)]
    """


@hookspec
def register_schedules() -> Sequence[Schedule] | None:
    """Return cron schedules; at each due time the named job runs once per enabling tenant.

    Example::

        @hookimpl
        def register_schedules():
            return [Schedule(name="nightly-digest", cron="0 2 * * *", job="digest")]
    """


@hookspec
def register_cli_commands() -> Sequence[CliCommand] | None:
    """Return commands of the ``jimu`` CLI: ``jimu plugins run <slug> <name> --tenant <code>``.

    Each runs for one tenant that has the plugin on, in its scope with no transaction open
    (the command opens ``platform().transaction()`` blocks itself), and drives a progress bar
    through ``progress(percent, stage)``. ``jimu plugins commands`` lists them.

    Example::

        async def recount(options, progress):
            async with platform().transaction():
                total = await Note.scoped_count()
            progress(100, "counted")
            return f"{total} notes"

        @hookimpl
        def register_cli_commands():
            return [CliCommand(name="recount", help="Count the notes", run=recount)]
    """


@hookspec
def register_event_handlers() -> Sequence[EventHandler] | None:
    """Return handlers of domain events (``customer.created``, …) from the outbox.

    Handlers are retried with backoff and run at most once per event and handler. A handler
    with ``in_transaction=True`` runs instead inside the emitting transaction: its writes
    commit with the change, and the error it raises refuses the change (e.g. an order whose
    parts cannot be reserved).

    Example::

        async def greet(event):
            await Note.scoped_insert(customer_id=event.payload["id"], body="欢迎")

        @hookimpl
        def register_event_handlers():
            return [EventHandler(event_type="customer.created", name="greet", handle=greet)]
    """


@hookspec
def register_settings_schema() -> type[msgspec.Struct] | None:
    """Return a msgspec ``Struct`` describing the plugin's per-tenant settings.

    Settings are validated against it when a tenant saves them; defaults come from the struct.

    Example::

        class Settings(msgspec.Struct):
            reminder_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7

        @hookimpl
        def register_settings_schema():
            return Settings
    """


@hookspec
def register_permissions() -> Sequence[Permission] | None:
    """Return the permissions the plugin's routes check, with the roles that get them.

    Example::

        @hookimpl
        def register_permissions():
            return [Permission(key="followups.write", title=localized("写跟进", "Write"),
                               default_roles=("admin", "staff"))]
    """


@hookspec
def register_translations() -> Translations | str | None:
    """Return the plugin's message catalogs for its pages and templates.

    Either a directory holding ``<locale>/LC_MESSAGES/*.po`` gettext catalogs (``zh_CN`` and
    ``en``; the usual tools edit them), or a mapping ``{locale: {message id: text}}``. Message
    ids are the English text used in ``{{ _("...") }}`` of the plugin's templates; both
    ``zh-CN`` and ``en`` must hold every id, or the plugin is refused at load. Core's own
    catalog wins when a plugin uses the same id.

    Example::

        @hookimpl
        def register_translations():
            return str(Path(__file__).parent / "locale")

        # or, for a handful of strings:
        @hookimpl
        def register_translations():
            return {"zh-CN": {"Due follow-ups": "待跟进"},
                    "en": {"Due follow-ups": "Due follow-ups"}}
    """


@hookspec
def register_demo_data() -> DemoSeeder | None:
    """Return ``async def seed(tenant_id)`` that fills the demo tenant with sample rows.

    It runs inside the demo tenant's scope and transaction when ``jimu demo`` creates it.

    Example::

        async def seed(tenant_id):
            await Note.scoped_insert(customer_id=1, body="首次到店")

        @hookimpl
        def register_demo_data():
            return seed
    """


# ================================================================= the four core concerns


@hookspec
def register_pricing_steps() -> Sequence[PriceStep] | None:
    """Return ordered price steps folded over the base price (rules, region, tier, factors, …).

    Steps run by ascending ``order`` (the orders first-party plugins use are listed in
    ``docs/pricing.md``); each gets the running total and returns a ``PriceAdjustment`` (new
    total, reason, the rule and facts it used), a ``PricePass`` (no change, but the rules it
    passed over and why), several of these in order, or ``None``. A step that needs stored data
    gives ``prepare(contexts)`` instead of ``apply``: it runs once per pricing call, async, and
    returns the synchronous ``apply``. Core rounds once, last, and keeps a trace line per change
    naming the plugin and rule. A step that raises makes the whole price fail with an error
    naming the plugin (money paths fail closed).

    Example::

        def pudong_labour(ctx, previous):
            if "310115" in ctx.facts["region.path"]:
                return PriceAdjustment(previous * Decimal("1.15"), "浦东人工上浮15%",
                                       facts={"region.code": ctx.facts["region.code"]})
            return None

        @hookimpl
        def register_pricing_steps():
            return [PriceStep(rule="pudong-labour", order=200, apply=pudong_labour)]
    """


@hookspec
def register_price_factor_kinds() -> Sequence[PriceFactorKind] | None:
    """Return kinds of price factor (promotion, subsidy, duty, …) for the price factors plugin.

    Tenants switch each configured factor on per region and period in the price factors
    plugin; a kind says how one factor of it changes the price, in which order, and the
    schema of its parameters. Kinds from every enabled plugin are offered.

    Example::

        class Params(msgspec.Struct):
            amount: Decimal

        def carbon_credit(ctx, previous, params):
            return PriceAdjustment(previous - Money(params.amount), "碳积分抵扣")

        @hookimpl
        def register_price_factor_kinds():
            return [PriceFactorKind(key="carbon_credit", title=localized("碳积分", "Carbon credit"),
                                    order=450, params=Params, apply=carbon_credit)]
    """


@hookspec
def register_revenue_split_steps() -> Sequence[RevenueSplitStep] | None:
    """Return ordered steps that share a document's revenue between the enterprise and partners.

    This is the last part of the pricing hook: who of the enterprise, the dealer, the
    installer or service provider, … earns what of a priced document.

    A caller (e.g. settlement, when a work order completes) hands ``platform().split_revenue``
    documents of priced lines (labour, parts, fees, subsidies) and the partners playing each
    role. The enterprise starts with every line; steps run by ascending ``order`` (ties by
    plugin then rule) and answer ``SplitAdjustment`` values: moves of part of a line from one role
    to another, with the reason and rule. Core checks every move names a line and a party of
    the document, rounds each share half up once, last, and gives the rounding to the
    enterprise, so the shares of a line always sum to its amount; every move is a trace line
    naming plugin and rule. A step that raises fails the split closed, naming the plugin.

    Example::

        def installer_labour(ctx, shares):
            if "installer" not in ctx.parties:
                return None
            moves = tuple(SplitMove(line.key, "installer", line.amount.amount * Decimal("0.7"))
                          for line in ctx.lines if line.component == "labour")
            return SplitAdjustment(moves, "工时费的70%归安装服务商") if moves else None

        @hookimpl
        def register_revenue_split_steps():
            return [RevenueSplitStep(rule="installer-labour", order=100, apply=installer_labour)]
    """


@hookspec
def register_workflow_nodes() -> Sequence[NodeType] | None:
    """Return workflow node types (form, approval, dispatch, notify, timer, branch, …).

    Core runs flows; a node type decides what happens at its nodes (``enter``, ``act``,
    ``on_timer`` answer ``Advance(outcome)`` or ``Wait(actions, due)``). Keys are global: a
    third-party type should be prefixed with its plugin's slug. See ``docs/workflows.md``.

    Example::

        class NotifySettings(msgspec.Struct):
            message: str

        def notify(context):
            ...  # send context.settings.message
            return Advance()

        @hookimpl
        def register_workflow_nodes():
            return [NodeType(key="notify", title=localized("通知", "Notify"),
                             settings=NotifySettings, enter=notify, icon="bell")]
    """


@hookspec
def register_channels() -> Sequence[ChannelAdapter] | None:
    """Return channel adapters: inbound verify/parse of a platform's webhooks, outbound send.

    Example::

        class SmsChannel:
            key = "sms"
            title = localized("短信", "SMS")
            def verify(self, request, secret): ...
            def parse(self, request): ...
            async def send(self, message, config): ...

        @hookimpl
        def register_channels():
            return [SmsChannel()]
    """


@hookspec
def register_tag_rules() -> Sequence[TagRule] | None:
    """Return tag rules that derive customer tags from customer facts.

    Example::

        @hookimpl
        def register_tag_rules():
            return [TagRule(key="followed-up", title=localized("近期已跟进", "Followed up"),
                            matches=lambda facts: facts.get("followups.count_30d", 0) > 0)]
    """


# ================================================================= runtime hooks (per tenant)


@hookspec(firstresult=True)
def resolve_base_price(context: PriceContext) -> BasePrice | None:
    """Return the unit base price of ``context.item`` before any price step, or ``None``.

    The first plugin to answer wins; keep it synchronous. A raising implementation fails the
    price closed with an error naming the plugin.

    Example::

        @hookimpl
        def resolve_base_price(context):
            price = LIST_PRICES.get(context.item)
            if price is not None:
                return BasePrice(Money(price), rule="list-price", reason="价目表")
    """


@hookspec
def pricing_facts(contexts: Sequence[PriceContext]) -> Sequence[Mapping[str, Any]] | None:
    """Return facts for each line of a pricing call, in the same order; may be ``async``.

    Facts are keyed ``<slug>.<fact>``. The hook runs once per call (a quotation's lines
    together), after core's own facts and before the base price, so rules and steps can read
    them (a partner's tier, an item's cost). A raising implementation fails the price closed.

    Example::

        @hookimpl
        async def pricing_facts(contexts):
            tiers = await current_tiers({c.partner_id for c in contexts})
            return [{"price_tiers.tier": tiers.get(c.partner_id)} for c in contexts]
    """


@hookspec
def customer_facts(customer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return facts about a customer, keyed ``<slug>.<fact>``; may be ``async``.

    Facts feed tag rules and are shown on the customer profile.

    Example::

        @hookimpl
        async def customer_facts(customer):
            count = await Note.scoped_count().where(Note.customer_id == customer["id"])
            return {"followups.count": count}
    """
