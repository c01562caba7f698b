"""Plugins for the acting tenant: list, enable, disable, settings; and recorded hook failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from jimu.api.identity import kernel_of
from jimu.db.tables import HookFailure
from jimu.kernel import Kernel
from jimu.plugins import LoadedPlugin
from jimu.services import tenants as tenant_service
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, requires
from jimu.web.listing import PageNumber, PerPage
from jimu_sdk.context import current_tenant_id
from litestar import Controller, Request, get, post, put
from litestar.status_codes import HTTP_200_OK
from piccolo.query.functions.aggregate import Count


class Contributions(msgspec.Struct):
    routes: int
    admin_pages: int
    menu_items: int
    jobs: list[str]
    schedules: list[str]
    cli_commands: list[str]
    event_handlers: list[str]
    permissions: list[str]
    pricing_steps: list[str]
    revenue_split_steps: list[str]
    price_factor_kinds: list[str]
    workflow_nodes: list[str]
    channels: list[str]
    tag_rules: list[str]
    has_settings: bool
    has_tables: bool
    has_demo_data: bool


class PluginOut(msgspec.Struct):
    name: str
    version: str
    title: dict[str, str]
    description: dict[str, str]
    author: str
    requires_core: str
    depends: list[str]
    enabled: bool
    status: str  # ok | broken
    error: str
    adds: Contributions | None
    settings: dict[str, Any] | None
    settings_schema: dict[str, Any] | None
    failures: int


class EnableIn(msgspec.Struct, forbid_unknown_fields=True):
    with_dependencies: bool = True


class EnableOut(msgspec.Struct):
    enabled: list[str]
    """Every plugin this call switched on (dependencies first)."""


class DisableOut(msgspec.Struct):
    disabled: bool


class HookFailureOut(msgspec.Struct):
    id: int
    plugin: str
    hook: str
    kind: str
    error: str
    traceback: str
    created_at: dt.datetime


class FailureCount(msgspec.Struct):
    plugin: str
    hook: str
    count: int


class HookFailurePage(msgspec.Struct):
    items: list[HookFailureOut]
    counts: list[FailureCount]
    total: int
    page: int
    per_page: int


def contributions_of(plugin: LoadedPlugin) -> Contributions:
    c = plugin.contributed
    return Contributions(
        routes=len(c("register_routes", [])),
        admin_pages=len(c("register_admin_pages", [])),
        menu_items=len(c("register_menu_items", [])),
        jobs=[j.name for j in c("register_jobs", [])],
        schedules=[f"{s.name} ({s.cron})" for s in c("register_schedules", [])],
        cli_commands=[command.name for command in c("register_cli_commands", [])],
        event_handlers=[f"{h.event_type} → {h.name}" for h in c("register_event_handlers", [])],
        permissions=[p.key for p in c("register_permissions", [])],
        pricing_steps=[f"{s.order}:{s.rule}" for s in c("register_pricing_steps", [])],
        revenue_split_steps=[f"{s.order}:{s.rule}"
                             for s in c("register_revenue_split_steps", [])],
        price_factor_kinds=[k.key for k in c("register_price_factor_kinds", [])],
        workflow_nodes=[n.key for n in c("register_workflow_nodes", [])],
        channels=[a.key for a in c("register_channels", [])],
        tag_rules=[r.key for r in c("register_tag_rules", [])],
        has_settings=plugin.contributions.get("register_settings_schema") is not None,
        has_tables=plugin.contributions.get("register_piccolo_app") is not None,
        has_demo_data=plugin.contributions.get("register_demo_data") is not None,
    )


def _schema(plugin: LoadedPlugin) -> dict[str, Any] | None:
    schema = plugin.contributions.get("register_settings_schema")
    if schema is None:
        return None
    return msgspec.json.schema(schema)


async def failure_counts() -> dict[str, int]:
    rows = await HookFailure.select(HookFailure.plugin, Count(HookFailure.id, alias="n")
                                    ).where(HookFailure.tenant_id == current_tenant_id()
                                            ).group_by(HookFailure.plugin)
    return {r["plugin"]: r["n"] for r in rows}


def plugin_out(kernel: Kernel, slug: str, request: Request, counts: dict[str, int]
               ) -> PluginOut:
    tenant = request_context(request).tenant
    assert tenant is not None
    if slug in kernel.plugins.broken and slug not in kernel.plugins.plugins:
        broken = kernel.plugins.broken[slug]
        return PluginOut(name=slug, version="", title={"zh-CN": slug, "en": slug},
                         description={"zh-CN": "", "en": ""}, author="", requires_core="",
                         depends=[], enabled=False, status="broken", error=broken.error,
                         adds=None, settings=None, settings_schema=None,
                         failures=counts.get(slug, 0))
    plugin = kernel.plugins.get(slug)
    meta = plugin.meta
    return PluginOut(name=slug, version=meta.version, title=dict(meta.title),
                     description=dict(meta.description), author=meta.author,
                     requires_core=meta.requires_core, depends=list(meta.depends),
                     enabled=slug in tenant.enabled, status="ok", error="",
                     adds=contributions_of(plugin), settings=dict(tenant.settings.get(slug, {})),
                     settings_schema=_schema(plugin), failures=counts.get(slug, 0))


class PluginController(Controller):
    path = "/api/v1/plugins"
    tags = ["plugins"]

    @get("/", guards=[requires("plugins.read")],
         summary="Installed plugins (and broken ones) with this tenant's state")
    async def list_plugins(self, request: Request) -> list[PluginOut]:
        kernel = kernel_of(request)
        counts = await failure_counts()
        names = sorted(set(kernel.plugins.plugins) | set(kernel.plugins.broken))
        return [plugin_out(kernel, slug, request, counts) for slug in names]

    @get("/{slug:str}", guards=[requires("plugins.read")], summary="One plugin")
    async def get_plugin(self, request: Request, slug: str) -> PluginOut:
        kernel = kernel_of(request)
        if slug not in kernel.plugins.broken:
            kernel.plugins.get(slug)
        return plugin_out(kernel, slug, request, await failure_counts())

    @post("/{slug:str}/enable", guards=[requires("plugins.write")], status_code=HTTP_200_OK,
          summary="Enable a plugin for this tenant (and its dependencies)")
    async def enable(self, request: Request, slug: str, data: EnableIn | None = None
                     ) -> EnableOut:
        newly = await tenant_service.enable_plugin(
            kernel_of(request), slug,
            with_dependencies=data.with_dependencies if data else True)
        return EnableOut(enabled=newly)

    @post("/{slug:str}/disable", guards=[requires("plugins.write")], status_code=HTTP_200_OK,
          summary="Disable a plugin for this tenant")
    async def disable(self, request: Request, slug: str) -> DisableOut:
        changed = await tenant_service.disable_plugin(kernel_of(request), slug)
        return DisableOut(disabled=changed)

    @get("/{slug:str}/settings", guards=[requires("plugins.read")],
         summary="This tenant's settings of a plugin")
    async def get_settings(self, request: Request, slug: str) -> dict[str, Any]:
        kernel_of(request).plugins.get(slug)
        tenant = request_context(request).tenant
        assert tenant is not None
        return dict(tenant.settings.get(slug, {}))

    @put("/{slug:str}/settings", guards=[requires("plugins.write")],
         summary="Replace this tenant's settings of a plugin (validated by its schema)")
    async def put_settings(self, request: Request, slug: str, data: dict[str, Any]
                           ) -> dict[str, Any]:
        clean = await tenant_service.save_plugin_settings(kernel_of(request), slug, data)
        return clean


class HookFailureController(Controller):
    path = "/api/v1/hook-failures"
    tags = ["plugins"]
    guards = [requires("hook_failures.read")]

    @get("/", summary="Recorded hook failures of this tenant, newest first, with counts")
    async def list_failures(self, plugin: str | None = None, page: PageNumber = 1,
                            per_page: PerPage = 50) -> HookFailurePage:
        where = [HookFailure.tenant_id == current_tenant_id()]
        if plugin:
            where.append(HookFailure.plugin == plugin)
        rows = await HookFailure.select().where(*where).order_by(
            HookFailure.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
        counts = await HookFailure.select(
            HookFailure.plugin, HookFailure.hook, Count(HookFailure.id, alias="n")
        ).where(*where).group_by(HookFailure.plugin, HookFailure.hook)
        return HookFailurePage(
            items=[HookFailureOut(id=r["id"], plugin=r["plugin"], hook=r["hook"],
                                  kind=r["kind"], error=r["error"], traceback=r["traceback"],
                                  created_at=r["created_at"]) for r in rows],
            counts=[FailureCount(plugin=c["plugin"], hook=c["hook"], count=c["n"])
                    for c in counts],
            total=await HookFailure.count().where(*where), page=page, per_page=per_page)


ROUTES = document_errors([PluginController, HookFailureController])
