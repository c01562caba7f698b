"""Users (用户), roles (角色) and API tokens (API 令牌) in the admin UI.

Every rule lives in ``jimu.services.users``, the same functions the API calls; these handlers
turn forms into its input structs and its errors into messages next to the fields. A secret
(a one-time password, a new token) is rendered once in the answer to the POST that made it,
never put in a redirect or a flash cookie, and the answer is not cached.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from jimu_sdk.errors import JimuError
from jimu_sdk.params import RecordIdParam
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from jimu.i18n import localized_text
from jimu.services import directory
from jimu.services import users as service
from jimu.services.auth import CORE_PERMISSIONS, all_permissions
from jimu.services.users import USER_SORTS, RoleIn, RolePatch, TokenIn, UserIn, UserPatch
from jimu.web.forms import belongs_on_form, failed_form, parse_form
from jimu.web.guards import request_context, requires
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
    wants_results_only,
)
from jimu.web.pages_support import FormState, _, flash_text, form_data, kernel_of, page, redirect
from jimu.web.ui import format_datetime, ui

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ONE_TIME_PASSWORD_BYTES = 12
"""16 URL-safe characters, 96 random bits: strong, and short enough to read out."""

Fetch = Callable[[int, int], Awaitable[tuple[list[Any], int]]]



def _checked(value: Any) -> bool:
    return value not in (None, "", "0", "false", "off")


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple, set)) else [str(value)]


def _without_password(data: Mapping[str, Any]) -> dict[str, Any]:
    """Form values to show again: a password is never echoed back into a page."""
    return {key: value for key, value in data.items() if key != "password"}


def _in_memory(rows: list[dict[str, Any]], state: ListState, *,
               text: Callable[[dict[str, Any]], str],
               sort_keys: Mapping[str, Callable[[dict[str, Any]], Any]]) -> Fetch:
    """Search, sort and page a short list the service returns whole (roles, tokens)."""
    q = state.q.casefold()
    found = [row for row in rows if q in text(row).casefold()] if q else list(rows)
    key = sort_keys.get(state.sort.lstrip("-"))
    if key is not None:
        found.sort(key=lambda row: (key(row) is None, key(row)),
                   reverse=state.sort.startswith("-"))

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        start = (page_number - 1) * per_page
        return found[start:start + per_page], len(found)

    return fetch


def _permission_groups(request: Request, allowed: Iterable[str] | None = None
                       ) -> list[dict[str, Any]]:
    """Permissions as checkbox groups: core's, then each installed plugin's, titled in the
    user's language; ``allowed`` keeps only those keys."""
    kernel = kernel_of(request)
    tenant = request_context(request).tenant
    enabled = tenant.enabled if tenant else frozenset()
    titles = all_permissions(kernel)
    keep = set(allowed) if allowed is not None else set(titles)

    def entries(keys: Iterable[str]) -> list[tuple[str, str]]:
        return [(key, localized_text(titles[key])) for key in keys if key in keep]

    groups = [{"title": _("Core"), "note": "", "permissions": entries(CORE_PERMISSIONS)}]
    for slug, plugin in sorted(kernel.plugins.plugins.items()):
        keys = [p.key for p in plugin.contributed("register_permissions", [])]
        groups.append({"title": localized_text(plugin.meta.title) or slug,
                       "note": "" if slug in enabled else _("not switched on"),
                       "permissions": entries(keys)})
    return [group for group in groups if group["permissions"]]


# ------------------------------------------------------------------------------ users


async def _role_titles() -> dict[str, str]:
    return {r["name"]: localized_text(r["title"]) or r["name"]
            for r in await service.list_roles()}


async def _partner_labels() -> tuple[list[dict[str, Any]], dict[int, str]]:
    choices = await directory.partner_choices()
    return choices, {p["id"]: f"{p['name']} ({p['code']})" for p in choices}


def _user_columns() -> list[Column]:
    return [Column("username", _("Username"), sort="username"),
            Column("display_name", _("Display name")), Column("email", _("Email")),
            Column("role", _("Role"), sort="role"), Column("partner", _("Partner")),
            Column("is_active", _("Status")),
            Column("last_login_at", _("Last sign-in"), sort="last_login_at")]


def _user_cells(rows: list[dict[str, Any]], roles: dict[str, str], partners: dict[int, str]
                ) -> list[list[Cell]]:
    return [[Cell(r["username"], href=f"/admin/users/{r['id']}"), Cell(r["display_name"]),
             Cell(r["email"]), Cell(roles.get(r["role"], r["role"])),
             Cell(partners.get(r["partner_id"], "") if r["partner_id"] else ""),
             Cell(_("Active") if r["is_active"] else _("Inactive"),
                  badge="ok" if r["is_active"] else "off"),
             Cell(format_datetime(r["last_login_at"], "short"), export=r["last_login_at"])]
            for r in rows]


@get("/admin/users", include_in_schema=False, guards=[requires("users.read")])
async def users(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=USER_SORTS, default_sort="username",
                           filters=("role", "status"))
    roles = await _role_titles()
    _choices, partners = await _partner_labels()
    status = state.value("status")

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        return await service.list_users(
            q=state.q or None, role=state.value("role"),
            active={"active": True, "inactive": False}.get(status or ""), sort=state.sort,
            page=page_number, per_page=per_page)

    columns = _user_columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        return export_response(fmt, "users", columns, _user_cells(rows, roles, partners),
                               cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    view = ListView(
        state=state, columns=columns, rows=_user_cells(rows, roles, partners), total=total,
        search_label=_("Search username or display name"),
        empty=_("No users match these filters."),
        filters=[Filter("role", _("Role"), options(roles, all_label=_("All roles"))),
                 Filter("status", _("Status"), options(
                     {"active": _("Active"), "inactive": _("Inactive")},
                     all_label=_("Active and inactive")))])
    return list_page(request, "core/users.html", view, flash=flash_text(request),
                     can_write=ui().can("users.write"), can_roles=ui().can("roles.write"))


async def _user_form(request: Request, form: FormState, *, user: dict[str, Any] | None,
                     status: int = 200) -> Template:
    roles = await _role_titles()
    choices, partners = await _partner_labels()
    principal = request_context(request).principal
    return page("core/user_form.html", status=status, form=form, user=user,
                roles=list(roles.items()),
                role_title=roles.get(user["role"], user["role"]) if user else "",
                partners=[("", _("No partner"))] + [(str(p["id"]), partners[p["id"]])
                                                    for p in choices],
                partner_name=partners.get(user["partner_id"], "")
                if user and user["partner_id"] else "",
                is_self=bool(user and principal and principal.user_id == user["id"]),
                flash=flash_text(request), can_write=ui().can("users.write"))


@get("/admin/users/new", include_in_schema=False, guards=[requires("users.write")])
async def new_user(request: Request) -> Template:
    return await _user_form(request, FormState(values={"role": "staff"}), user=None)


@post("/admin/users/new", include_in_schema=False, guards=[requires("users.write")])
async def create_user(request: Request) -> Template | Redirect:
    data = await form_data(request)
    generated = _checked(data.get("generate_password"))
    if generated:
        data["password"] = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    try:
        row = await service.create_user(parse_form(UserIn, data))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _user_form(request, failed_form(_without_password(data), exc),
                                user=None, status=exc.status_code)
    if not generated:
        return redirect(f"/admin/users/{row['id']}", flash=_("User created."))
    return Template("core/user_created.html", status_code=201, headers=NO_STORE,
                    context={"user": row, "password": data["password"]})


def _user_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"display_name": row["display_name"], "email": row["email"], "role": row["role"],
            "partner_id": row["partner_id"] or "", "is_active": row["is_active"]}


@get("/admin/users/{user_id:int}", include_in_schema=False, guards=[requires("users.read")])
async def user_detail(request: Request, user_id: RecordIdParam) -> Template:
    row = await service.get_user(user_id)
    return await _user_form(request, FormState(values=_user_values(row)), user=row)


@post("/admin/users/{user_id:int}", include_in_schema=False, guards=[requires("users.write")])
async def update_user(request: Request, user_id: RecordIdParam) -> Template | Redirect:
    row = await service.get_user(user_id)
    data = await form_data(request)
    if not str(data.get("password") or "").strip():
        data.pop("password", None)  # a blank new password means "keep the current one"
    try:
        await service.update_user(user_id, parse_form(UserPatch, data,
                                                      checkboxes=("is_active",)))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        values = {**_without_password(data), "is_active": _checked(data.get("is_active"))}
        return await _user_form(request, failed_form(values, exc), user=row,
                                status=exc.status_code)
    return redirect(f"/admin/users/{user_id}", flash=_("Changes saved."))


@post("/admin/users/{user_id:int}/deactivate", include_in_schema=False,
      guards=[requires("users.write")])
async def deactivate_user(request: Request, user_id: RecordIdParam) -> Template | Redirect:
    row = await service.get_user(user_id)
    try:
        await service.deactivate_user(user_id)
    except JimuError as exc:
        if exc.status_code != 409:
            raise
        return await _user_form(request, failed_form(_user_values(row), exc), user=row,
                                status=409)
    return redirect(f"/admin/users/{user_id}", flash=_("User deactivated."))


# ------------------------------------------------------------------------------ roles

ROLE_SORTS = ("name", "title", "permissions")


def _role_columns() -> list[Column]:
    return [Column("name", _("Identifier"), sort="name"),
            Column("title", _("Title"), sort="title"),
            Column("permissions", _("Permissions"), sort="permissions", numeric=True),
            Column("users", _("Users"), numeric=True), Column("builtin", _("Kind"))]


async def _role_cells(rows: list[dict[str, Any]]) -> list[list[Cell]]:
    cells = []
    for r in rows:
        _found, holders = await service.list_users(role=r["name"], per_page=1)
        cells.append([
            Cell(r["name"], href=f"/admin/roles/{r['id']}"),
            Cell(localized_text(r["title"])),
            Cell(str(len(r["permissions"])), export=len(r["permissions"])),
            Cell(str(holders), href=f"/admin/users?role={r['name']}", export=holders),
            Cell(_("Built-in") if r["builtin"] else _("Custom"),
                 badge="off" if r["builtin"] else None)])
    return cells


@get("/admin/roles", include_in_schema=False, guards=[requires("users.read")])
async def roles(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=ROLE_SORTS, default_sort="name")
    fetch = _in_memory(
        await service.list_roles(), state,
        text=lambda r: " ".join([r["name"], *r["title"].values()]),
        sort_keys={"name": lambda r: r["name"], "title": lambda r: localized_text(r["title"]),
                   "permissions": lambda r: len(r["permissions"])})
    columns = _role_columns()
    fmt = export_format(request)
    if fmt:
        rows, _cut = await collect_all(fetch)
        return export_response(fmt, "roles", columns, await _role_cells(rows))
    rows, total = await fetch(state.page, state.per_page)
    view = ListView(state=state, columns=columns, rows=await _role_cells(rows), total=total,
                    search_label=_("Search identifier or title"),
                    empty=_("No roles match this search."))
    return list_page(request, "core/roles.html", view, flash=flash_text(request),
                     can_write=ui().can("roles.write"))


async def _role_form(request: Request, form: FormState, *, role: dict[str, Any] | None,
                     status: int = 200) -> Template:
    holders = 0
    if role is not None:
        _found, holders = await service.list_users(role=role["name"], per_page=1)
    return page("core/role_form.html", status=status, form=form, role=role, holders=holders,
                groups=_permission_groups(request),
                selected=set(_as_list(form.values.get("permissions"))),
                flash=flash_text(request), can_write=ui().can("roles.write"))


@get("/admin/roles/new", include_in_schema=False, guards=[requires("roles.write")])
async def new_role(request: Request) -> Template:
    return await _role_form(request, FormState(), role=None)


@post("/admin/roles/new", include_in_schema=False, guards=[requires("roles.write")])
async def create_role(request: Request) -> Template | Redirect:
    data = await form_data(request)
    try:
        row = await service.create_role(kernel_of(request),
                                        parse_form(RoleIn, data, lists=("permissions",)))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _role_form(request, failed_form(data, exc), role=None,
                                status=exc.status_code)
    return redirect(f"/admin/roles/{row['id']}", flash=_("Role created."))


def _role_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "title_zh": row["title"].get("zh-CN", ""),
            "title_en": row["title"].get("en", ""), "permissions": row["permissions"]}


@get("/admin/roles/{role_id:int}", include_in_schema=False, guards=[requires("users.read")])
async def role_detail(request: Request, role_id: RecordIdParam) -> Template:
    row = await service.get_role(role_id)
    return await _role_form(request, FormState(values=_role_values(row)), role=row)


@post("/admin/roles/{role_id:int}", include_in_schema=False, guards=[requires("roles.write")])
async def update_role(request: Request, role_id: RecordIdParam) -> Template | Redirect:
    row = await service.get_role(role_id)
    data = await form_data(request)
    try:
        await service.update_role(kernel_of(request), role_id,
                                  parse_form(RolePatch, data, lists=("permissions",)))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _role_form(request, failed_form({**data, "name": row["name"]}, exc),
                                role=row, status=exc.status_code)
    return redirect(f"/admin/roles/{role_id}", flash=_("Changes saved."))


@post("/admin/roles/{role_id:int}/delete", include_in_schema=False,
      guards=[requires("roles.write")])
async def delete_role(request: Request, role_id: RecordIdParam) -> Template | Redirect:
    row = await service.get_role(role_id)
    try:
        await service.delete_role(role_id)
    except JimuError as exc:
        if exc.status_code != 409:
            raise
        return await _role_form(request, failed_form(_role_values(row), exc), role=row,
                                status=409)
    return redirect("/admin/roles", flash=_("Role deleted."))


# ------------------------------------------------------------------------------ API tokens

TOKEN_SORTS = ("name", "created_at", "expires_at", "last_used_at")


def _token_status(request: Request, row: dict[str, Any]) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= kernel_of(request).clock.now():
        return "expired"
    return "active"


def _token_columns() -> list[Column]:
    return [Column("name", _("Name"), sort="name"), Column("prefix", _("Starts with")),
            Column("scopes", _("Permissions")),
            Column("created_at", _("Created"), sort="created_at"),
            Column("expires_at", _("Expires"), sort="expires_at"),
            Column("last_used_at", _("Last used"), sort="last_used_at"),
            Column("status", _("Status"))]


def _token_cells(request: Request, rows: list[dict[str, Any]]) -> list[list[Cell]]:
    statuses = {"active": (_("Active"), "ok"), "revoked": (_("Revoked"), "warn"),
                "expired": (_("Expired"), "off")}
    cells = []
    for r in rows:
        label, badge = statuses[_token_status(request, r)]
        cells.append([
            Cell(r["name"]), Cell(r["prefix"] + "…", export=r["prefix"]),
            Cell(", ".join(r["scopes"])),
            Cell(format_datetime(r["created_at"], "short"), export=r["created_at"]),
            Cell(format_datetime(r["expires_at"], "short") or _("Never"),
                 export=r["expires_at"]),
            Cell(format_datetime(r["last_used_at"], "short"), export=r["last_used_at"]),
            Cell(label, badge=badge)])
    return cells


async def _tokens_page(request: Request, form: FormState, *, status: int = 200
                       ) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=TOKEN_SORTS, default_sort="-created_at",
                           filters=("status",))
    wanted = state.value("status")
    rows = [r for r in await service.list_tokens()
            if wanted is None or _token_status(request, r) == wanted]
    fetch = _in_memory(rows, state, text=lambda r: f"{r['name']} {r['prefix']}",
                       sort_keys={key: itemgetter(key) for key in TOKEN_SORTS})
    columns = _token_columns()
    fmt = export_format(request)
    if fmt and request.method == "GET":
        every, _cut = await collect_all(fetch)
        return export_response(fmt, "api-tokens", columns, _token_cells(request, every))
    shown, total = await fetch(state.page, state.per_page)
    view = ListView(
        state=state, columns=columns, rows=_token_cells(request, shown), total=total,
        search_label=_("Search name or prefix"), empty=_("No API tokens match these filters."),
        filters=[Filter("status", _("Status"), options(
            {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")},
            all_label=_("Any status")))])
    context = {"view": view, "tokens": shown, "form": form,
               "groups": _permission_groups(request, request_context(request).permissions),
               "selected": set(_as_list(form.values.get("scopes"))), "flash": flash_text(request),
               "revocable": {r["id"] for r in shown if r["revoked_at"] is None}}
    if wants_results_only(request):
        return Template("core/token_results.html", context=context,
                        headers={"Vary": "HX-Request, HX-Target"})
    return Template("core/tokens.html", context=context, status_code=status,
                    headers={"Vary": "HX-Request, HX-Target"})


@get("/admin/tokens", include_in_schema=False, guards=[requires("tokens.write")])
async def tokens(request: Request) -> Template | Response[bytes]:
    return await _tokens_page(request, FormState())


@post("/admin/tokens", include_in_schema=False, guards=[requires("tokens.write")])
async def create_token(request: Request) -> Template | Response[bytes]:
    ctx = request_context(request)
    assert ctx.principal is not None
    data = await form_data(request)
    try:
        secret, info = await service.create_token(
            kernel_of(request), parse_form(TokenIn, data, lists=("scopes",)),
            user_id=ctx.principal.user_id, via=ctx.principal.via, permissions=ctx.permissions)
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _tokens_page(request, failed_form(data, exc), status=exc.status_code)
    return Template("core/token_created.html", status_code=201, headers=NO_STORE,
                    context={"token": info, "secret": secret})


@post("/admin/tokens/{token_id:int}/revoke", include_in_schema=False,
      guards=[requires("tokens.write")])
async def revoke_token(request: Request, token_id: RecordIdParam) -> Redirect:
    await service.revoke_token(kernel_of(request), token_id)
    return redirect("/admin/tokens", flash=_("API token revoked."))


ROUTES = [users, new_user, create_user, user_detail, update_user, deactivate_user, roles,
          new_role, create_role, role_detail, update_role, delete_role, tokens, create_token,
          revoke_token]
