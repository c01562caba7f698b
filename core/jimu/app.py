"""The litestar application: core routes plus every installed plugin's, guarded per tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins import InitPlugin
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from jimu.api import directory, flows, identity, notifications, operations, plugins, pricing
from jimu.kernel import Kernel
from jimu.pages import ROUTES as PAGE_ROUTES
from jimu.pages import not_found
from jimu.version import __version__
from jimu.web.errors import EXCEPTION_HANDLERS, document_errors
from jimu.web.guards import plugin_enabled, requires, requires_per_handler, tenant_member
from jimu.web.request_scope import RequestScopeMiddleware
from jimu.web.ui import ThemedTemplateEngine, kernel_themes

CORE_STATIC = Path(__file__).parent / "static"
STATIC_MAX_AGE = 3600


def static_routers(kernel: Kernel) -> list[Any]:
    """Core's assets at /static/core, each theme's at /static/themes/<name>, each plugin's at
    /static/p/<slug>; no CDN."""
    routers = [create_static_files_router(
        path="/static/core", directories=[CORE_STATIC], include_in_schema=False,
        name="static-core", cache_control=None)]
    for name, theme in kernel_themes(kernel).items():
        if theme.static.is_dir():
            routers.append(create_static_files_router(
                path=f"/static/themes/{name}", directories=[theme.static],
                include_in_schema=False, name=f"static-theme-{name}"))
    for slug, plugin in sorted(kernel.plugins.plugins.items()):
        directory = plugin.contributions.get("register_static_dir")
        if directory is not None and Path(directory).is_dir():
            routers.append(create_static_files_router(
                path=f"/static/p/{slug}", directories=[Path(directory)],
                include_in_schema=False, name=f"static-plugin-{slug}"))
    return routers


class JimuCore(InitPlugin):
    """Wires core and plugin contributions into the app (mutating lists in place)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        kernel = self.kernel
        app_config.route_handlers.extend([
            *PAGE_ROUTES, *identity.ROUTES, *plugins.ROUTES, *directory.ROUTES,
            *operations.ROUTES, *pricing.ROUTES, *flows.ROUTES, *notifications.ROUTES,
            *static_routers(kernel)])
        for slug, plugin in sorted(kernel.plugins.plugins.items()):
            routes = list(plugin.contributed("register_routes", []))
            if routes:
                app_config.route_handlers.append(Router(
                    path=f"/api/v1/{slug}", route_handlers=document_errors(routes),
                    guards=[tenant_member, plugin_enabled(slug)], tags=[slug]))
            pages = list(plugin.contributed("register_admin_pages", []))
            # Handlers share one router per plugin, so a GET and a POST page may share a
            # path; a controller brings its own paths and gets a router of its own.
            handlers = [page for page in pages if not isinstance(page.handler, type)]
            for page in pages:
                if isinstance(page.handler, type):
                    guards = [tenant_member, plugin_enabled(slug)]
                    if page.permission:
                        guards.append(requires(page.permission))
                    app_config.route_handlers.append(Router(
                        path=f"/admin/p/{slug}", route_handlers=[page.handler], guards=guards,
                        include_in_schema=False))
            if handlers:
                permissions = {page.handler.fn: page.permission for page in handlers
                               if page.permission}
                app_config.route_handlers.append(Router(
                    path=f"/admin/p/{slug}", route_handlers=[page.handler for page in handlers],
                    guards=[tenant_member, plugin_enabled(slug),
                            requires_per_handler(permissions)],
                    include_in_schema=False))
        app_config.route_handlers.extend(not_found.ROUTES)  # last: only what nothing else serves
        app_config.middleware.insert(0, RequestScopeMiddleware)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    async def _start(self, app: Litestar) -> None:
        await self.kernel.start()

    async def _stop(self, app: Litestar) -> None:
        await self.kernel.stop()


def create_app(kernel: Kernel | None = None, **litestar_options: Any) -> Litestar:
    if kernel is None:
        kernel = Kernel()
        kernel.load_plugins()
    return Litestar(
        plugins=[JimuCore(kernel)],
        state=State({"kernel": kernel}),
        openapi_config=OpenAPIConfig(
            title="Jimu API", version=__version__, path="/schema",
            description="Jimu (积木) SCRM platform API. Conventions: docs/api-conventions.md",
            # JSON and YAML only: the HTML viewers load scripts from a CDN, and private
            # deployments have no internet.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()]),
        template_config=TemplateConfig(engine=ThemedTemplateEngine(kernel)),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        debug=kernel.settings.debug,
        # Logging is configured by the process (jimu.logs, JSON lines), not by litestar.
        logging_config=None,
        **litestar_options,
    )
