"""The litestar application: core routes plus every installed plugin's, guarded per tenant."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, MediaType, Router, get
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins import InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from jimu.api import directory, identity, operations, plugins
from jimu.kernel import Kernel
from jimu.version import __version__
from jimu.web.errors import EXCEPTION_HANDLERS, document_errors
from jimu.web.guards import plugin_enabled, requires, tenant_member
from jimu.web.request_scope import RequestScopeMiddleware

CORE_TEMPLATES = Path(__file__).parent / "templates"
REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def home() -> Template:
    return Template("core/home.html", context={"version": __version__})


class JimuCore(InitPlugin):
    """Wires core and plugin contributions into the app (mutating lists in place)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        kernel = self.kernel
        app_config.route_handlers.extend([
            home, *identity.ROUTES, *plugins.ROUTES, *directory.ROUTES, *operations.ROUTES])
        for slug, plugin in sorted(kernel.plugins.plugins.items()):
            routes = list(plugin.contributed("register_routes", []))
            if routes:
                app_config.route_handlers.append(Router(
                    path=f"/api/v1/{slug}", route_handlers=document_errors(routes),
                    guards=[tenant_member, plugin_enabled(slug)], tags=[slug]))
            for page in plugin.contributed("register_admin_pages", []):
                guards = [tenant_member, plugin_enabled(slug)]
                if page.permission:
                    guards.append(requires(page.permission))
                app_config.route_handlers.append(Router(
                    path=f"/admin/p/{slug}", route_handlers=[page.handler], guards=guards,
                    include_in_schema=False))
        app_config.middleware.insert(0, RequestScopeMiddleware)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    async def _start(self, app: Litestar) -> None:
        await self.kernel.start()

    async def _stop(self, app: Litestar) -> None:
        await self.kernel.stop()


def template_environment(kernel: Kernel) -> Environment:
    """Theme first, then each plugin's own ``<slug>/`` directory, then core."""
    loaders: list[Any] = []
    theme = Path(os.environ.get("JIMU_THEMES_DIR", REPO_THEMES)) / "default" / "templates"
    if theme.is_dir():
        loaders.append(FileSystemLoader(theme))
    for plugin in kernel.plugins.plugins.values():
        directory_ = plugin.contributions.get("register_template_dir")
        if directory_:
            loaders.append(FileSystemLoader(directory_))
    loaders.append(FileSystemLoader(CORE_TEMPLATES))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(),
                       enable_async=False)


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
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(template_environment(kernel))),
        debug=kernel.settings.debug,
        # Logging is configured by the process (jimu.logs, JSON lines), not by litestar.
        logging_config=None,
        **litestar_options,
    )
