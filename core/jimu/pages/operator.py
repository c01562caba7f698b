"""The platform operator's console (平台运营): tenants, a new tenant with its first admin,
suspend and resume.

Only platform operators reach these pages (``platform_operator``); a tenant's own users get
403. Every change goes through ``jimu.services.tenants``, the functions the API calls. A
request that fails is rolled back whole, so a refused form creates nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from jimu_sdk.context import as_tenant
from jimu_sdk.errors import JimuError, NotFound, ValidationFailed
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from jimu.db.tables import Tenant, User
from jimu.i18n import LOCALES, N_, localized_text
from jimu.services import industry_templates
from jimu.services import tenants as service
from jimu.services.tenants import TENANT_SORTS, TENANT_STATUSES
from jimu.web.forms import belongs_on_form, failed_form, parse_form
from jimu.web.guards import platform_operator
from jimu.web.list_view import (
    Cell,
    Column,
    Filter,
    ListState,
    ListView,
    collect_all,
    export_format,
    export_response,
    list_page,
    options,
)
from jimu.web.listing import RecordIdParam
from jimu.web.pages_support import FormState, _, flash_text, form_data, kernel_of, page, redirect
from jimu.web.ui import format_datetime

STATUS_TITLES = {"active": N_("Active"), "suspended": N_("Suspended")}
STATUS_BADGES = {"active": "ok", "suspended": "warn"}
LOCALE_TITLES = {"zh-CN": "简体中文", "en": "English"}
COMMON_TIMEZONES = (
    "Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei",
    "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Jakarta",
    "Asia/Manila", "Asia/Tokyo", "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Europe/London",
    "Europe/Paris", "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney", "Pacific/Auckland", "UTC",
)
SECRET_FIELDS = ("admin_password", "admin_password_confirm")


class TenantForm(msgspec.Struct):
    """The new-tenant form: ``jimu.api.identity.TenantIn`` plus the password's confirmation
    and an industry template."""

    slug: Annotated[str, msgspec.Meta(min_length=2, max_length=63)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    admin_username: Annotated[str, msgspec.Meta(min_length=2, max_length=150)]
    admin_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    admin_password_confirm: str = ""
    locale: str = "zh-CN"
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "Asia/Shanghai"
    plugins: list[str] = []
    template: str = ""



def _status_titles() -> dict[str, str]:
    return {status: _(STATUS_TITLES[status]) for status in TENANT_STATUSES}


def _template_titles() -> dict[str, str]:
    return {key: localized_text(template.title)
            for key, template in industry_templates.load_templates().items()}


# ------------------------------------------------------------------------------ the list


def _columns() -> list[Column]:
    return [Column("slug", _("Code"), sort="slug"), Column("name", _("Name"), sort="name"),
            Column("status", _("Status"), sort="status"),
            Column("template", _("Industry template")), Column("locale", _("Language")),
            Column("timezone", _("Time zone")),
            Column("created_at", _("Created"), sort="created_at")]


def _cells(rows: list[dict[str, Any]]) -> list[list[Cell]]:
    statuses, templates = _status_titles(), _template_titles()
    return [[Cell(r["slug"], href=f"/operator/tenants/{r['id']}"), Cell(r["name"]),
             Cell(statuses.get(r["status"], r["status"]),
                  badge=STATUS_BADGES.get(r["status"], "off")),
             Cell(templates.get(r["template"], r["template"]) if r["template"] else ""),
             Cell(LOCALE_TITLES.get(r["locale"], r["locale"])), Cell(r["timezone"]),
             Cell(format_datetime(r["created_at"], "short"), export=r["created_at"])]
            for r in rows]


@get("/operator/tenants", include_in_schema=False, guards=[platform_operator])
async def tenants(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=TENANT_SORTS, default_sort="-created_at",
                           filters=("status",))
    status = state.value("status")

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        return await service.list_tenants(
            q=state.q or None, status=status if status in TENANT_STATUSES else None,
            sort=state.sort, page=page_number, per_page=per_page)

    columns = _columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        return export_response(fmt, "tenants", columns, _cells(rows),
                               cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    view = ListView(
        state=state, columns=columns, rows=_cells(rows), total=total,
        search_label=_("Search code or name"), empty=_("No tenants match these filters."),
        filters=[Filter("status", _("Status"), options(_status_titles(),
                                                       all_label=_("All statuses")))])
    return list_page(request, "core/operator_tenants.html", view, flash=flash_text(request))


# ------------------------------------------------------------------------------ a new tenant


def _tenant_form(request: Request, form: FormState, *, status: int = 200) -> Template:
    kernel = kernel_of(request)
    plugins = [(slug, localized_text(plugin.meta.title))
               for slug, plugin in sorted(kernel.plugins.plugins.items())]
    return page("core/operator_tenant_form.html", status=status, form=form,
                locales=[(code, LOCALE_TITLES.get(code, code)) for code in LOCALES],
                timezones=COMMON_TIMEZONES, plugins=plugins,
                templates=[("", _("None: choose plugins above")),
                           *_template_titles().items()])


def _kept_values(data: dict[str, Any]) -> dict[str, Any]:
    """What the form shows again: everything but the passwords, plugins as a list."""
    values = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    chosen = data.get("plugins")
    values["plugins"] = chosen if isinstance(chosen, list) else ([chosen] if chosen else [])
    return values


def _page_errors(request: Request, data: dict[str, Any], values: dict[str, Any]
                 ) -> dict[str, str]:
    """What the form checks beyond the service: the confirmation, the plugins, the template."""
    kernel = kernel_of(request)
    errors: dict[str, str] = {}
    if str(data.get("admin_password_confirm", "")) != str(data.get("admin_password", "")):
        errors["admin_password_confirm"] = _("The two passwords differ; type the same "
                                             "password twice.")
    unknown = [slug for slug in values["plugins"] if slug not in kernel.plugins.plugins]
    if unknown:
        errors["plugins"] = _("These plugins are not installed: %(names)s",
                              names=", ".join(unknown))
    key = str(data.get("template") or "")
    if key:
        template = industry_templates.load_templates().get(key)
        missing = [s for s in template.plugins if s not in kernel.plugins.plugins] \
            if template else []
        if template is None:
            errors["template"] = _("Choose a template from the list.")
        elif missing:
            errors["template"] = _("This template needs plugins that are not installed: "
                                   "%(names)s", names=", ".join(missing))
    return errors


@get("/operator/tenants/new", include_in_schema=False, guards=[platform_operator])
async def new_tenant(request: Request) -> Template:
    return _tenant_form(request, FormState(values={
        "locale": "zh-CN", "timezone": "Asia/Shanghai", "plugins": []}))


@post("/operator/tenants/new", include_in_schema=False, guards=[platform_operator])
async def create_tenant(request: Request) -> Template | Redirect:
    kernel = kernel_of(request)
    data = await form_data(request)
    values = _kept_values(data)
    errors = _page_errors(request, data, values)
    try:
        form = parse_form(TenantForm, data, lists=("plugins",))
    except ValidationFailed as exc:
        failed = failed_form(values, exc)
        return _tenant_form(request, FormState(values, {**errors, **failed.errors},
                                               failed.message), status=422)
    if errors:
        return _tenant_form(request, FormState(values, errors), status=422)
    try:
        row = await service.create_tenant(
            kernel, slug=form.slug, name=form.name, admin_username=form.admin_username,
            admin_password=form.admin_password, plugins=form.plugins,
            timezone=form.timezone, locale=form.locale)
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return _tenant_form(request, failed_form(values, exc), status=exc.status_code)
    if form.template:
        # In the new tenant's scope, as create_tenant itself enables plugins; the request's
        # one transaction still holds everything, so a failure here undoes the tenant too.
        await kernel.db.set_tenant(row["id"])
        with as_tenant(row["id"]):
            await industry_templates.apply(kernel, industry_templates.get_template(
                form.template))
        await kernel.db.set_tenant(None)
    return redirect(f"/operator/tenants/{row['id']}", flash=_("Tenant created."))


# ------------------------------------------------------------------------------ one tenant


async def _tenant_row(tenant_id: int) -> dict[str, Any]:
    row = await Tenant.select().where(Tenant.id == tenant_id).first()
    if row is None:
        raise NotFound(N_("organisation %(id)s not found"), params={"id": tenant_id})
    return row


@get("/operator/tenants/{tenant_id:int}", include_in_schema=False,
     guards=[platform_operator])
async def tenant_detail(request: Request, tenant_id: RecordIdParam) -> Template:
    kernel = kernel_of(request)
    row = await _tenant_row(tenant_id)
    state = await kernel.tenant_state(tenant_id)
    plugins = [(slug, localized_text(kernel.plugins.plugins[slug].meta.title))
               for slug in sorted(state.enabled)]
    admins = await User.select(User.username).where(
        (User.tenant_id == tenant_id) & (User.role == "admin")).order_by(User.id)
    return page("core/operator_tenant.html", tenant=row, plugins=plugins,
                user_count=await User.count().where(User.tenant_id == tenant_id),
                admins=[a["username"] for a in admins],
                status_title=_status_titles().get(row["status"], row["status"]),
                status_badge=STATUS_BADGES.get(row["status"], "off"),
                template_title=_template_titles().get(row["template"], row["template"]),
                locale_title=LOCALE_TITLES.get(row["locale"], row["locale"]),
                flash=flash_text(request))


@post("/operator/tenants/{tenant_id:int}/suspend", include_in_schema=False,
      guards=[platform_operator])
async def suspend_tenant(request: Request, tenant_id: RecordIdParam) -> Redirect:
    await service.set_tenant_status(kernel_of(request), tenant_id, "suspended")
    return redirect(f"/operator/tenants/{tenant_id}", flash=_(
        "Tenant suspended: its users cannot use Jimu until you resume it."))


@post("/operator/tenants/{tenant_id:int}/resume", include_in_schema=False,
      guards=[platform_operator])
async def resume_tenant(request: Request, tenant_id: RecordIdParam) -> Redirect:
    await service.set_tenant_status(kernel_of(request), tenant_id, "active")
    return redirect(f"/operator/tenants/{tenant_id}", flash=_(
        "Tenant resumed: its users can sign in again."))


ROUTES = [tenants, new_tenant, create_tenant, tenant_detail, suspend_tenant, resume_tenant]
