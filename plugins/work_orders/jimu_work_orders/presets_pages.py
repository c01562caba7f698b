"""The preset flows page, /admin/p/work_orders/presets: one card per preset (its steps in
order, the customer messages, its SLA, installed or not), with "install" and "install a copy"
forms; after an install, a link to the flow designer."""

from __future__ import annotations

from typing import Any

from jimu_sdk import N_, JimuError, NotFound, PermissionDenied, has_permission
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_work_orders import presets

BASE = "/admin/p/work_orders/presets"


async def _page(*, installed: dict[str, Any] | None = None,
                problem: dict[str, Any] | None = None, status: int = 200) -> Template:
    return Template("work_orders/presets.html", status_code=status, context={
        "presets": await presets.list_presets(), "base": BASE,
        "can_install": has_permission("work_orders.admin") and has_permission("flows.write"),
        "installed": installed, "problem": problem})


class PresetPages(Controller):
    path = "/presets"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def overview(self, request: Request[Any, Any, Any]) -> Template:
        installed = None
        flow = request.query_params.get("flow", "")
        preset = request.query_params.get("installed", "")
        if flow.isdigit() and preset in presets.PRESETS:
            installed = {"preset": preset, "flow_id": int(flow),
                         "code": request.query_params.get("code", "")[:63],
                         "designer_url": presets.designer_url(int(flow)),
                         "types_missing": [t for t in request.query_params.getall(
                             "missing", []) if t == presets.PRESETS[preset].type_key]}
        return await _page(installed=installed)

    @post("/{preset_code:str}/install", media_type=MediaType.HTML)
    async def install(self, request: Request[Any, Any, Any], preset_code: str
                      ) -> Template | Redirect:
        if not (has_permission("work_orders.admin") and has_permission("flows.write")):
            raise PermissionDenied(N_("installing a preset flow needs the permissions "
                                      "work_orders.admin and flows.write"))
        if preset_code not in presets.PRESETS:
            raise NotFound(N_("no preset flow %(code)s; the presets are %(allowed)s"),
                           params={"code": preset_code, "allowed": ", ".join(presets.PRESETS)})
        form = await request.form()
        code, name = (str(form.get(key) or "").strip() for key in ("code", "name"))
        try:
            done = await presets.install(preset_code, code=code or None, name=name or None)
        except JimuError as exc:
            return await _page(status=exc.status_code, problem={
                "preset": preset_code, "copy": bool(code), "code": code, "name": name,
                "id": exc.message_id, "params": exc.params, "field": exc.field})
        query = f"installed={done['preset']}&flow={done['flow_id']}&code={done['code']}"
        query += "".join(f"&missing={key}" for key in done["types_missing"])
        return Redirect(f"{BASE}/?{query}", status_code=303)
