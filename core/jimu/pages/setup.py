"""Industry template picker (行业模板) and the organisation's settings (language, theme)."""

from __future__ import annotations

from typing import Any

from jimu_sdk.context import platform
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from jimu.db.tables import Tenant
from jimu.i18n import LOCALES
from jimu.services import industry_templates
from jimu.services.tenants import bump_config_version
from jimu.web.guards import request_context, requires
from jimu.web.pages_support import FormState, _, form_data, kernel_of, page, redirect, take_flash
from jimu.web.ui import kernel_themes


@get("/admin/templates", include_in_schema=False, guards=[requires("plugins.write")])
async def templates(request: Request) -> Template:
    kernel = kernel_of(request)
    tenant = request_context(request).tenant
    assert tenant is not None
    current = await Tenant.select(Tenant.template).where(Tenant.id == tenant.id).first()
    flash = take_flash(request)
    return page("core/templates.html", templates=industry_templates.load_templates().values(),
                current=current["template"] if current else "", enabled=tenant.enabled,
                installed=kernel.plugins.plugins, flash=_(flash) if flash else "")


@get("/admin/templates/{key:str}", include_in_schema=False, guards=[requires("plugins.write")])
async def preview(request: Request, key: str) -> Template:
    kernel = kernel_of(request)
    template = industry_templates.get_template(key)
    steps = await industry_templates.plan(kernel, template)
    return page("core/template_preview.html", template=template, steps=steps,
                changes=sum(1 for s in steps if s.action in ("enable", "configure")),
                missing=[s.plugin for s in steps if s.action == "missing"],
                installed=kernel.plugins.plugins)


@post("/admin/templates/{key:str}/apply", include_in_schema=False,
      guards=[requires("plugins.write")])
async def apply(request: Request, key: str) -> Redirect | Response[Any]:
    """Apply the whole template, or one step of it (``step``) for the page's progress bar."""
    kernel = kernel_of(request)
    template = industry_templates.get_template(key)
    data = await form_data(request)
    step = data.get("step")
    if step is not None and str(step).isdigit():
        steps = await industry_templates.plan(kernel, template)
        index = int(step)
        if index >= len(steps):
            await industry_templates.apply(kernel, template)  # finishing touch: the record
            return Response({"done": True, "total": len(steps)}, status_code=200)
        await industry_templates.apply_step(kernel, steps[index])
        return Response({"done": False, "step": index + 1, "total": len(steps),
                         "plugin": steps[index].plugin}, status_code=200)
    changed = await industry_templates.apply(kernel, template)
    return redirect("/admin/templates", flash=_(
        "Applied the template: %(count)s changes.", count=len(changed)) if changed else _(
        "The template was already applied; nothing changed."))


@get("/admin/settings", include_in_schema=False, guards=[requires("settings.write")])
async def settings_form(request: Request) -> Template:
    tenant = request_context(request).tenant
    assert tenant is not None
    flash = take_flash(request)
    return page("core/settings.html", form=FormState(values={
        "name": tenant.name, "locale": tenant.locale, "theme": tenant.theme,
        "timezone": tenant.timezone}), themes=kernel_themes(kernel_of(request)),
        locales=LOCALES, flash=_(flash) if flash else "")


@post("/admin/settings", include_in_schema=False, guards=[requires("settings.write")])
async def settings_submit(request: Request) -> Template | Redirect:
    kernel = kernel_of(request)
    tenant = request_context(request).tenant
    assert tenant is not None
    data = await form_data(request)
    themes = kernel_themes(kernel)
    errors: dict[str, str] = {}
    name = str(data.get("name", "")).strip()
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(name) > 200:
        errors["name"] = _("At most 200 characters.")
    if data.get("locale") not in LOCALES:
        errors["locale"] = _("Choose a language from the list.")
    if data.get("theme") not in themes:
        errors["theme"] = _("Choose a theme from the list.")
    if errors:
        return page("core/settings.html", status=422, form=FormState(data, errors),
                    themes=themes, locales=LOCALES, flash="")
    before = {"name": tenant.name, "locale": tenant.locale, "theme": tenant.theme}
    after = {"name": name, "locale": data["locale"], "theme": data["theme"]}
    if before != after:
        await Tenant.update({Tenant.name: name, Tenant.locale: after["locale"],
                             Tenant.theme: after["theme"]}).where(Tenant.id == tenant.id)
        await bump_config_version()
        await platform().audit("tenant.settings", f"tenant:{tenant.slug}", before, after)
    return redirect("/admin/settings", flash=_("Settings saved."))


ROUTES = [templates, preview, apply, settings_form, settings_submit]
