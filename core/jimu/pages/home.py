"""The tenant home: a dashboard of cards from core and from the tenant's enabled plugins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jimu_sdk.types import Chart, Stat
from litestar import Request, get
from litestar.response import Template
from piccolo.query.functions.aggregate import Count

from jimu.db.tables import Customer, Partner
from jimu.i18n import N_, localized_text
from jimu.plugins import guard_implementation
from jimu.services.directory import CUSTOMER_LEVEL_TITLES, PARTNER_KIND_TITLES
from jimu.web.guards import request_context, tenant_member
from jimu.web.pages_support import _, kernel_of, page

LEVEL_TITLES = {**CUSTOMER_LEVEL_TITLES, "": N_("No level")}
PARTNER_KINDS = {**PARTNER_KIND_TITLES, "": N_("Other")}


@dataclass
class Card:
    key: str
    title: str
    content: Stat | Chart
    wide: bool = False


async def _core_cards(permissions: frozenset[str]) -> list[Card]:
    cards: list[Card] = []
    if "customers.read" in permissions:
        rows = await Customer.scoped_select(Customer.level, Count(Customer.id, alias="n")
                                            ).group_by(Customer.level)
        total = sum(r["n"] for r in rows)
        cards.append(Card("customers", _("Customers"), Stat(total, _("customers in all"),
                                                             "/admin/customers")))
        data = [{"name": _(LEVEL_TITLES.get(r["level"], r["level"])), "value": r["n"]}
                for r in sorted(rows, key=lambda r: -r["n"])]
        cards.append(Card("customer-levels", _("Customers by level"), Chart(
            option={"tooltip": {"trigger": "item"},
                    "series": [{"type": "pie", "radius": ["35%", "60%"], "data": data,
                                "avoidLabelOverlap": True,
                                "label": {"formatter": "{b}\n{c}", "overflow": "none"}}]},
            columns=(_("Level"), _("Customers")),
            rows=[(d["name"], d["value"]) for d in data])))
    if "partners.read" in permissions:
        rows = await Partner.scoped_select(Partner.kind, Count(Partner.id, alias="n")
                                           ).group_by(Partner.kind)
        names = [_(PARTNER_KINDS.get(r["kind"], r["kind"])) for r in rows]
        cards.append(Card("partner-kinds", _("Partners by kind"), Chart(
            option={"tooltip": {"trigger": "axis"},
                    "xAxis": {"type": "category", "data": names},
                    "yAxis": {"type": "value", "minInterval": 1},
                    "series": [{"type": "bar", "data": [r["n"] for r in rows]}]},
            columns=(_("Kind"), _("Partners")),
            rows=list(zip(names, [r["n"] for r in rows], strict=True)))))
    return cards


async def _plugin_cards(request: Request) -> list[Card]:
    kernel = kernel_of(request)
    context = request_context(request)
    assert context.tenant is not None
    widgets = []
    for slug in sorted(context.tenant.enabled):
        for widget in kernel.plugins.plugins[slug].contributed("register_dashboard_widgets",
                                                                []):
            if widget.permission is None or widget.permission in context.permissions:
                widgets.append((slug, widget))
    widgets.sort(key=lambda pair: (pair[1].order, pair[0], pair[1].key))
    cards: list[Card] = []
    for slug, widget in widgets:
        content = await _render_widget(kernel, slug, widget)
        if content is not None:
            cards.append(Card(f"{slug}.{widget.key}", localized_text(widget.title), content,
                              widget.wide))
    return cards


async def _render_widget(kernel: Any, slug: str, widget: Any) -> Stat | Chart | None:
    # Contained like any runtime hook: a card that raises or times out is left out and
    # recorded as a failure of its plugin.
    render = guard_implementation(widget.render, plugin=slug,
                                  hook="register_dashboard_widgets", failures=kernel.failures,
                                  timeout=kernel.settings.hook_timeout, fail_closed=False)
    result = await render()
    return result if isinstance(result, Stat | Chart) else None


@get("/admin/", include_in_schema=False, guards=[tenant_member])
async def home(request: Request) -> Template:
    context = request_context(request)
    cards = await _core_cards(context.permissions) + await _plugin_cards(request)
    return page("core/home.html", cards=cards,
                stats=[c for c in cards if isinstance(c.content, Stat)],
                charts=[c for c in cards if isinstance(c.content, Chart)])


ROUTES = [home]
