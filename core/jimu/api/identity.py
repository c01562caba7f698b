"""Sign-in, tenants (platform operators), users, roles and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu.db.tables import ApiToken, Role, Tenant, User, UserSession
from jimu.kernel import Kernel
from jimu.services import tenants as tenant_service
from jimu.services.auth import (
    all_permissions,
    hash_password,
    login,
    logout,
    new_api_token,
    token_digest,
    verify_password,
)
from jimu.web.errors import ErrorOut, document_errors
from jimu.web.guards import platform_operator, request_context, requires, signed_in
from jimu.web.listing import (
    PageNumber,
    PerPage,
    RecordId,
    RecordIdParam,
    SearchParam,
    SortParam,
    apply_sort,
    like_pattern,
    page_slice,
)
from jimu.web.request_scope import SESSION_COOKIE, session_cookie
from jimu_sdk.context import current_tenant_id, platform
from jimu_sdk.errors import Conflict, NotFound, ValidationFailed
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Username = Annotated[str, msgspec.Meta(min_length=2, max_length=150)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=63)]


def kernel_of(request: Request) -> Kernel:
    return request.app.state.kernel  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ auth


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password


class LoginOut(msgspec.Struct):
    user_id: int
    username: str
    tenant_id: int | None


class MeOut(msgspec.Struct):
    user_id: int | None
    username: str
    tenant_id: int | None
    tenant_name: str | None
    role: str | None
    partner_id: int | None
    is_platform_operator: bool
    permissions: list[str]
    enabled_plugins: list[str]
    csrf_token: str | None


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/password", status_code=HTTP_204_NO_CONTENT, guards=[signed_in],
          summary="Change my password")
    async def change_password(self, request: Request, data: PasswordChangeIn) -> None:
        principal = request_context(request).principal
        assert principal is not None
        if principal.via != "session":
            raise Conflict("passwords are changed by the signed-in user, not by an API token")
        user = await User.select(User.password_hash).where(User.id == principal.user_id).first()
        if user is None or not verify_password(user["password_hash"], data.current_password):
            raise ValidationFailed("the current password is wrong", field="current_password")
        await User.update({User.password_hash: hash_password(data.new_password)}
                          ).where(User.id == principal.user_id)
        # Other sessions of this user end; this one stays.
        await UserSession.delete().where(
            (UserSession.user_id == principal.user_id)
            & (UserSession.token_hash != token_digest(request.cookies.get(SESSION_COOKIE, ""))))

    @post("/login", status_code=HTTP_200_OK, summary="Sign in with a password",
          responses={429: ResponseSpec(data_container=ErrorOut, generate_examples=False,
                                       description="Too many failed sign-ins of this user")})
    async def login(self, request: Request, data: LoginIn) -> Response[LoginOut]:
        kernel = kernel_of(request)
        token, user = await login(kernel, data.username, data.password,
                                  remote=request.client.host if request.client else "")
        cookie = session_cookie(kernel, token)
        return Response(LoginOut(user_id=user["id"], username=user["username"],
                                 tenant_id=user["tenant_id"]), cookies=[cookie])

    # Declared on the route (not a Response[None]) so the schema documents 204 without a body.
    @post("/logout", status_code=HTTP_204_NO_CONTENT, guards=[signed_in],
          summary="Sign out (ends the session)",
          response_cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])
    async def logout(self, request: Request) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await logout(token)

    @get("/me", guards=[signed_in], summary="Who am I, with my permissions and CSRF token")
    async def me(self, request: Request) -> MeOut:
        ctx = request_context(request)
        principal = ctx.principal
        assert principal is not None
        return MeOut(user_id=principal.user_id, username=principal.username,
                     tenant_id=principal.tenant_id,
                     tenant_name=ctx.tenant.name if ctx.tenant else None,
                     role=principal.role, partner_id=principal.partner_id,
                     is_platform_operator=principal.is_platform_operator,
                     permissions=sorted(ctx.permissions),
                     enabled_plugins=sorted(ctx.tenant.enabled) if ctx.tenant else [],
                     csrf_token=principal.csrf_token)


# ------------------------------------------------------------------------------ tenants


class TenantIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Name
    admin_username: Username
    admin_password: Password
    plugins: list[str] = []
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"


class TenantOut(msgspec.Struct):
    id: int
    slug: str
    name: str
    status: str
    template: str
    timezone: str
    locale: str
    created_at: dt.datetime


class TenantPage(msgspec.Struct):
    items: list[TenantOut]
    total: int
    page: int
    per_page: int


def tenant_out(row: dict[str, Any]) -> TenantOut:
    return TenantOut(id=row["id"], slug=row["slug"], name=row["name"], status=row["status"],
                     template=row["template"], timezone=row["timezone"], locale=row["locale"],
                     created_at=row["created_at"])


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants"]
    guards = [platform_operator]

    @get("/", summary="List tenants (platform operators)")
    async def list_tenants(self, q: SearchParam = None, status: str | None = None,
                           sort: SortParam = None, page: PageNumber = 1,
                           per_page: PerPage = 50) -> TenantPage:
        where: list[Any] = []
        if q:
            where.append(Tenant.name.ilike(like_pattern(q)) | Tenant.slug.ilike(like_pattern(q)))
        if status:
            where.append(Tenant.status == status)
        query = apply_sort(Tenant.select().where(*where), Tenant, sort,
                           ("id", "slug", "name", "created_at", "status"), "id")
        rows = await page_slice(query, page, per_page)
        total = await Tenant.count().where(*where)
        return TenantPage(items=[tenant_out(r) for r in rows], total=total, page=page,
                          per_page=per_page)

    @post("/", summary="Create a tenant with its first admin")
    async def create_tenant(self, request: Request, data: TenantIn) -> TenantOut:
        row = await tenant_service.create_tenant(
            kernel_of(request), slug=data.slug, name=data.name,
            admin_username=data.admin_username, admin_password=data.admin_password,
            plugins=data.plugins, timezone=data.timezone, locale=data.locale)
        return tenant_out(row)

    @get("/{tenant_id:int}", summary="One tenant")
    async def get_tenant(self, tenant_id: RecordIdParam) -> TenantOut:
        row = await Tenant.select().where(Tenant.id == tenant_id).first()
        if row is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return tenant_out(row)

    @post("/{tenant_id:int}/suspend", status_code=HTTP_200_OK, summary="Suspend a tenant")
    async def suspend(self, request: Request, tenant_id: RecordIdParam) -> TenantOut:
        return tenant_out(await tenant_service.set_tenant_status(kernel_of(request), tenant_id,
                                                                 "suspended"))

    @post("/{tenant_id:int}/resume", status_code=HTTP_200_OK, summary="Resume a tenant")
    async def resume(self, request: Request, tenant_id: RecordIdParam) -> TenantOut:
        return tenant_out(await tenant_service.set_tenant_status(kernel_of(request), tenant_id,
                                                                 "active"))


# ------------------------------------------------------------------------------ users


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=63)] = "staff"
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    partner_id: RecordId | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=63)] | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    partner_id: RecordId | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    email: str
    role: str
    partner_id: int | None
    is_active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserPage(msgspec.Struct):
    items: list[UserOut]
    total: int
    page: int
    per_page: int


USER_COLUMNS = (User.id, User.username, User.display_name, User.email, User.role,
                User.partner_id, User.is_active, User.created_at, User.last_login_at)


async def _check_role_and_partner(role: str | None, partner_id: int | None) -> None:
    from jimu.db.tables import Partner

    if role is not None and not await Role.scoped_count().where(Role.name == role):
        raise ValidationFailed(f"no role named {role!r} in this tenant", field="role")
    if role == "partner" and partner_id is None:
        raise ValidationFailed("a partner user must be bound to a partner", field="partner_id")
    if partner_id is not None and not await Partner.scoped_count().where(
            Partner.id == partner_id):
        raise ValidationFailed(f"partner {partner_id} not found", field="partner_id")


async def _get_user(user_id: int) -> dict[str, Any]:
    row = await User.select(*USER_COLUMNS).where(
        (User.id == user_id) & (User.tenant_id == current_tenant_id())).first()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/", guards=[requires("users.read")], summary="List the tenant's users")
    async def list_users(self, q: SearchParam = None, role: str | None = None,
                         sort: SortParam = None, page: PageNumber = 1,
                         per_page: PerPage = 50) -> UserPage:
        where: list[Any] = [User.tenant_id == current_tenant_id()]
        if q:
            where.append(User.username.ilike(like_pattern(q))
                         | User.display_name.ilike(like_pattern(q)))
        if role:
            where.append(User.role == role)
        query = apply_sort(User.select(*USER_COLUMNS).where(*where), User, sort,
                           ("id", "username", "role", "created_at"), "id")
        rows = await page_slice(query, page, per_page)
        return UserPage(items=[UserOut(**r) for r in rows],
                        total=await User.count().where(*where), page=page, per_page=per_page)

    @post("/", guards=[requires("users.write")], summary="Create a user in this tenant")
    async def create_user(self, data: UserIn) -> UserOut:
        tenant_service.check_username(data.username)
        await _check_role_and_partner(data.role, data.partner_id)
        if await User.exists().where(User.username == data.username):
            raise Conflict(f"the username {data.username!r} is taken", field="username")
        user = User(tenant_id=current_tenant_id(), username=data.username,
                    display_name=data.display_name or data.username, email=data.email,
                    password_hash=hash_password(data.password), role=data.role,
                    partner_id=data.partner_id)
        await user.save()
        await platform().audit("user.create", f"user:{user.id}", None,
                               {"username": data.username, "role": data.role,
                                "partner_id": data.partner_id})
        return UserOut(**await _get_user(user.id))

    @get("/{user_id:int}", guards=[requires("users.read")], summary="One user")
    async def get_user(self, user_id: RecordIdParam) -> UserOut:
        return UserOut(**await _get_user(user_id))

    @patch("/{user_id:int}", guards=[requires("users.write")], summary="Change a user")
    async def update_user(self, user_id: RecordIdParam, data: UserPatch) -> UserOut:
        before = await _get_user(user_id)
        changes: dict[Any, Any] = {}
        fields = msgspec.structs.asdict(data)
        await _check_role_and_partner(data.role, data.partner_id)
        for name in ("role", "display_name", "email", "partner_id", "is_active"):
            if fields[name] is not None:
                changes[getattr(User, name)] = fields[name]
        if data.password is not None:
            changes[User.password_hash] = hash_password(data.password)
        if changes:
            await User.update(changes).where(User.id == user_id)
            after = await _get_user(user_id)
            await platform().audit("user.update", f"user:{user_id}",
                                   _public(before), _public(after))
        return UserOut(**await _get_user(user_id))

    @delete("/{user_id:int}", guards=[requires("users.write")], summary="Deactivate a user",
            status_code=HTTP_204_NO_CONTENT)
    async def deactivate_user(self, user_id: RecordIdParam) -> None:
        before = await _get_user(user_id)
        if before["id"] == request_scope_user():
            raise Conflict("you cannot deactivate yourself")
        await User.update({User.is_active: False}).where(User.id == user_id)
        await platform().audit("user.deactivate", f"user:{user_id}", _public(before),
                               {**_public(before), "is_active": False})


def request_scope_user() -> int | None:
    from jimu_sdk.context import current_scope

    scope = current_scope()
    return scope.user_id if scope else None


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


# ------------------------------------------------------------------------------ roles


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
    title_zh: Name
    title_en: Name
    permissions: list[str] = []


class RolePatch(msgspec.Struct, forbid_unknown_fields=True):
    title_zh: Name | None = None
    title_en: Name | None = None
    permissions: list[str] | None = None


class RoleOut(msgspec.Struct):
    id: int
    name: str
    title: dict[str, str]
    permissions: list[str]
    builtin: bool


class PermissionOut(msgspec.Struct):
    key: str
    title: dict[str, str]


def _check_permissions(kernel: Kernel, permissions: list[str]) -> None:
    known = all_permissions(kernel)
    unknown = [p for p in permissions if p not in known]
    if unknown:
        raise ValidationFailed(f"unknown permissions: {', '.join(unknown)}",
                               field="permissions")


def role_out(row: dict[str, Any]) -> RoleOut:
    return RoleOut(id=row["id"], name=row["name"], title=row["title"],
                   permissions=row["permissions"], builtin=row["builtin"])


class RoleController(Controller):
    path = "/api/v1/roles"
    tags = ["roles"]

    @get("/", guards=[requires("users.read")], summary="List roles")
    async def list_roles(self) -> list[RoleOut]:
        return [role_out(r) for r in await Role.scoped_select().order_by(Role.id)]

    @get("/permissions", guards=[requires("users.read")],
         summary="Every permission core and installed plugins define")
    async def list_permissions(self, request: Request) -> list[PermissionOut]:
        return [PermissionOut(key=k, title=v)
                for k, v in sorted(all_permissions(kernel_of(request)).items())]

    @post("/", guards=[requires("roles.write")], summary="Create a role")
    async def create_role(self, request: Request, data: RoleIn) -> RoleOut:
        _check_permissions(kernel_of(request), data.permissions)
        if await Role.scoped_count().where(Role.name == data.name):
            raise Conflict(f"a role named {data.name!r} exists", field="name")
        row = await Role.scoped_insert(name=data.name, title={"zh-CN": data.title_zh,
                                                              "en": data.title_en},
                                       permissions=sorted(set(data.permissions)), builtin=False)
        await tenant_service.bump_config_version()
        await platform().audit("role.create", f"role:{data.name}", None, row["permissions"])
        return role_out(row)

    @patch("/{role_id:int}", guards=[requires("roles.write")], summary="Change a role")
    async def update_role(self, request: Request, role_id: RecordIdParam, data: RolePatch
                          ) -> RoleOut:
        row = await Role.scoped_get(role_id, what="role")
        changes: dict[Any, Any] = {}
        if data.permissions is not None:
            _check_permissions(kernel_of(request), data.permissions)
            changes[Role.permissions] = sorted(set(data.permissions))
        title = dict(row["title"])
        if data.title_zh is not None:
            title["zh-CN"] = data.title_zh
        if data.title_en is not None:
            title["en"] = data.title_en
        changes[Role.title] = title
        await Role.scoped_update(changes).where(Role.id == role_id)
        await tenant_service.bump_config_version()
        after = await Role.scoped_get(role_id, what="role")
        await platform().audit("role.update", f"role:{row['name']}",
                               {"title": row["title"], "permissions": row["permissions"]},
                               {"title": after["title"], "permissions": after["permissions"]})
        return role_out(after)

    @delete("/{role_id:int}", guards=[requires("roles.write")], summary="Delete a role",
            status_code=HTTP_204_NO_CONTENT)
    async def delete_role(self, role_id: RecordIdParam) -> None:
        row = await Role.scoped_get(role_id, what="role")
        if row["builtin"]:
            raise Conflict(f"the built-in role {row['name']!r} cannot be deleted")
        users = await User.count().where((User.tenant_id == current_tenant_id())
                                         & (User.role == row["name"]))
        if users:
            raise Conflict(f"{users} user(s) still have the role {row['name']!r}")
        await Role.scoped_delete().where(Role.id == role_id)
        await tenant_service.bump_config_version()
        await platform().audit("role.delete", f"role:{row['name']}", row["permissions"], None)


# ------------------------------------------------------------------------------ API tokens


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: list[str]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreated(msgspec.Struct):
    token: str
    """Shown once; only its hash is stored."""
    info: TokenOut


TOKEN_COLUMNS = (ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.scopes,
                 ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at,
                 ApiToken.last_used_at)


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]
    guards = [requires("tokens.write")]

    @get("/", summary="List API tokens (never their secrets)")
    async def list_tokens(self) -> list[TokenOut]:
        rows = await ApiToken.select(*TOKEN_COLUMNS).output(load_json=True).where(
            ApiToken.tenant_id == current_tenant_id()).order_by(ApiToken.id)
        return [TokenOut(**r) for r in rows]

    @post("/", summary="Create an API token; its secret is shown only in this answer")
    async def create_token(self, request: Request, data: TokenIn) -> TokenCreated:
        ctx = request_context(request)
        assert ctx.principal is not None
        if ctx.principal.via != "session":
            raise Conflict("API tokens are created by a signed-in user, not by another token")
        beyond = sorted(set(data.scopes) - set(ctx.permissions))
        if beyond:
            raise ValidationFailed(f"a token cannot hold permissions you lack: "
                                   f"{', '.join(beyond)}", field="scopes")
        if not data.scopes:
            raise ValidationFailed("name at least one permission the token may use",
                                   field="scopes")
        kernel = kernel_of(request)
        secret = new_api_token()
        now = kernel.clock.now()
        row = ApiToken(tenant_id=current_tenant_id(), name=data.name, prefix=secret[:12],
                       token_hash=token_digest(secret), scopes=sorted(set(data.scopes)),
                       created_by=ctx.principal.user_id, created_at=now,
                       expires_at=now + dt.timedelta(days=data.expires_in_days)
                       if data.expires_in_days else None)
        await row.save()
        await platform().audit("token.create", f"token:{row.id}", None,
                               {"name": data.name, "scopes": row.scopes})
        info = await ApiToken.select(*TOKEN_COLUMNS).output(load_json=True).where(
            ApiToken.id == row.id).first()
        assert info is not None
        return TokenCreated(token=secret, info=TokenOut(**info))

    @delete("/{token_id:int}", summary="Revoke an API token", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, request: Request, token_id: RecordIdParam) -> None:
        row = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.revoked_at).where(
            (ApiToken.id == token_id) & (ApiToken.tenant_id == current_tenant_id())).first()
        if row is None:
            raise NotFound(f"API token {token_id} not found")
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: kernel_of(request).clock.now()}
                                  ).where(ApiToken.id == token_id)
            await platform().audit("token.revoke", f"token:{token_id}", {"name": row["name"]},
                                   None)


ROUTES = document_errors([AuthController, TenantController, UserController, RoleController,
                          TokenController])
