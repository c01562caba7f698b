"""Tenant isolation, walked over every route the app has: core's and every installed plugin's.

Two tenants, A and B, with every plugin enabled, each get the same world through the API
(partners, customers, users, a role, an API token) plus each plugin's ``register_demo_data``.
Then tenant B, as each of its principals (admin, staff, a partner user bound to a partner, an
API token holding every permission), turns on A's records through every route of the running
app (``app.routes``: nothing here lists them):

* a route with a record id in its path, called with each of A's ids (read, change, delete),
  must answer exactly what it answers for an id that exists nowhere: 404, or 403 when the
  principal may not use the route at all; never a 2xx and never A's data;
* a list must not show A's rows or names, also when searched for A's names (``?q=``) or
  filtered by one of A's ids (``?customer_id=…``);
* a body naming one of A's records (``{"customer_id": …}``) is refused as if it named none;
* afterwards every GET route shows A exactly what it showed before.

Also: anonymous callers get 401 outside the public routes, a session without its CSRF token
gets 403 on every unsafe route, a platform operator gets 403 on every tenant route, tenant
principals get 403 on the operator's routes, and nothing answers 5xx.

How a route becomes walkable (plugin authors: the convention the walker relies on):

1. A record id in a path, ``/api/v1/<slug>/<things>/{thing_id}``, is filled with A's ids as
   listed by the collection before it, ``GET /api/v1/<slug>/<things>`` (a list, or an object
   with ``items``, of objects with an ``id``). Make the plugin's ``register_demo_data`` create
   at least one such record: the walker runs every plugin's seeder in both tenants. (Records
   that should carry the tenant's name, so that a leak on a page shows, go in
   ``WORLD_RECORDS``.)
2. Otherwise register the path up to the parameter in ``PATH_SAMPLES``: ``Owned`` (how to find
   a tenant's own values) or ``Shared`` (values naming what every tenant sees alike).
3. A body or query field ``<thing>_id`` must match the path parameter of some route (A's ids
   are taken from there) or be listed in ``REFERENCE_ALIASES``. A creating route whose body
   holds such a field needs a valid body in ``BODIES``.

A route the walker cannot fill fails every test here, saying which of these to do.
"""

from __future__ import annotations

import inspect
import itertools
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from jimu.web.guards import platform_operator
from jimu.web.request_scope import CSRF_EXEMPT, is_page_path
from jimu_sdk.context import platform as jimu_platform
from jimu_sdk.testing import TestPlatform, TestTenant
from litestar.routes import HTTPRoute

from tests.security import unwalkable_plugin

ROLES = ("admin", "staff", "partner", "token")
MISSING_ID = 2_000_000_000
"""An id no record has, within the database's integer range."""
PUBLIC = ("/", "/health", "/ready", "/api/v1/auth/login", "/login", "/account/language",
          "/{rest}", "/admin/{rest}", "/admin/p/{rest}", "/operator/{rest}", "/account/{rest}")
"""Routes (besides the API schema and static files) that answer without signing in;
``/{rest}`` is the 404 page of every address no route serves."""
ACCOUNT_PATHS = ("/account/password", "/account/language")
"""Pages about the signed-in person themself, the same for operators and tenant users."""
NOT_WALKED = ("/logout",)
"""Routes that would end the walker's own sessions (tested in tests/web)."""
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""Reads first, deletes last: a wrongly allowed delete must not hide a read leak."""


# ---------------------------------------------------------------------- registries


@dataclass(frozen=True)
class World:
    """What the setup created for one tenant."""

    tenant: TestTenant
    marker: str
    """Part of every name the tenant's records carry: it must never show to the other."""
    clients: dict[str, httpx.AsyncClient]


@dataclass(frozen=True)
class Owned:
    """A path parameter holding a tenant's own record; ``values`` finds the tenant's (it may
    be a coroutine function, to ask the tenant's clients)."""

    values: Callable[[World], list[Any] | Awaitable[list[Any]]]


@dataclass(frozen=True)
class Shared:
    """A path parameter naming something every tenant sees alike (a plugin, a region)."""

    values: Callable[[TestPlatform], list[Any]]


async def _audit_entry_ids(world: World) -> list[Any]:
    """The tenant's audit entries, as its admin lists them through the API."""
    return sorted(_ids(_json(await world.clients["admin"].get("/api/v1/audit"))))


async def _quotation_refs(world: World) -> list[Any]:
    """A quotation by its id and as its PDF and XLSX documents (``/api/v1/quotations/12.pdf``)."""
    listed = _json(await world.clients["admin"].get("/api/v1/quotations"))
    return [ref for qid in sorted(_ids(listed)) for ref in (qid, f"{qid}.pdf", f"{qid}.xlsx")]


def _codes_at(path: str) -> Callable[[World], Awaitable[list[Any]]]:
    """The tenant's own code among the records its admin lists at ``path`` (records keyed by
    a code that another tenant may use too, like tier ``A``: only the world's marker code is
    the tenant's alone)."""

    async def codes(world: World) -> list[Any]:
        listed = _json(await world.clients["admin"].get(path))
        items = listed["items"] if isinstance(listed, dict) else listed
        return sorted(item["code"] for item in items if item["code"].lower() == world.marker)

    return codes


async def _settled_work_orders(world: World) -> list[Any]:
    """The tenant's work orders whose revenue settlement booked (the enterprise's entries)."""
    listed = _json(await world.clients["admin"].get(
        "/api/v1/settlement/work-orders", params={"per_page": 500}))
    return sorted(row["work_order_id"] for row in listed["items"])


def _this_month(platform: TestPlatform) -> str:
    return f"{platform.clock.now().astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m}"


PATH_SAMPLES: dict[str, Owned | Shared] = {
    # Operators only: a tenant's own principals are refused whatever the id.
    "/api/v1/tenants/{tenant_id}": Owned(lambda world: [world.tenant.id]),
    "/api/v1/plugins/{slug}": Shared(lambda platform: sorted(platform.kernel.plugins.plugins)),
    "/api/v1/regions/{code}": Shared(lambda platform: ["310115", "999999"]),
    "/schema/{path}": Shared(lambda platform: ["swagger", "nothing-here"]),
    "/admin/plugins/{slug}": Shared(lambda platform: sorted(platform.kernel.plugins.plugins)),
    "/admin/templates/{key}": Shared(lambda platform: ["retail_distribution", "no-such"]),
    "/{rest}": Shared(lambda platform: ["no-such-page"]),
    "/admin/{rest}": Shared(lambda platform: ["no-such-page"]),
    "/admin/p/{rest}": Shared(lambda platform: ["no-such-plugin/"]),
    "/operator/{rest}": Shared(lambda platform: ["no-such-page"]),
    "/account/{rest}": Shared(lambda platform: ["no-such-page"]),
    "/admin/audit/{entry_id}": Owned(_audit_entry_ids),
    "/api/v1/quotations/{ref}": Owned(_quotation_refs),
    "/api/v1/price_tiers/tiers/{tier_code}": Owned(_codes_at("/api/v1/price_tiers/tiers")),
    "/api/v1/price_tiers/rule-sets/{rule_set_code}": Owned(
        _codes_at("/api/v1/price_tiers/rule-sets")),
    "/api/v1/price_factors/factors/{factor_code}": Owned(
        _codes_at("/api/v1/price_factors/factors")),
    # The wall is the list id (a tenant's own); any SKU under another tenant's list is 404.
    "/api/v1/price_lists/lists/{list_id}/entries/{sku}": Shared(
        lambda platform: ["TEA-500-CASE", "NO-SUCH-SKU"]),
    "/operator/tenants/{tenant_id}": Owned(lambda world: [world.tenant.id]),
    # Version numbers count per flow (1, 2, …): the wall is the flow id, a tenant's own.
    "/api/v1/flows/{flow_id}/versions/{version}": Shared(lambda platform: [1, 2]),
    "/admin/flows/{flow_id}/versions/{version}": Shared(lambda platform: [1, 2]),
    # Node types are what every tenant's plugins offer alike (the designer's palette).
    "/api/v1/flows/node-types/{key}": Shared(lambda platform: ["branch", "no-such-type"]),
    # Preset flows are what the work orders plugin ships to every tenant alike.
    "/api/v1/work_orders/presets/{preset_code}": Shared(
        lambda platform: ["wo-complaint", "no-such-preset"]),
    "/admin/p/work_orders/presets/{preset_code}": Shared(
        lambda platform: ["wo-complaint", "no-such-preset"]),
    # Settlement: every tenant has its own months of the same names; statement lines count
    # per statement (the wall is the statement id, a tenant's own).
    "/api/v1/settlement/periods/{period}": Shared(
        lambda platform: [_this_month(platform), "1999-01"]),
    "/admin/p/settlement/periods/{period}": Shared(
        lambda platform: [_this_month(platform), "1999-01"]),
    "/api/v1/settlement/statements/{statement_id}/lines/{line_no}": Shared(
        lambda platform: [1, 2]),
    "/admin/p/settlement/statements/{statement_id}/lines/{line_no}": Shared(
        lambda platform: [1, 2]),
    "/admin/p/settlement/statements/{statement_id}/{action}": Shared(
        lambda platform: ["confirm", "dispute", "pay", "no-such-action"]),
    "/api/v1/settlement/programmes/{programme_code}": Owned(
        _codes_at("/api/v1/settlement/programmes")),
    "/api/v1/settlement/split-rules/{rule_code}": Owned(
        _codes_at("/api/v1/settlement/split-rules")),
    "/api/v1/settlement/work-orders/{work_order_id}": Owned(_settled_work_orders),
}
"""Path parameters the collection convention cannot fill, keyed by the path up to and with
the parameter; an entry covers the routes below it (``/api/v1/plugins/{slug}/settings``)."""

REFERENCE_ALIASES = {"parent_id": "partner_id", "assignee_id": "user_id",
                     "installer_id": "partner_id", "dealer_id": "partner_id"}
"""Body and query fields holding a record id under another name than its path parameter."""

_serial = itertools.count(1)

WORLD_RECORDS: list[tuple[str, Callable[[World, dict[str, Any]], dict[str, Any]]]] = [
    ("/api/v1/followups/notes", lambda world, ids: {
        "customer_id": ids["customer_id"], "body": f"{world.marker} called, due today",
        "next_contact_on": ids["today"]}),
    # Records keyed by a code (unique per tenant, so the same code may exist in both): each
    # world's own code is its marker in capitals (an error echoing it is not a leak of the
    # lower-case marker), the only code the walker uses as the tenant's.
    ("/api/v1/price_tiers/tiers", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} tier", "rank": 1}),
    ("/api/v1/price_tiers/rule-sets", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} levels", "basis": "partner_level",
        "partner_kinds": ["agent"], "body": {level: world.marker.upper() for level in (
            "general_agent", "level1", "level2", "")}}),
    ("/api/v1/price_factors/factors", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} VAT", "kind": "tax",
        "enabled": False}),
    # The price lists seeder created the item; the quotation and the order are the dealer's.
    ("/api/v1/quotations", lambda world, ids: {
        "partner_id": ids["partner_id"], "lines": [{"item": "TEA-500-CASE", "quantity": "2"}],
        "note": f"{world.marker} quotation"}),
    ("/api/v1/quotations/orders", lambda world, ids: {
        "partner_id": ids["partner_id"], "lines": [{"item": "TEA-500-CASE", "quantity": "3"}],
        "note": f"{world.marker} order"}),
    # A flow of the tenant's own, published at once (the flow_nodes seeder added a demo flow
    # and a run of it).
    ("/api/v1/flows", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} flow", "publish": True,
        "graph": {"nodes": [{"id": "s", "type": "start"}, {"id": "e", "type": "end"}],
                  "edges": [{"source": "s", "target": "e"}]}}),
    # Work orders: one of the tenant's own for its dealer's customer (the work orders seeder
    # added teams, the repair flow and work orders with photos), and a saved filter of its
    # admin's.
    ("/api/v1/work_orders", lambda world, ids: {
        "title": f"{world.marker} work order", "type": "repair",
        "customer_id": ids["customer_id"], "partner_id": ids["partner_id"]}),
    ("/api/v1/work_orders/filters", lambda world, ids: {
        "name": f"{world.marker} filter", "query": {"customer_id": ids["customer_id"]}}),
    # SLA: a calendar and a policy of the tenant's own (the sla seeder added the demo ones;
    # the work orders it follows come from the work orders seeder's events).
    ("/api/v1/sla/calendars", lambda world, ids: {
        "name": f"{world.marker} calendar", "weekly_hours": {"mon": [["09:00", "18:00"]]}}),
    ("/api/v1/sla/policies", lambda world, ids: {
        "name": f"{world.marker} policy", "types": [world.marker], "response_minutes": 60}),
    # Settlement: a programme and a split rule of the tenant's own, its dealer's purchases
    # imported today and a run of this month, which makes the dealer's statement.
    ("/api/v1/settlement/programmes", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} share", "kind": "volume_share",
        "share_pct": "2", "region_codes": ["310000"]}),
    ("/api/v1/settlement/split-rules", lambda world, ids: {
        "code": world.marker.upper(), "name": f"{world.marker} rule", "role": "dealer",
        "component": f"fee:{world.marker}", "value": "5"}),
    ("/api/v1/settlement/imports", lambda world, ids: {
        "label": f"{world.marker} import", "rows": [{
            "partner": f"{world.marker}-HQ", "date": ids["today"], "ref": f"{world.marker}-1",
            "item": "TEA-500-CASE", "quantity": "10", "amount": "470.40"}]}),
    ("/api/v1/settlement/periods/{period}/runs", lambda world, ids: {}),
]
"""Plugin records created through their API in both tenants (skipped when the plugin is not
installed), carrying the tenant's marker so that a leak shows on any page. ``ids`` has the
tenant's ``customer_id``, ``partner_id``, ``today`` (in the tenant's timezone) and ``period``
(this month), and fills the paths (``/periods/{period}/runs``)."""

BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "POST /api/v1/customers": lambda: {"name": f"probe {next(_serial)}"},
    "POST /api/v1/partners": lambda: {"code": f"PROBE-{next(_serial)}", "name": "probe"},
    "POST /api/v1/users": lambda: {"username": f"probe-{next(_serial)}", "role": "partner",
                                   "password": "probe-password"},
    "POST /api/v1/flow-runs/{run_id}/actions": lambda: {"action": "submit"},
    "POST /api/v1/priority_rules/try": lambda: {"amount": "6000"},
    "POST /api/v1/flows/{flow_id}/migrate": lambda: {"to_version": 1},
    "PUT /api/v1/flows/{flow_id}/draft": lambda: {"graph": {"nodes": [], "edges": []}},
    "POST /api/v1/pricing/quote": lambda: {"item": "labour-hour"},
    "POST /api/v1/pricing/lines": lambda: {"lines": [{"item": "labour-hour"}]},
    "POST /api/v1/followups/notes": lambda: {"body": "probe"},
    # Pricing plugins: whole-record replacements, so each lookup is reached with a valid body.
    "PUT /api/v1/price_lists/items/{item_id}": lambda: {
        "sku": f"PROBE-{next(_serial)}", "name": "probe", "list_price": "1"},
    "POST /admin/p/price_lists/items/{item_id}": lambda: {
        "sku": f"PROBE-{next(_serial)}", "name": "probe", "list_price": "1", "unit": "件",
        "kind": "product", "currency": "CNY", "tax_rate": "0.13"},
    "PUT /api/v1/price_lists/lists/{list_id}": lambda: {"code": f"PL{next(_serial)}",
                                                         "name": "probe"},
    "PUT /api/v1/price_lists/lists/{list_id}/entries": lambda: {"sku": "TEA-500-CASE",
                                                                 "price": "1"},
    "PUT /api/v1/price_lists/rules/{rule_id}": lambda: {
        "code": f"PROBE-{next(_serial)}", "kind": "discount", "scope": "all", "value": "1"},
    "POST /admin/p/price_lists/rules/{rule_id}": lambda: {
        "code": f"PROBE-{next(_serial)}", "kind": "discount", "scope": "all", "value": "1",
        "base": "list_price", "priority": "0"},
    "PUT /api/v1/price_factors/factors/{factor_code}": lambda: {"name": "probe", "kind": "tax"},
    "PUT /api/v1/price_tiers/tiers/{tier_code}": lambda: {"name": "probe", "rank": 2},
    "PUT /api/v1/price_tiers/rule-sets/{rule_set_code}": lambda: {
        "name": "probe", "basis": "partner_level", "partner_kinds": ["agent"],
        "body": {level: "BRAVOCO" for level in ("general_agent", "level1", "level2", "")}},
    "POST /api/v1/price_tiers/assignments": lambda: {"partner_id": 1, "tier": "ALPHACO"},
    "POST /api/v1/regional_pricing/store-locations": lambda: {
        "partner_id": 1, "lng": "121.5", "lat": "31.2"},
    "POST /api/v1/quotations": lambda: {"partner_id": 1, "customer_id": 1,
                                        "lines": [{"item": "TEA-500-CASE", "quantity": "1"}]},
    "POST /api/v1/quotations/preview": lambda: {
        "partner_id": 1, "customer_id": 1, "lines": [{"item": "TEA-500-CASE", "quantity": "1"}]},
    "POST /api/v1/quotations/orders": lambda: {
        "partner_id": 1, "customer_id": 1, "lines": [{"item": "TEA-500-CASE", "quantity": "1"}]},
    "PUT /api/v1/quotations/{quotation_id}": lambda: {
        "lines": [{"item": "TEA-500-CASE", "quantity": "1"}]},
    "PUT /api/v1/regional_pricing/zones/{zone_id}": lambda: {
        "name": "probe", "kind": "group", "region_codes": ["110000"]},
    "PUT /api/v1/regional_pricing/parameters/{parameter_id}": lambda: {
        "target": "650000", "price_adjust_pct": "1"},
    "PUT /api/v1/regional_pricing/store-locations/{location_id}": lambda: {
        "partner_id": 1, "lng": "121.5", "lat": "31.2"},
    "POST /api/v1/sla/calendars": lambda: {"name": f"probe {next(_serial)}",
                                           "weekly_hours": {"mon": [["09:00", "18:00"]]}},
    "PUT /api/v1/sla/calendars/{calendar_id}": lambda: {
        "name": f"probe {next(_serial)}", "weekly_hours": {"mon": [["09:00", "18:00"]]}},
    "PUT /api/v1/sla/calendars/{calendar_id}/days": lambda: {"year": 2026, "days": []},
    "POST /api/v1/sla/calendars/{calendar_id}/china-holidays": lambda: {"year": 2026},
    "POST /api/v1/sla/policies": lambda: {"name": f"probe {next(_serial)}",
                                          "response_minutes": 60},
    "PUT /api/v1/sla/policies/{policy_id}": lambda: {"name": f"probe {next(_serial)}",
                                                     "response_minutes": 60},
    "POST /api/v1/work_orders": lambda: {"title": "probe", "type": "repair"},
    "POST /api/v1/work_orders/bulk": lambda: {"action": "set_priority", "ids": [MISSING_ID],
                                              "priority": "high"},
    "POST /api/v1/work_orders/{work_order_id}/actions": lambda: {"action": "submit"},
    "POST /api/v1/work_orders/{work_order_id}/comments": lambda: {"body": "probe"},
    "PUT /api/v1/work_orders/teams/{team_id}": lambda: {"name": f"probe {next(_serial)}"},
    "PUT /api/v1/work_orders/filters/{filter_id}": lambda: {"name": f"probe {next(_serial)}"},
    "PUT /api/v1/settlement/programmes/{programme_code}": lambda: {
        "code": "PROBE", "name": "probe", "kind": "volume_share", "share_pct": "1"},
    "PUT /api/v1/settlement/split-rules/{rule_code}": lambda: {
        "code": "PROBE", "name": "probe", "component": "fee:probe", "role": "dealer",
        "value": "1"},
    "POST /api/v1/settlement/work-orders/{work_order_id}/recompute": lambda: {
        "reason": "probe"},
    "POST /api/v1/settlement/work-orders/{work_order_id}/adjustments": lambda: {
        "reason": "probe", "lines": [{"title": "probe", "amount": "1"}]},
    "PUT /api/v1/settlement/targets": lambda: {"period": "2026-11", "value": "10"},
}
"""Valid bodies for writing routes, before the walker adds a record reference; a route
missing here is sent ``{}`` if it takes a body."""


# ---------------------------------------------------------------------- the app's routes


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """The route's ``path_format``: ``/api/v1/customers/{customer_id}``."""
    params: tuple[str, ...]
    handler: Any = field(compare=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def operator_only(self) -> bool:
        return any(platform_operator in (layer.guards or [])
                   for layer in self.handler.ownership_layers)

    @property
    def public(self) -> bool:
        return self.path in PUBLIC or self.path.startswith(("/schema", "/static/"))

    @property
    def page(self) -> bool:
        """An admin page: it answers HTML, and sends anonymous callers to the sign-in page."""
        return is_page_path(self.path)

    def arguments(self) -> dict[str, Any]:
        return dict(self.handler.parsed_fn_signature.parameters)

    def sample_key(self, param: str) -> str:
        return self.path[:self.path.index("{" + param + "}") + len(param) + 2]

    def sample(self, param: str) -> Owned | Shared | None:
        return PATH_SAMPLES.get(self.sample_key(param))

    def fill(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), self.path)

    def body(self) -> dict[str, Any] | None:
        factory = BODIES.get(self.label)
        if factory is not None:
            return factory()
        return {} if "data" in self.arguments() else None


def endpoints(app: Any) -> list[Endpoint]:
    """Every route handler of the app, one per method (litestar's OPTIONS/HEAD left out).

    Static files (the same for everyone, answered without a session) are left out.
    """
    found = []
    for route in app.routes:
        if (isinstance(route, HTTPRoute) and not route.path_format.startswith("/static/")
                and route.path_format not in NOT_WALKED):
            for handler in route.route_handlers:
                for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                    found.append(Endpoint(method, route.path_format,
                                          tuple(route.path_parameters), handler))
    return sorted(found, key=lambda e: (METHOD_ORDER.index(e.method), e.path))


def _ids(body: Any) -> set[Any]:
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return set()
    return {item["id"] for item in items if isinstance(item, dict) and "id" in item}


def _json(response: httpx.Response) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    return response.json()


def _error(response: httpx.Response) -> str | None:
    body = _json(response)
    return body.get("error") if isinstance(body, dict) else None


def _mentions_int(annotation: Any) -> bool:
    return annotation is int or any(_mentions_int(a) for a in typing.get_args(annotation))


def _body_references(endpoint: Endpoint) -> list[str]:
    """The ``*_id`` fields of the route's body."""
    data = endpoint.arguments().get("data")
    if data is None:
        return []
    structs = [t for t in (data.annotation, *typing.get_args(data.annotation))
               if isinstance(t, type) and issubclass(t, msgspec.Struct)]
    return [f.name for struct in structs for f in msgspec.structs.fields(struct)
            if f.name.endswith("_id") and _mentions_int(f.type)]


def _query_references(endpoint: Endpoint) -> list[str]:
    return [name for name, argument in endpoint.arguments().items()
            if name.endswith("_id") and name not in endpoint.params
            and _mentions_int(argument.annotation)]


# ---------------------------------------------------------------------- the two worlds


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), f"setting up: {path} {response.text}"
    return response.json()  # type: ignore[no-any-return]


async def build_world(platform: TestPlatform, marker: str, paths: set[str]) -> World:
    """A tenant with all plugins, some of every record, and a client for each principal."""
    tenant = await platform.make_tenant(marker, plugins=sorted(platform.kernel.plugins.plugins))
    admin = await platform.login(tenant.admin_username)
    dealer = await _post(admin, "/api/v1/partners", {
        "code": f"{marker}-HQ", "name": f"{marker} dealer", "level": "general_agent",
        "region_code": "310115", "contact_phone": "13800138000"})
    await _post(admin, "/api/v1/partners", {"code": f"{marker}-STORE", "name": f"{marker} store",
                                            "kind": "store", "parent_id": dealer["id"]})
    customer = await _post(admin, "/api/v1/customers", {
        "name": f"{marker} customer", "level": "gold", "phone": "13900139000",
        "email": f"{marker}@x.cn", "partner_id": dealer["id"]})
    await _post(admin, "/api/v1/customers", {"name": f"{marker} walk-in"})
    await _post(admin, "/api/v1/roles", {"name": f"{marker}_auditor", "title_zh": marker,
                                         "title_en": marker, "permissions": ["audit.read"]})
    await _post(admin, "/api/v1/users", {"username": f"{marker}-staff", "role": "staff",
                                         "password": tenant.password})
    await _post(admin, "/api/v1/users", {"username": f"{marker}-dealer", "role": "partner",
                                         "partner_id": dealer["id"], "password": tenant.password})
    everything = (await admin.get("/api/v1/auth/me")).json()["permissions"]
    token = await _post(admin, "/api/v1/tokens", {"name": f"{marker} token",
                                                  "scopes": everything})
    async with platform.as_tenant(tenant):
        for _, plugin in sorted(platform.kernel.plugins.plugins.items()):
            seeder = plugin.contributions.get("register_demo_data")
            if seeder is not None:
                result = seeder(tenant.id)
                if inspect.isawaitable(result):
                    await result
        # Each person's inbox is their own: the admin gets a notification carrying the marker.
        admins = await jimu_platform().list_users(role="admin")
        await jimu_platform().notify([u["id"] for u in admins], f"{marker} notice",
                                     body=f"{marker} body", link="/admin/")
    world = World(tenant=tenant, marker=marker, clients={
        "admin": admin,
        "staff": await platform.login(f"{marker}-staff"),
        "partner": await platform.login(f"{marker}-dealer"),
        "token": platform.token_client(token["token"]),
    })
    today = platform.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    ids = {"customer_id": customer["id"], "partner_id": dealer["id"], "today": today,
           "period": today[:7]}
    for path, body in WORLD_RECORDS:
        if path in paths:
            await _post(admin, path.format(**ids), body(world, ids))
    await platform.run_jobs()
    return world


# ---------------------------------------------------------------------- the walk


class Walk:
    """Tenants A and B, the app's routes, and the values that fill their path parameters."""

    def __init__(self, platform: TestPlatform, a: World, b: World) -> None:
        self.platform = platform
        self.routes = endpoints(platform.app)
        self.a, self.b = a, b
        self.problems: list[str] = []

    @classmethod
    async def start(cls, platform: TestPlatform) -> Walk:
        platform.clock.freeze(platform.clock.now())  # snapshots must not drift with time
        paths = {e.path for e in endpoints(platform.app)}
        walk = cls(platform, await build_world(platform, "alphaco", paths),
                   await build_world(platform, "bravoco", paths))
        walk.owned = await walk.owned_values(walk.a)
        walk.b_owned = await walk.owned_values(walk.b)
        return walk

    # ------------------------------------------------------------------ values

    async def owned_values(self, world: World) -> dict[str, list[Any]]:
        """The tenant's ids for every record-id path parameter; fails for what it cannot
        fill, telling the route's author what to do."""
        values: dict[str, list[Any]] = {}
        problems = []
        # API collections list ids as JSON; a page with the same parameter (/admin/customers/
        # {customer_id}) takes the ids found there.
        for endpoint in sorted(self.routes, key=lambda e: not e.path.startswith("/api/")):
            for param in endpoint.params:
                sample = endpoint.sample(param)
                if isinstance(sample, Shared) or param in values:
                    continue
                if isinstance(sample, Owned):
                    found = sample.values(world)
                    values[param] = await found if inspect.isawaitable(found) else found
                    continue
                key = endpoint.sample_key(param)
                collection = key.rsplit("/", 1)[0]
                listed: set[Any] = set()
                if "{" not in collection:
                    listed = _ids(_json(await world.clients["admin"].get(collection)))
                if listed:
                    values[param] = sorted(listed)
                else:
                    problems.append(
                        f"{endpoint.label}: the walker cannot fill {{{param}}}: GET "
                        f"{collection} lists no record with an 'id' for a tenant admin. Make "
                        f"the plugin's register_demo_data create one, or register {key!r} in "
                        f"PATH_SAMPLES ({__name__}) as Owned(...) or Shared(...).")
        assert not problems, "\n".join(problems)
        return values

    def shared(self, endpoint: Endpoint, param: str) -> list[Any]:
        sample = endpoint.sample(param)
        assert isinstance(sample, Shared)
        return sample.values(self.platform)

    def references(self, endpoint: Endpoint, name: str) -> list[Any]:
        key = REFERENCE_ALIASES.get(name, name)
        assert key in self.owned, (
            f"{endpoint.label}: {name!r} looks like a record reference, but no route has a "
            f"path parameter {{{key}}} to take tenant A's ids from; map it to the path "
            f"parameter it refers to in REFERENCE_ALIASES ({__name__})")
        return self.owned[key]

    def any_path(self, endpoint: Endpoint) -> str:
        return endpoint.fill({p: self.owned[p][0] if p in self.owned
                              else self.shared(endpoint, p)[0] for p in endpoint.params})

    # ------------------------------------------------------------------ checks

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(message)

    def answered(self, who: str, method: str, path: str, response: httpx.Response,
                 echo: str | None = None) -> None:
        """Every answer: never a 5xx, never tenant A's data (unless A asked).

        ``echo``: a search term a page shows back in its search field, which is not a leak.
        """
        self.check(response.status_code < 500,
                   f"{who}: {method} {path} answered {response.status_code}: {response.text}")
        text = response.text.replace(f'value="{echo}"', "") if echo else response.text
        self.check(self.a.marker not in text,
                   f"{who}: {method} {path} shows tenant A's data: {response.text}")

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} problem(s):\n" + "\n".join(
            self.problems)

    async def snapshot(self) -> dict[str, str]:
        """What A's admin reads through every GET route, on each of A's records."""
        seen = {}
        for endpoint in self.routes:
            if endpoint.method != "GET" or endpoint.public:
                continue
            choices = [self.owned.get(p) or self.shared(endpoint, p) for p in endpoint.params]
            for combination in itertools.product(*choices):
                path = endpoint.fill(dict(zip(endpoint.params, combination, strict=True)))
                response = await self.a.clients["admin"].get(path)
                body = _json(response)
                if isinstance(body, dict):
                    body.pop("request_id", None)  # differs on every call
                # Error pages quote their request id, which differs on every call.
                text = re.sub(r"\b[0-9a-f]{32}\b", "<id>", response.text)
                seen[path] = f"{response.status_code} {body if body else text}"
        return seen

    # ------------------------------------------------------------------ B against A

    async def records_in_paths(self) -> None:
        """B, as each principal, on each of A's records: the answer for a missing id."""
        for endpoint in self.routes:
            for param in (p for p in endpoint.params if p in self.owned):
                others = {p: self.owned[p][0] if p in self.owned else self.shared(endpoint, p)[0]
                          for p in endpoint.params if p != param}
                for role in ROLES:
                    await self._record_in_path(endpoint, param, others, role)

    async def _record_in_path(self, endpoint: Endpoint, param: str, others: dict[str, Any],
                              role: str) -> None:
        client, who = self.b.clients[role], f"tenant B's {role}"
        missing_path = endpoint.fill({**others, param: MISSING_ID})
        missing = await client.request(endpoint.method, missing_path, json=endpoint.body())
        self.answered(who, endpoint.method, missing_path, missing)
        if role in ("admin", "token"):  # they hold every permission
            self.check(missing.status_code == (403 if endpoint.operator_only else 404), (
                f"{who}: {endpoint.method} {missing_path} answered {missing.status_code} for "
                f"an id that exists nowhere, not 404: the walk does not reach the lookup. "
                f"Register a valid body for {endpoint.label!r} in BODIES ({__name__}). "
                f"{missing.text}"))
        for value in self.owned[param]:
            path = endpoint.fill({**others, param: value})
            response = await client.request(endpoint.method, path, json=endpoint.body())
            self.answered(who, endpoint.method, path, response)
            self.check(not 200 <= response.status_code < 300, (
                f"{who}: {endpoint.method} {path} on tenant A's {param} {value} answered "
                f"{response.status_code}: {response.text}"))
            self.check((response.status_code, _error(response))
                       == (missing.status_code, _error(missing)), (
                f"{who}: {endpoint.method} {path} on tenant A's {param} {value} answered "
                f"{response.status_code} {_error(response)}, but {missing.status_code} "
                f"{_error(missing)} for an id that exists nowhere: another tenant's record "
                f"must look exactly like a missing one (404)"))

    async def lists(self) -> None:
        """B's lists show none of A's rows: plain, searched for A's names, filtered by A's
        ids."""
        for endpoint in self.routes:
            if endpoint.method != "GET" or endpoint.params or endpoint.public:
                continue
            a_ids = _ids(_json(await self.a.clients["admin"].get(endpoint.path)))
            queries: list[dict[str, Any]] = [{}]
            if "q" in endpoint.arguments():
                queries.append({"q": self.a.marker})
            for name in _query_references(endpoint):
                queries += [{name: value} for value in self.references(endpoint, name)]
            for role, query in itertools.product(ROLES, queries):
                response = await self.b.clients[role].get(endpoint.path, params=query)
                shown = f"{endpoint.path}?{httpx.QueryParams(query)}"
                self.answered(f"tenant B's {role}", "GET", shown, response,
                              echo=query.get("q") if endpoint.page else None)
                leaked = a_ids & _ids(_json(response)) if response.status_code == 200 else set()
                self.check(not leaked, f"tenant B's {role}: GET {shown} lists tenant A's "
                                       f"records {sorted(leaked)}")

    async def references_in_bodies(self) -> None:
        """A body naming one of A's records is refused as one naming a missing record."""
        for endpoint in self.routes:
            names = _body_references(endpoint)
            if not names or endpoint.operator_only:
                continue
            if not endpoint.params:
                self.check(endpoint.label in BODIES, (
                    f"{endpoint.label}: its body refers to records ({', '.join(names)}); "
                    f"register a valid body in BODIES ({__name__}) so that the walker can "
                    f"put tenant A's ids in it"))
            if any(p not in self.b_owned for p in endpoint.params):
                continue
            path = endpoint.fill({p: self.b_owned[p][0] for p in endpoint.params})
            for role, name in itertools.product(("admin", "partner", "token"), names):
                client, who = self.b.clients[role], f"tenant B's {role}"
                missing = await client.request(endpoint.method, path,
                                               json={**(endpoint.body() or {}),
                                                     name: MISSING_ID})
                self.answered(who, endpoint.method, path, missing)
                for value in self.references(endpoint, name):
                    response = await client.request(endpoint.method, path,
                                                    json={**(endpoint.body() or {}),
                                                          name: value})
                    self.answered(who, endpoint.method, path, response)
                    self.check(not 200 <= response.status_code < 300, (
                        f"{who}: {endpoint.method} {path} naming tenant A's {name} {value} "
                        f"answered {response.status_code}: {response.text}"))
                    self.check(response.status_code == missing.status_code, (
                        f"{who}: {endpoint.method} {path} naming tenant A's {name} {value} "
                        f"answered {response.status_code}, but {missing.status_code} naming "
                        f"a record that exists nowhere"))

    async def shared_things(self) -> None:
        """Routes on what every tenant shares (plugins, regions): B acts for itself only (the
        snapshot shows whether A was touched) and never sees A's data."""
        for endpoint in self.routes:
            if not endpoint.params or any(not isinstance(endpoint.sample(p), Shared)
                                          for p in endpoint.params):
                continue
            choices = [self.shared(endpoint, p) for p in endpoint.params]
            for role, combination in itertools.product(ROLES, itertools.product(*choices)):
                path = endpoint.fill(dict(zip(endpoint.params, combination, strict=True)))
                response = await self.b.clients[role].request(endpoint.method, path,
                                                              json=endpoint.body())
                self.answered(f"tenant B's {role}", endpoint.method, path, response)


# ---------------------------------------------------------------------- the tests


async def test_another_tenants_records_look_missing_to_every_principal(jimu_platform):
    walk = await Walk.start(jimu_platform)
    before = await walk.snapshot()
    await walk.records_in_paths()
    await walk.lists()
    await walk.references_in_bodies()
    await walk.shared_things()
    await jimu_platform.run_jobs()
    after = await walk.snapshot()
    changed = sorted(path for path in before if before[path] != after.get(path))
    walk.check(not changed, f"tenant B changed what tenant A sees at {changed}")
    walk.assert_clean()


async def test_the_walk_reaches_plugin_routes_and_own_records(jimu_platform):
    """The walk means something: every plugin's routes are in it, and a tenant's admin reads
    its own records through every read route that the walk probes with the other's ids."""
    walk = await Walk.start(jimu_platform)
    for slug, plugin in jimu_platform.kernel.plugins.plugins.items():
        if plugin.contributed("register_routes", []):
            walk.check(any(e.path.startswith(f"/api/v1/{slug}/") for e in walk.routes),
                       f"the routes of plugin {slug} are not walked")
    for endpoint in walk.routes:
        if endpoint.method != "GET" or not endpoint.params or endpoint.operator_only \
                or any(p not in walk.b_owned for p in endpoint.params):
            continue
        path = endpoint.fill({p: walk.b_owned[p][0] for p in endpoint.params})
        response = await walk.b.clients["admin"].get(path)
        walk.check(response.status_code == 200,
                   f"tenant B's admin: GET {path} on its own record answered "
                   f"{response.status_code}: {response.text}")
    walk.assert_clean()


async def test_a_route_the_walker_cannot_fill_fails_loudly(jimu_platform_factory):
    platform = await jimu_platform_factory(plugins=[unwalkable_plugin])
    platform.kernel.db.activate()
    with pytest.raises(AssertionError) as failure:
        await Walk.start(platform)
    message = str(failure.value)
    assert "GET /api/v1/unwalkable/widgets/{widget_id}" in message
    assert "register_demo_data" in message and "PATH_SAMPLES" in message


async def test_anonymous_callers_get_401_outside_public_routes(jimu_platform):
    walk = await Walk.start(jimu_platform)
    anonymous = jimu_platform.client()
    for endpoint in walk.routes:
        path = walk.any_path(endpoint)
        response = await anonymous.request(endpoint.method, path, json=endpoint.body())
        walk.answered("anonymous", endpoint.method, path, response)
        refused = (response.status_code == 303
                   and response.headers.get("location", "").startswith("/login?next=")
                   if endpoint.page else response.status_code == 401)
        walk.check(endpoint.public or refused,
                   f"anonymous: {endpoint.method} {path} answered {response.status_code}, "
                   f"not {'a redirect to /login' if endpoint.page else '401'}: "
                   f"{response.text}")
    walk.assert_clean()


async def test_unsafe_calls_without_the_csrf_token_get_403(jimu_platform):
    walk = await Walk.start(jimu_platform)
    before = await walk.snapshot()
    for endpoint in walk.routes:
        if endpoint.method == "GET" or endpoint.path in CSRF_EXEMPT:
            continue
        path = walk.any_path(endpoint)
        response = await walk.a.clients["admin"].request(
            endpoint.method, path, json=endpoint.body(), headers={"X-CSRF-Token": "forged"})
        walk.check(response.status_code == 403 and "csrf" in response.text.lower(),
                   f"a session with a wrong CSRF token: {endpoint.method} {path} answered "
                   f"{response.status_code}, not 403: {response.text}")
    walk.check(before == await walk.snapshot(), "a call without its CSRF token changed data")
    walk.assert_clean()


async def test_operators_and_tenants_stay_on_their_side(jimu_platform):
    walk = await Walk.start(jimu_platform)
    await jimu_platform.make_user(None, "iso-operator")
    operator = await jimu_platform.login("iso-operator")
    listing = await operator.get("/api/v1/tenants")
    walk.check(listing.status_code == 200
               and {walk.a.tenant.id, walk.b.tenant.id} <= _ids(listing.json()),
               f"the operator lists the tenants: {listing.text}")
    for endpoint in walk.routes:
        if (endpoint.public or endpoint.path.startswith("/api/v1/auth/")
                or endpoint.path in ACCOUNT_PATHS):
            continue
        path = walk.any_path(endpoint)
        if endpoint.operator_only:
            for role in ROLES:
                response = await walk.b.clients[role].request(endpoint.method, path,
                                                              json=endpoint.body())
                walk.answered(f"tenant B's {role}", endpoint.method, path, response)
                walk.check(response.status_code == 403,
                           f"tenant B's {role}: {endpoint.method} {path} (operators only) "
                           f"answered {response.status_code}, not 403: {response.text}")
            continue
        response = await operator.request(endpoint.method, path, json=endpoint.body())
        walk.answered("the operator", endpoint.method, path, response)
        walk.check(response.status_code == 403,
                   f"the operator: {endpoint.method} {path} (a tenant route) answered "
                   f"{response.status_code}, not 403: {response.text}")
    walk.assert_clean()
