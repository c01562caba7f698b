"""Plugin marketplace (插件市场): every installed plugin as a card, enable and disable, settings."""

from __future__ import annotations

from typing import Any

from jimu_sdk.errors import Conflict, JimuError, ValidationFailed
from litestar import Request, get, post
from litestar.response import Redirect, Template

from jimu.api.plugins import contributions_of, failure_counts
from jimu.db.tables import HookFailure
from jimu.i18n import localized_text
from jimu.services import tenants as tenant_service
from jimu.web.guards import request_context, requires
from jimu.web.pages_support import (
    FormState,
    _,
    coerce_schema_form,
    form_data,
    kernel_of,
    page,
    redirect,
    schema_fields,
    take_flash,
    translate_problem,
)


def _card(kernel: Any, slug: str, enabled: frozenset[str], counts: dict[str, int]
          ) -> dict[str, Any]:
    plugin = kernel.plugins.get(slug)
    adds = contributions_of(plugin)
    return {"slug": slug, "meta": plugin.meta, "title": localized_text(plugin.meta.title),
            "description": localized_text(plugin.meta.description),
            "enabled": slug in enabled, "adds": adds, "failures": counts.get(slug, 0),
            "depends": list(plugin.meta.depends),
            "needed_by": kernel.plugins.dependents(slug, enabled)}


@get("/admin/plugins", include_in_schema=False, guards=[requires("plugins.read")])
async def marketplace(request: Request, q: str | None = None, show: str | None = None
                      ) -> Template:
    flash = take_flash(request)
    return await _marketplace_page(request, q=q or "", show=show or "",
                                   flash=_(flash) if flash else "")


async def _marketplace_page(request: Request, *, q: str = "", show: str = "", flash: str = "",
                            error: str = "", status: int = 200) -> Template:
    kernel = kernel_of(request)
    tenant = request_context(request).tenant
    assert tenant is not None
    counts = await failure_counts()
    cards = [_card(kernel, slug, tenant.enabled, counts)
             for slug in sorted(kernel.plugins.plugins)]
    if q:
        needle = q.strip().lower()
        cards = [c for c in cards if needle in c["slug"].lower()
                 or needle in c["title"].lower() or needle in c["description"].lower()]
    if show == "on":
        cards = [c for c in cards if c["enabled"]]
    elif show == "off":
        cards = [c for c in cards if not c["enabled"]]
    return page("core/marketplace.html", status=status, cards=cards,
                broken=sorted(kernel.plugins.broken.items()), q=q, show=show, flash=flash,
                error=error)


@post("/admin/plugins/{slug:str}/enable", include_in_schema=False,
      guards=[requires("plugins.write")])
async def enable(request: Request, slug: str) -> Redirect | Template:
    kernel = kernel_of(request)
    try:
        newly = await tenant_service.enable_plugin(kernel, slug)
    except Conflict as exc:
        return await _refused(request, exc)
    dependencies = [name for name in newly if name != slug]
    if dependencies:
        return redirect("/admin/plugins", flash=_(
            "Switched on %(plugin)s and the plugins it needs: %(deps)s.",
            plugin=slug, deps=", ".join(dependencies)))
    return redirect("/admin/plugins", flash=_("Switched on %(plugin)s.", plugin=slug))


@post("/admin/plugins/{slug:str}/disable", include_in_schema=False,
      guards=[requires("plugins.write")])
async def disable(request: Request, slug: str) -> Redirect | Template:
    kernel = kernel_of(request)
    try:
        await tenant_service.disable_plugin(kernel, slug)
    except Conflict as exc:
        return await _refused(request, exc)
    return redirect("/admin/plugins", flash=_("Switched off %(plugin)s.", plugin=slug))


async def _refused(request: Request, exc: JimuError) -> Template:
    needed_by = exc.extra.get("needed_by")
    missing = exc.extra.get("missing")
    if needed_by:
        message = _("Cannot switch this off: %(plugins)s need it. Switch those off first.",
                    plugins=", ".join(needed_by))
    elif missing:
        message = _("Switch on %(plugins)s first.", plugins=", ".join(missing))
    else:
        message = _(exc.message)
    return await _marketplace_page(request, error=message, status=409)


async def _detail(request: Request, slug: str, form: FormState, status: int = 200
                  ) -> Template:
    kernel = kernel_of(request)
    tenant = request_context(request).tenant
    assert tenant is not None
    plugin = kernel.plugins.get(slug)
    counts = await failure_counts()
    failures = await HookFailure.select().where(
        (HookFailure.tenant_id == tenant.id) & (HookFailure.plugin == slug)
    ).order_by(HookFailure.id, ascending=False).limit(20)
    fields = schema_fields(plugin.contributions.get("register_settings_schema"))
    values = form.values or dict(tenant.settings.get(slug, {}))
    flash = take_flash(request)
    return page("core/plugin_detail.html", status=status,
                card=_card(kernel, slug, tenant.enabled, counts), fields=fields,
                values=values, form=form, failures=failures, flash=_(flash) if flash else "",
                can_write="plugins.write" in request_context(request).permissions)


@get("/admin/plugins/{slug:str}", include_in_schema=False, guards=[requires("plugins.read")])
async def detail(request: Request, slug: str) -> Template:
    return await _detail(request, slug, FormState())


@post("/admin/plugins/{slug:str}/settings", include_in_schema=False,
      guards=[requires("plugins.write")])
async def save_settings(request: Request, slug: str) -> Template | Redirect:
    kernel = kernel_of(request)
    plugin = kernel.plugins.get(slug)
    fields = schema_fields(plugin.contributions.get("register_settings_schema"))
    choices = {f.name: f.choices for f in fields if f.choices}
    submitted = await form_data(request)
    values, errors = coerce_schema_form(fields, submitted)
    if errors:  # also check the values that did convert, so every bad field shows at once
        try:
            kernel.plugins.validate_settings(slug, values)
        except ValidationFailed as exc:
            for problem in exc.errors:
                name = problem.get("field") or ""
                if name and name not in errors and name in submitted:
                    errors[name] = translate_problem(problem.get("message", ""),
                                                     choices=choices.get(name, ()))
    if not errors:
        try:
            await tenant_service.save_plugin_settings(kernel, slug, values)
        except ValidationFailed as exc:
            return await _detail(request, slug,
                                 FormState.from_error(submitted, exc, choices=choices), 422)
        return redirect(f"/admin/plugins/{slug}", flash=_("Settings saved."))
    return await _detail(request, slug, FormState(submitted, errors), 422)


ROUTES = [marketplace, enable, disable, detail, save_settings]
