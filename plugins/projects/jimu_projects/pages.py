"""Admin pages under /admin/p/projects: package list, package form with component lines,
and a package's priced breakdown for two regions side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jimu_sdk import JimuError, PermissionDenied, has_permission
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_projects import services

BASE = "/admin/p/projects"
ROWS = 10


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    message: tuple[str, dict[str, Any]] | None = None


def _require_write() -> None:
    if not has_permission("projects.write"):
        raise PermissionDenied("you need the permission 'projects.write'")


def _values_of(package: dict[str, Any], components: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {k: package[k] for k in ("code", "name", "kind", "description")}
    values["active"] = package["active"]
    for key in services.MATERIALS:
        values[key] = "\n".join((package["materials"] or {}).get(key, []))
    for index, c in enumerate(components):
        values[f"sku_{index}"] = c["sku"]
        values[f"qty_{index}"] = services._plain(services.dec(c["quantity"]))
    return values


def _parse(values: dict[str, Any]) -> tuple[list[services.ComponentIn], dict[str, list[str]]]:
    components = [services.ComponentIn(values[f"sku_{i}"], values.get(f"qty_{i}", ""))
                  for i in range(ROWS) if values.get(f"sku_{i}")]
    materials = {key: [line.strip() for line in values.get(key, "").splitlines()
                       if line.strip()] for key in services.MATERIALS}
    return components, {k: v for k, v in materials.items() if v}


def _field_name(name: str, values: dict[str, Any]) -> str:
    """``components[2].quantity`` → the form's ``qty_<row>`` of the 3rd filled row."""
    if not name.startswith("components["):
        return name.split(".")[0]
    filled = [i for i in range(ROWS) if values.get(f"sku_{i}")]
    index = int(name[len("components["):name.index("]")])
    row = filled[index] if index < len(filled) else 0
    return f"qty_{row}" if name.endswith("quantity") else f"sku_{row}"


class ProjectPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def index(self, request: Request) -> Template:
        return Template("projects/packages.html", context={
            "packages": await services.list_packages(), "report": await services.cost_report(),
            "usages": await services.list_usages(limit=20),
            "saved": request.query_params.get("saved", ""),
            "can_write": has_permission("projects.write")})

    async def _form(self, form: Form, code: str | None, status: int = 200) -> Template:
        return Template("projects/package_form.html", status_code=status, context={
            "form": form, "code": code, "kinds": services.KINDS, "rows": range(ROWS),
            "materials": services.MATERIALS})

    @get("/packages/new", media_type=MediaType.HTML)
    async def new(self) -> Template:
        _require_write()
        return await self._form(Form(values={"kind": "service_package", "active": True}), None)

    @get("/packages/{package_code:str}/edit", media_type=MediaType.HTML)
    async def edit(self, package_code: str) -> Template:
        _require_write()
        code = await services.package_key(package_code)
        package = await services.package_by_code(code)
        return await self._form(Form(values=_values_of(
            package, await services.components_of(package["id"]))), code)

    async def _save(self, request: Request, code: str | None) -> Template | Redirect:
        _require_write()
        raw = await request.form()
        values: dict[str, Any] = {k: (v.strip() if isinstance(v, str) else "")
                                  for k, v in raw.items() if k != "csrf_token"}
        values["active"] = bool(values.get("active"))
        components, materials = _parse(values)
        try:
            saved = await services.save_package(
                code=code or values.get("code", ""), name=values.get("name", ""),
                kind=values.get("kind", ""), description=values.get("description", "")[:4000],
                components=components, materials=materials, active=values["active"],
                existing=code)
        except JimuError as exc:
            form = Form(values=values)
            if exc.field:
                form.errors[_field_name(exc.field, values)] = (exc.message_id, exc.params)
            else:
                form.message = (exc.message_id, exc.params)
            return await self._form(form, code, status=422)
        return Redirect(f"{BASE}/packages/{saved['code']}?saved=1")

    @post("/packages/new", media_type=MediaType.HTML)
    async def create(self, request: Request) -> Template | Redirect:
        return await self._save(request, None)

    @post("/packages/{package_code:str}/edit", media_type=MediaType.HTML)
    async def update(self, request: Request, package_code: str) -> Template | Redirect:
        return await self._save(request, await services.package_key(package_code))

    @get("/packages/{package_code:str}", media_type=MediaType.HTML)
    async def detail(self, request: Request, package_code: str) -> Template:
        code = await services.package_key(package_code)
        package = await services.package_by_code(code)
        regions = [request.query_params.get("region", "310115")[:12],
                   request.query_params.get("compare", "320500")[:12]]
        priced = []
        for region in regions:
            try:
                got = await services.price_breakdown(code, region_code=region or None,
                                                     partner_id=None)
                priced.append({"region": region, "result": got["result"], "error": None,
                               "names": " / ".join(r["name"] for r in
                                                   request_region_path(region))})
            except JimuError as exc:
                priced.append({"region": region, "result": None, "names": "",
                               "error": (exc.message_id, exc.params)})
        return Template("projects/package.html", context={
            "package": package, "components": await services.components_of(package["id"]),
            "priced": priced, "regions": regions,
            "usages": await services.list_usages(package=code, limit=20),
            "saved": request.query_params.get("saved", ""),
            "can_write": has_permission("projects.write")})


def request_region_path(code: str) -> list[Any]:
    from jimu_sdk import platform

    return list(platform().region_path(code)) if code else []
