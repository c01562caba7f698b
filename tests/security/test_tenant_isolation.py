"""Tenant isolation, walked over every route the app has: core's and every installed plugin's.

Two tenants, A and B, with every plugin enabled, each get the same world through the API
(partners, customers, users, a role, an API token) plus each plugin's ``register_demo_data``.
Then tenant B, as each of its principals (admin, staff, a partner user bound to a partner, an
API token holding every permission), turns on A's records through every route the app has at
run time (``app.routes``, nothing hard-coded):

* a route with a record id in its path, called with each of A's ids (read, change, delete),
  must answer exactly what it answers for an id that exists nowhere: 404, or 403 when the
  principal may not use the route at all, never a 2xx and never A's data;
* a list must not show A's rows (nor A's names, searched with ``?q=``), also when filtered by
  one of A's ids (``?customer_id=…``);
* a body naming one of A's records (``{"customer_id": …}``) must be refused;
* afterwards A's records, settings and plugins are exactly as before.

Also: anonymous callers get 401 outside the public routes, a session without its CSRF token
gets 403 on every unsafe route, a platform operator gets 403 on every tenant route and tenant
principals get 403 on the operator's routes, and nothing answers 5xx.

How a route becomes walkable (plugin authors: this is the convention the walker relies on):

1. A record id in a path, ``/api/v1/<slug>/<things>/{thing_id}``, is filled with A's ids as
   listed by the collection before it, ``GET /api/v1/<slug>/<things>`` (a list, or an object
   with ``items``; each item with an ``id``). Make your plugin's ``register_demo_data`` create
   at least one such record (the walker runs every plugin's seeder in both tenants).
2. Otherwise add the path pattern to ``PATH_SAMPLES``: ``Owned`` (how to find tenant A's
   values) or ``Shared`` (values that name something every tenant sees alike, e.g. a plugin).
3. A body or query field ``<thing>_id`` must name a path parameter of some route (its values
   are A's ids), or an entry of ``REFERENCE_ALIASES``; a writing route whose body holds such a
   field needs a valid body in ``BODIES``.

A route the walker cannot fill fails the test with a message saying which of these to do.
"""

from __future__ import annotations

import itertools
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
from litestar.routes import HTTPRoute

from jimu.jobs import await_maybe
from jimu.web.guards import platform_operator
from jimu.web.request_scope import CSRF_EXEMPT
from jimu_sdk.testing import TestPlatform, TestTenant

ROLES = ("admin", "staff", "partner", "token")
MISSING_ID = 2_000_000_000
"""An id no record has (and that fits the database's integer columns)."""
SKIPPED_METHODS = {"OPTIONS", "HEAD"}
PUBLIC = ("/", "/health", "/ready", "/schema", "/api/v1/auth/login")
"""Paths (and what is under ``/schema``) that answer without signing in."""
READ_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------------- registries


@dataclass(frozen=True)
class World:
    """What the setup created for one tenant."""

    tenant: TestTenant
    marker: str
    """Part of every name the tenant's records carry: it must never show up for the other."""
    clients: dict[str, httpx.AsyncClient]
    partner_id: int


@dataclass(frozen=True)
class Owned:
    """A path parameter holding a tenant's record; ``values`` finds the tenant's own."""

    values: Callable[[World], list[Any]]


@dataclass(frozen=True)
class Shared:
    """A path parameter naming something every tenant sees alike (a plugin, a region)."""

    values: Callable[[TestPlatform], list[Any]]


PATH_SAMPLES: dict[str, Owned | Shared] = {
    # Operator-only: a tenant's own principals are refused whatever the id.
    "/api/v1/tenants/{tenant_id}": Owned(lambda world: [world.tenant.id]),
    "/api/v1/plugins/{slug}": Shared(lambda platform: sorted(platform.kernel.plugins.plugins)),
    "/api/v1/regions/{code}": Shared(lambda platform: ["310115", "999999"]),
    "/schema/{path}": Shared(lambda platform: ["swagger", "nothing-here"]),
}
"""Path parameters the collection convention cannot fill, keyed by the path up to the
parameter (it covers the routes below it too, e.g. ``/api/v1/plugins/{slug}/settings``)."""

REFERENCE_ALIASES = {"parent_id": "partner_id"}
"""Body and query fields that hold a record id under another name than its path parameter."""

_serial = itertools.count(1)

BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "POST /api/v1/customers": lambda: {"name": f"probe customer {next(_serial)}"},
    "POST /api/v1/partners": lambda: {"code": f"PROBE-{next(_serial)}", "name": "probe"},
    "POST /api/v1/users": lambda: {"username": f"probe-{next(_serial)}",
                                   "password": "probe-password", "role": "partner"},
    "POST /api/v1/pricing/quote": lambda: {"item": "labour-hour"},
    "POST /api/v1/followups/notes": lambda: {"body": "probe"},
    "PUT /api/v1/plugins/{slug}/settings": lambda: {},
}
"""Valid bodies for writing routes (record references are added by the walker). A writing
route with a reference field and no entry here fails the test; others get ``{}``."""


# ---------------------------------------------------------------------- the app's routes


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """``path_format``: ``/api/v1/customers/{customer_id}``."""
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
        return self.path in PUBLIC or self.path.startswith("/schema")

    def arguments(self) -> dict[str, Any]:
        return dict(self.handler.parsed_fn_signature.parameters)

    def fill(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), self.path)


def endpoints(app: Any) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - SKIPPED_METHODS):
                found.append(Endpoint(method, route.path_format,
                                      tuple(route.path_parameters), handler))
    return sorted(found, key=lambda e: (READ_ORDER.index(e.method), e.path))


def _sample_for(endpoint: Endpoint, param: str) -> tuple[str, Owned | Shared | None]:
    prefix = endpoint.path[:endpoint.path.index("{" + param + "}") + len(param) + 2]
    return prefix, PATH_SAMPLES.get(prefix)


def _ids(body: Any) -> list[Any]:
    items = body.get("items") if isinstance(body, dict) else body
    return [item["id"] for item in items if isinstance(item, dict) and "id" in item] \
        if isinstance(items, list) else []


def _mentions_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_mentions_int(arg) for arg in typing.get_args(annotation))


def _body_references(endpoint: Endpoint) -> list[str]:
    """``*_id`` fields of the route's body struct."""
    data = endpoint.arguments().get("data")
    if data is None:
        return []
    types = [t for t in (data.annotation, *typing.get_args(data.annotation))
             if isinstance(t, type) and issubclass(t, msgspec.Struct)]
    return [f.name for t in types for f in msgspec.structs.fields(t)
            if f.name.endswith("_id") and _mentions_int(f.type)]


def _query_references(endpoint: Endpoint) -> list[str]:
    return [name for name, parameter in endpoint.arguments().items()
            if name.endswith("_id") and name not in endpoint.params
            and _mentions_int(parameter.annotation)]


# ---------------------------------------------------------------------- the two worlds


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), f"setting up: {path} {response.text}"
    return response.json()  # type: ignore[no-any-return]


async def build_world(platform: TestPlatform, marker: str) -> World:
    tenant = await platform.make_tenant(marker, plugins=sorted(platform.kernel.plugins.plugins))
    admin = await platform.login(tenant.admin_username)
    dealer = await _post(admin, "/api/v1/partners", {
        "code": f"{marker}-HQ", "name": f"{marker} dealer", "level": "general_agent",
        "region_code": "310115", "contact_phone": "13800138000"})
    await _post(admin, "/api/v1/partners", {"code": f"{marker}-STORE", "name": f"{marker} store",
                                            "kind": "store", "parent_id": dealer["id"]})
    await _post(admin, "/api/v1/customers", {"name": f"{marker} customer", "level": "gold",
                                             "phone": "13900139000",
                                             "partner_id": dealer["id"]})
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
                await await_maybe(seeder(tenant.id))
    await platform.run_jobs()
    clients = {"admin": admin,
               "staff": await platform.login(f"{marker}-staff"),
               "partner": await platform.login(f"{marker}-dealer"),
               "token": platform.token_client(token["token"])}
    return World(tenant=tenant, marker=marker, clients=clients, partner_id=dealer["id"])


async def owned_values(platform: TestPlatform, world: World, routes: list[Endpoint]
                       ) -> dict[str, list[Any]]:
    """Every record-id path parameter, with the world's ids; fails for what it cannot fill."""
    admin = world.clients["admin"]
    values: dict[str, list[Any]] = {}
    problems = []
    for endpoint in routes:
        for param in endpoint.params:
            prefix, sample = _sample_for(endpoint, param)
            if isinstance(sample, Shared) or param in values:
                continue
            if isinstance(sample, Owned):
                values[param] = sample.values(world)
                continue
            collection = prefix.rsplit("/", 1)[0]
            listed: list[Any] = []
            if "{" not in collection:
                response = await admin.get(collection)
                if response.status_code == 200:
                    listed = _ids(response.json())
            if listed:
                values[param] = listed
            else:
                problems.append(
                    f"{endpoint.label}: cannot find tenant A's values for {{{param}}}: "
                    f"GET {collection} lists no record with an 'id' for A's admin. Make the "
                    f"plugin's register_demo_data create one, or register {prefix!r} in "
                    f"PATH_SAMPLES ({__name__}) as Owned(...) or Shared(...).")
    assert not problems, "\n".join(problems)
    return values


async def snapshot(world: World, routes: list[Endpoint], values: dict[str, list[Any]]
                   ) -> dict[str, str]:
    """What the tenant's admin reads through every GET route, with its own ids."""
    admin = world.clients["admin"]
    seen = {}
    for endpoint in routes:
        if endpoint.method != "GET" or endpoint.public:
            continue
        if any(p not in values for p in endpoint.params):
            continue
        for combination in itertools.product(*(values[p] for p in endpoint.params)):
            path = endpoint.fill(dict(zip(endpoint.params, combination, strict=True)))
            response = await admin.get(path)
            seen[path] = f"{response.status_code} {response.text}"
    return seen


# ---------------------------------------------------------------------- checks


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(message)

    def no_server_error(self, who: str, method: str, path: str, response: httpx.Response
                        ) -> None:
        self.check(response.status_code < 500,
                   f"{who}: {method} {path} answered {response.status_code}: {response.text}")


def _error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _body(endpoint: Endpoint) -> dict[str, Any] | None:
    factory = BODIES.get(endpoint.label)
    if factory is not None:
        return factory()
    return {} if "data" in endpoint.arguments() else None


async def _call(client: httpx.AsyncClient, method: str, path: str,
                body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    return await client.request(method, path, json=body, params=params or None)


async def walk_owned_routes(found: Findings, routes: list[Endpoint], a: World, b: World,
                            values: dict[str, list[Any]]) -> None:
    """B, as each principal, on each of A's records: same answer as for a missing id."""
    for endpoint in routes:
        owned = [p for p in endpoint.params if p in values]
        if not owned:
            continue
        for role in ROLES:
            client = b.clients[role]
            for param in owned:
                fixed = {p: values[p][0] for p in endpoint.params if p != param}
                shared = {p: _shared_values(endpoint, p)[0] for p in endpoint.params
                          if p not in values}
                missing_path = endpoint.fill({**fixed, **shared, param: MISSING_ID})
                missing = await _call(client, endpoint.method, missing_path, _body(endpoint))
                who = f"tenant B's {role}"
                found.no_server_error(who, endpoint.method, missing_path, missing)
                if role == "admin":
                    found.check(missing.status_code in (403, 404), (
                        f"{who}: {endpoint.method} {missing_path} answered "
                        f"{missing.status_code}, not 404, for an id that exists nowhere, so "
                        f"the walk never reaches the lookup: register a valid body for "
                        f"{endpoint.label!r} in BODIES. {missing.text}"))
                for value in values[param]:
                    path = endpoint.fill({**fixed, **shared, param: value})
                    response = await _call(client, endpoint.method, path, _body(endpoint))
                    found.no_server_error(who, endpoint.method, path, response)
                    found.check(not 200 <= response.status_code < 300, (
                        f"{who}: {endpoint.method} {path} on tenant A's {param}={value} "
                        f"answered {response.status_code}: {response.text}"))
                    found.check(
                        (response.status_code, _error(response))
                        == (missing.status_code, _error(missing)), (
                            f"{who}: {endpoint.method} {path} on tenant A's {param}={value} "
                            f"answered {response.status_code} {_error(response)}, but "
                            f"{missing.status_code} {_error(missing)} for an id that exists "
                            f"nowhere: another tenant's id must look missing (404)"))
                    found.check(a.marker not in response.text,
                                f"{who}: {endpoint.method} {path} shows tenant A's data: "
                                f"{response.text}")


def _shared_values(endpoint: Endpoint, param: str) -> list[Any]:
    sample = _sample_for(endpoint, param)[1]
    assert isinstance(sample, Shared)
    return SHARED_VALUES[id(sample)]


SHARED_VALUES: dict[int, list[Any]] = {}


def _reference_values(name: str, values: dict[str, list[Any]], endpoint: Endpoint
                      ) -> list[Any]:
    key = REFERENCE_ALIASES.get(name, name)
    assert key in values, (
        f"{endpoint.label}: the field {name!r} looks like a record reference, but no route "
        f"has a path parameter {{{key}}} to take tenant A's ids from; add it to "
        f"REFERENCE_ALIASES ({__name__}) mapping it to the path parameter it refers to")
    return values[key]


async def walk_lists(found: Findings, routes: list[Endpoint], a: World, b: World,
                     values: dict[str, list[Any]]) -> None:
    """B's lists show none of A's rows, plain, searched for A's names or filtered by A's ids."""
    admin_a = a.clients["admin"]
    for endpoint in routes:
        if endpoint.method != "GET" or endpoint.params or endpoint.public:
            continue
        a_ids = set(_ids((await admin_a.get(endpoint.path)).json())) \
            if (await admin_a.get(endpoint.path)).headers.get("content-type", "").startswith(
                "application/json") else set()
        queries: list[dict[str, Any]] = [{}]
        if "q" in endpoint.arguments():
            queries.append({"q": a.marker})
        for name in _query_references(endpoint):
            queries += [{name: value} for value in _reference_values(name, values, endpoint)]
        for role in ROLES:
            who = f"tenant B's {role}"
            for query in queries:
                response = await _call(b.clients[role], "GET", endpoint.path, **query)
                shown = f"GET {endpoint.path}{' ' + str(query) if query else ''}"
                found.no_server_error(who, "GET", shown, response)
                found.check(a.marker not in response.text,
                            f"{who}: {shown} shows tenant A's data: {response.text}")
                if response.status_code == 200 and response.headers.get(
                        "content-type", "").startswith("application/json"):
                    leaked = a_ids & set(_ids(response.json()))
                    found.check(not leaked,
                                f"{who}: {shown} lists tenant A's records {sorted(leaked)}")


async def walk_body_references(found: Findings, routes: list[Endpoint], a: World, b: World,
                               values: dict[str, list[Any]], b_values: dict[str, list[Any]]
                               ) -> None:
    """A body naming one of A's records is refused like one naming a missing record."""
    for endpoint in routes:
        references = _body_references(endpoint)
        if not references or endpoint.operator_only:
            continue
        assert endpoint.label in BODIES or endpoint.method == "PATCH", (
            f"{endpoint.label}: its body refers to records ({', '.join(references)}); "
            f"register a valid body in BODIES ({__name__}) so the walker can try tenant A's "
            f"ids in it")
        own = {p: b_values[p][0] for p in endpoint.params if p in b_values}
        if len(own) != len(endpoint.params):
            continue  # a route under a shared parameter: no record of B to change
        path = endpoint.fill(own)
        for role in ("admin", "token", "partner"):
            who = f"tenant B's {role}"
            for name in references:
                missing = await _call(b.clients[role], endpoint.method, path,
                                      {**(_body(endpoint) or {}), name: MISSING_ID})
                found.no_server_error(who, endpoint.method, path, missing)
                for value in _reference_values(name, values, endpoint):
                    body = {**(_body(endpoint) or {}), name: value}
                    response = await _call(b.clients[role], endpoint.method, path, body)
                    found.no_server_error(who, endpoint.method, path, response)
                    found.check(not 200 <= response.status_code < 300, (
                        f"{who}: {endpoint.method} {path} with tenant A's {name}={value} "
                        f"answered {response.status_code}: {response.text}"))
                    found.check(response.status_code == missing.status_code, (
                        f"{who}: {endpoint.method} {path} with tenant A's {name}={value} "
                        f"answered {response.status_code}, but {missing.status_code} for an "
                        f"id that exists nowhere"))


async def walk_shared_routes(found: Findings, routes: list[Endpoint], a: World, b: World
                             ) -> None:
    """Routes on shared things (plugins, regions): B may act, for itself only (see the
    snapshot comparison), and never sees A's data."""
    for endpoint in routes:
        shared = [p for p in endpoint.params
                  if isinstance(_sample_for(endpoint, p)[1], Shared)]
        if not shared or len(shared) != len(endpoint.params):
            continue
        for role in ROLES:
            who = f"tenant B's {role}"
            for combination in itertools.product(*(_shared_values(endpoint, p)
                                                   for p in shared)):
                path = endpoint.fill(dict(zip(shared, combination, strict=True)))
                response = await _call(b.clients[role], endpoint.method, path,
                                       _body(endpoint))
                found.no_server_error(who, endpoint.method, path, response)
                found.check(a.marker not in response.text,
                            f"{who}: {endpoint.method} {path} shows tenant A's data")


# ---------------------------------------------------------------------- the tests


async def _setup(platform: TestPlatform) -> tuple[list[Endpoint], World, World,
                                                  dict[str, list[Any]], dict[str, list[Any]]]:
    platform.clock.freeze(platform.clock.now())
    routes = endpoints(platform.app)
    for sample in PATH_SAMPLES.values():
        if isinstance(sample, Shared):
            SHARED_VALUES[id(sample)] = sample.values(platform)
    a = await build_world(platform, "alphaco")
    b = await build_world(platform, "bravoco")
    return routes, a, b, await owned_values(platform, a, routes), \
        await owned_values(platform, b, routes)


async def test_walker_reaches_every_route(jimu_platform):
    """Every path parameter can be filled: a new route cannot escape the walk silently."""
    routes = endpoints(jimu_platform.app)
    unfillable = [
        f"{e.label}: {{{p}}} is not an integer record id; register "
        f"{_sample_for(e, p)[0]!r} in PATH_SAMPLES ({__name__}) as Owned(...) or Shared(...)"
        for e in routes for p in e.params
        if _sample_for(e, p)[1] is None
        and e.handler.parsed_fn_signature.parameters[p].annotation is not int]
    assert not unfillable, "\n".join(unfillable)
    plugin_routes = [e for e in routes if e.path.startswith("/api/v1/followups/")]
    assert plugin_routes, "the followups plugin's routes are walked too"


async def test_another_tenants_records_look_missing_to_every_principal(jimu_platform):
    routes, a, b, values, b_values = await _setup(jimu_platform)
    before = await snapshot(a, routes, values)
    found = Findings()
    await walk_owned_routes(found, routes, a, b, values)
    await walk_lists(found, routes, a, b, values)
    await walk_body_references(found, routes, a, b, values, b_values)
    await walk_shared_routes(found, routes, a, b)
    await jimu_platform.run_jobs()
    after = await snapshot(a, routes, values)
    changed = sorted(path for path in before if before[path] != after.get(path))
    found.check(not changed, f"tenant B changed what tenant A sees at {changed}")
    assert not found.problems, "\n".join(found.problems)


async def test_own_records_are_reachable_so_the_walk_means_something(jimu_platform):
    """The admin reaches its own records through every read route the walk probes."""
    routes, _, b, _, b_values = await _setup(jimu_platform)
    found = Findings()
    for endpoint in routes:
        if endpoint.method != "GET" or not endpoint.params or \
                any(p not in b_values for p in endpoint.params):
            continue
        path = endpoint.fill({p: b_values[p][0] for p in endpoint.params})
        response = await b.clients["admin"].get(path)
        found.check(response.status_code == 200 or endpoint.operator_only,
                    f"tenant B's admin: GET {path} on its own record answered "
                    f"{response.status_code}: {response.text}")
    assert not found.problems, "\n".join(found.problems)


async def test_anonymous_callers_are_refused_outside_public_routes(jimu_platform):
    routes, a, _, values, _ = await _setup(jimu_platform)
    anonymous = jimu_platform.client()
    found = Findings()
    for endpoint in routes:
        path = _any_path(endpoint, values)
        response = await _call(anonymous, endpoint.method, path, _body(endpoint))
        found.no_server_error("anonymous", endpoint.method, path, response)
        found.check(a.marker not in response.text,
                    f"anonymous: {endpoint.method} {path} shows tenant A's data")
        if not endpoint.public:
            found.check(response.status_code == 401,
                        f"anonymous: {endpoint.method} {path} answered "
                        f"{response.status_code}, not 401: {response.text}")
    assert not found.problems, "\n".join(found.problems)


async def test_unsafe_calls_without_the_csrf_token_are_refused(jimu_platform):
    routes, a, _, values, _ = await _setup(jimu_platform)
    session = a.clients["admin"]
    found = Findings()
    for endpoint in routes:
        if endpoint.method == "GET" or endpoint.path in CSRF_EXEMPT:
            continue
        path = _any_path(endpoint, values)
        response = await session.request(endpoint.method, path, json=_body(endpoint),
                                         headers={"X-CSRF-Token": "forged"})
        found.check(response.status_code == 403 and "CSRF" in response.text,
                    f"a session without its CSRF token: {endpoint.method} {path} answered "
                    f"{response.status_code}, not 403: {response.text}")
    after = await snapshot(a, routes, values)
    assert after == await snapshot(a, routes, values)
    assert not found.problems, "\n".join(found.problems)


async def test_operator_and_tenant_principals_stay_on_their_side(jimu_platform):
    routes, a, b, values, _ = await _setup(jimu_platform)
    await jimu_platform.make_user(None, "iso-operator")
    operator = await jimu_platform.login("iso-operator")
    found = Findings()
    listing = await operator.get("/api/v1/tenants")
    found.check(listing.status_code == 200 and {a.tenant.id, b.tenant.id} <= set(
        _ids(listing.json())), f"the operator lists the tenants: {listing.text}")
    for endpoint in routes:
        if endpoint.public or endpoint.path.startswith("/api/v1/auth/"):
            continue
        path = _any_path(endpoint, values)
        if endpoint.operator_only:
            for role in ROLES:
                response = await _call(b.clients[role], endpoint.method, path,
                                       _body(endpoint))
                found.check(response.status_code == 403,
                            f"tenant B's {role}: {endpoint.method} {path} (operators only) "
                            f"answered {response.status_code}: {response.text}")
            continue
        response = await _call(operator, endpoint.method, path, _body(endpoint))
        found.no_server_error("the operator", endpoint.method, path, response)
        found.check(response.status_code == 403,
                    f"the operator: {endpoint.method} {path} (a tenant route) answered "
                    f"{response.status_code}, not 403: {response.text}")
        found.check(a.marker not in response.text,
                    f"the operator: {endpoint.method} {path} shows tenant A's data")
    assert not found.problems, "\n".join(found.problems)


def _any_path(endpoint: Endpoint, values: dict[str, list[Any]]) -> str:
    return endpoint.fill({p: values[p][0] if p in values else _shared_values(endpoint, p)[0]
                          for p in endpoint.params})


# Keep the type checker aware that Awaitable is part of the registry vocabulary for authors.
_ = Awaitable
