"""The admin UI's rendering: themes, one jinja environment per theme, language, formatting, menu.

Template lookup is theme → plugin (each under its own ``<slug>/`` prefix, so a plugin cannot
shadow another's or core's templates) → core. Pages extend ``base.html``; core's ``base.html``
only extends ``core/layout.html``, and a theme's ``base.html`` does the same while overriding
the documented blocks (themes/README.md).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from jimu_sdk.types import Money
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    pass_context,
    select_autoescape,
)
from jinja2 import TemplateNotFound as JinjaTemplateNotFound
from litestar.exceptions import TemplateNotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from jimu.i18n import N_, babel_locale, current_locale, gettext_dir_name, localized_text
from jimu.version import __version__

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState
    from jimu.services.auth import Principal

CORE_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REPO_THEMES = Path(__file__).resolve().parents[3] / "themes"
DEFAULT_THEME = "default"


def themes_root() -> Path:
    return Path(os.environ.get("JIMU_THEMES_DIR", REPO_THEMES))


@dataclass(frozen=True)
class Theme:
    name: str
    title: Mapping[str, str]
    directory: Path
    color_scheme: str = "light"
    stylesheets: tuple[str, ...] = ()

    @property
    def templates(self) -> Path:
        return self.directory / "templates"

    @property
    def static(self) -> Path:
        return self.directory / "static"


def discover_themes(root: Path | None = None) -> dict[str, Theme]:
    """Every ``<root>/<name>/theme.toml``; the default theme always exists."""
    root = root or themes_root()
    themes: dict[str, Theme] = {}
    for manifest in sorted(root.glob("*/theme.toml")) if root.is_dir() else []:
        data = tomllib.loads(manifest.read_text())
        name = manifest.parent.name
        themes[name] = Theme(name=name, title=data.get("title", {"zh-CN": name, "en": name}),
                             directory=manifest.parent,
                             color_scheme=data.get("color_scheme", "light"),
                             stylesheets=tuple(data.get("stylesheets", ())))
    themes.setdefault(DEFAULT_THEME, Theme(DEFAULT_THEME, {"zh-CN": "默认", "en": "Default"},
                                           root / DEFAULT_THEME))
    return themes


# --------------------------------------------------------------------------- the request


@dataclass
class UIRequest:
    """What templates need to know about the request being rendered."""

    locale: str
    theme: str
    path: str
    principal: Principal | None = None
    tenant: TenantState | None = None
    permissions: frozenset[str] = frozenset()
    csrf_token: str = ""
    timezone: str = "Asia/Shanghai"
    extra: dict[str, Any] = field(default_factory=dict)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_operator(self) -> bool:
        return bool(self.principal and self.principal.is_platform_operator)


current_ui: contextvars.ContextVar[UIRequest | None] = contextvars.ContextVar("jimu_ui",
                                                                           default=None)


def ui() -> UIRequest:
    state = current_ui.get()
    return state if state is not None else UIRequest(locale=current_locale.get(),
                                                     theme=DEFAULT_THEME, path="/")


# --------------------------------------------------------------------------- formatting


def format_number(value: Any, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    locale = babel_locale(current_locale.get())
    if digits is not None:
        return babel_numbers.format_decimal(Decimal(value), format=f"#,##0.{'0' * digits}",
                                            locale=locale)
    return babel_numbers.format_decimal(value, locale=locale)


def format_money(value: Any, currency: str = "CNY") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        value, currency = value.amount, value.currency
    return babel_numbers.format_currency(Decimal(value), currency,
                                         locale=babel_locale(current_locale.get()))


def _aware(value: dt.datetime) -> dt.datetime:
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(ui().timezone))


def format_datetime(value: Any, format: str = "medium") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return babel_dates.format_datetime(_aware(value), format=format,
                                       locale=babel_locale(current_locale.get()))


def format_date(value: Any, format: str = "medium") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = _aware(value).date()
    return babel_dates.format_date(value, format=format,
                                   locale=babel_locale(current_locale.get()))


def to_json_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


# --------------------------------------------------------------------------- environments


def build_environment(kernel: Kernel, theme: Theme) -> Environment:
    prefixes = {
        slug: FileSystemLoader(Path(directory) / slug)
        for slug, plugin in kernel.plugins.plugins.items()
        if (directory := plugin.contributions.get("register_template_dir"))
    }
    loaders: list[Any] = []
    if theme.templates.is_dir():
        loaders.append(FileSystemLoader(theme.templates))
    loaders += [PrefixLoader(prefixes), FileSystemLoader(CORE_TEMPLATES)]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"], enable_async=False,
                      trim_blocks=True, lstrip_blocks=True)
    catalogs = kernel.catalogs
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalogs.gettext, ngettext=catalogs.ngettext, newstyle=True)
    env.globals["gettext"] = template_gettext(catalogs.gettext)
    env.globals.update(
        ui=ui, theme=theme, version=__version__, t=localized_text,
        menu=lambda: build_menu(kernel, ui()), themes=lambda: kernel_themes(kernel),
        html_lang=lambda: current_locale.get(), gettext_dir=gettext_dir_name)
    env.filters.update(number=format_number, money=format_money, datetime=format_datetime,
                       date=format_date, json_script=to_json_script, t=localized_text)
    return env


def kernel_themes(kernel: Kernel) -> dict[str, Theme]:
    themes = kernel.__dict__.get("_ui_themes")
    if themes is None:
        themes = discover_themes()
        kernel.__dict__["_ui_themes"] = themes
    return themes  # type: ignore[no-any-return]


class ThemedTemplateEngine(JinjaTemplateEngine):
    """litestar's jinja engine, with one environment per theme chosen by the request."""

    def __init__(self, kernel: Kernel) -> None:
        self.themes = kernel_themes(kernel)
        self.environments = {name: build_environment(kernel, theme)
                             for name, theme in self.themes.items()}
        super().__init__(engine_instance=self.environments[DEFAULT_THEME])
        # litestar registers its template callables on the default environment only.
        litestar_callables: dict[str, Any] = {key: self.engine.globals[key]
                              for key in ("url_for", "url_for_static_asset", "csrf_token")
                              if key in self.engine.globals}
        for environment in self.environments.values():
            environment.globals.update(litestar_callables)

    def environment(self) -> Environment:
        return self.environments.get(ui().theme) or self.environments[DEFAULT_THEME]

    def get_template(self, template_name: str) -> Any:
        try:
            return self.environment().get_template(name=template_name)
        except JinjaTemplateNotFound as exc:
            raise TemplateNotFoundException(template_name=template_name) from exc


# --------------------------------------------------------------------------- the menu


@dataclass(frozen=True)
class MenuEntry:
    key: str
    title: str
    href: str
    icon: str = ""
    active: bool = False


# (key, section, English title, href, permission, order) — titles go through the catalog.
CORE_MENU: tuple[tuple[str, str, str, str, str | None, int], ...] = (
    ("home", "work", N_("Home"), "/admin/", None, 0),
    ("customers", "work", N_("Customers"), "/admin/customers", "customers.read", 10),
    ("partners", "work", N_("Partners"), "/admin/partners", "partners.read", 20),
    ("regions", "work", N_("Regions"), "/admin/regions", "regions.read", 30),
    ("plugins", "setup", N_("Plugin marketplace"), "/admin/plugins", "plugins.read", 10),
    ("templates", "setup", N_("Industry templates"), "/admin/templates", "plugins.write", 20),
    ("users", "setup", N_("Users and roles"), "/admin/users", "users.read", 30),
    ("tokens", "setup", N_("API tokens"), "/admin/tokens", "tokens.write", 40),
    ("pricing", "work", N_("Price simulator"), "/admin/pricing/simulator", "pricing.simulate",
     90),
    ("flow_runs", "work", N_("Runs"), "/admin/flow-runs", "flows.read", 40),
    ("flows", "setup", N_("Flows"), "/admin/flows", "flows.write", 25),
    ("audit", "setup", N_("Audit log"), "/admin/audit", "audit.read", 50),
    ("settings", "setup", N_("Settings"), "/admin/settings", "settings.write", 60),
)
SECTION_TITLES = {"work": N_("Workspace"), "setup": N_("Configuration"),
                  "platform": N_("Platform")}


def template_gettext(gettext: Callable[[str], str]) -> Callable[..., str]:
    """``_()`` in templates: jinja's new-style gettext, except that a message given no
    parameters is not %-formatted, so a plain "%" in a text or its translation ("税率（%）")
    shows as written instead of failing the page. With parameters it formats, as before."""

    @pass_context
    def _gettext(context: Any, message: str, **variables: Any) -> str:
        text = context.call(gettext, message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text  # type: ignore[no-any-return]

    return _gettext


def build_menu(kernel: Kernel, state: UIRequest) -> list[tuple[str, list[MenuEntry]]]:
    """The sections of the side menu this user sees, with plugin entries in the workspace."""
    gettext = kernel.catalogs.gettext
    sections: dict[str, list[tuple[int, MenuEntry]]] = {"work": [], "setup": [], "platform": []}

    current = state.path.rstrip("/") or "/"

    def active(href: str) -> bool:
        # Paths arrive without their trailing slash (/admin/ is seen as /admin).
        target = href.rstrip("/") or "/"
        return current == target or (target != "/admin" and current.startswith(target + "/"))

    if state.is_operator:
        sections["platform"].append((0, MenuEntry("tenants", gettext("Tenants"),
                                                  "/operator/tenants", "building",
                                                  active("/operator/tenants"))))
    if state.tenant is not None:
        for key, section, title, href, permission, order in CORE_MENU:
            if permission is None or state.can(permission):
                sections[section].append((order, MenuEntry(key, gettext(title), href, key,
                                                            active(href))))
        for slug in sorted(state.tenant.enabled):
            for item in kernel.plugins.plugins[slug].contributed("register_menu_items", []):
                if item.permission is None or state.can(item.permission):
                    sections["work"].append((item.order, MenuEntry(
                        f"{slug}.{item.key}", localized_text(item.title), item.href, item.icon,
                        active(item.href))))
    return [(gettext(SECTION_TITLES[name]), [entry for _, entry in sorted(
        items, key=lambda pair: (pair[0], pair[1].key))])
            for name, items in sections.items() if items]
