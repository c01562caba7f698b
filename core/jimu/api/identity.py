"""Sign-in, tenants (platform operators), users, roles and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu.db.tables import Tenant, User, UserSession
from jimu.kernel import Kernel
from jimu.services import tenants as tenant_service
from jimu.services import users
from jimu.services.auth import (
    all_permissions,
    hash_password,
    login,
    logout,
    token_digest,
    verify_password,
)
from jimu.services.users import RoleIn, RolePatch, TokenIn, UserIn, UserPatch
from jimu.web.errors import ErrorOut, document_errors
from jimu.web.guards import platform_operator, request_context, requires, signed_in
from jimu.web.listing import (
    PageNumber,
    PerPage,
    RecordIdParam,
    SearchParam,
    SortParam,
)
from jimu.web.request_scope import SESSION_COOKIE, session_cookie
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
        rows, total = await tenant_service.list_tenants(q=q, status=status, sort=sort,
                                                        page=page, per_page=per_page)
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


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/", guards=[requires("users.read")], summary="List the tenant's users")
    async def list_users(self, q: SearchParam = None, role: str | None = None,
                         sort: SortParam = None, page: PageNumber = 1,
                         per_page: PerPage = 50) -> UserPage:
        rows, total = await users.list_users(q=q, role=role, sort=sort, page=page,
                                             per_page=per_page)
        return UserPage(items=[UserOut(**r) for r in rows], total=total, page=page,
                        per_page=per_page)

    @post("/", guards=[requires("users.write")], summary="Create a user in this tenant")
    async def create_user(self, data: UserIn) -> UserOut:
        return UserOut(**await users.create_user(data))

    @get("/{user_id:int}", guards=[requires("users.read")], summary="One user")
    async def get_user(self, user_id: RecordIdParam) -> UserOut:
        return UserOut(**await users.get_user(user_id))

    @patch("/{user_id:int}", guards=[requires("users.write")], summary="Change a user")
    async def update_user(self, user_id: RecordIdParam, data: UserPatch) -> UserOut:
        return UserOut(**await users.update_user(user_id, data))

    @delete("/{user_id:int}", guards=[requires("users.write")], summary="Deactivate a user",
            status_code=HTTP_204_NO_CONTENT)
    async def deactivate_user(self, user_id: RecordIdParam) -> None:
        await users.deactivate_user(user_id)


# ------------------------------------------------------------------------------ roles


class RoleOut(msgspec.Struct):
    id: int
    name: str
    title: dict[str, str]
    permissions: list[str]
    builtin: bool


class PermissionOut(msgspec.Struct):
    key: str
    title: dict[str, str]


def role_out(row: dict[str, Any]) -> RoleOut:
    return RoleOut(id=row["id"], name=row["name"], title=row["title"],
                   permissions=row["permissions"], builtin=row["builtin"])


class RoleController(Controller):
    path = "/api/v1/roles"
    tags = ["roles"]

    @get("/", guards=[requires("users.read")], summary="List roles")
    async def list_roles(self) -> list[RoleOut]:
        return [role_out(r) for r in await users.list_roles()]

    @get("/permissions", guards=[requires("users.read")],
         summary="Every permission core and installed plugins define")
    async def list_permissions(self, request: Request) -> list[PermissionOut]:
        return [PermissionOut(key=k, title=v)
                for k, v in sorted(all_permissions(kernel_of(request)).items())]

    @post("/", guards=[requires("roles.write")], summary="Create a role")
    async def create_role(self, request: Request, data: RoleIn) -> RoleOut:
        return role_out(await users.create_role(kernel_of(request), data))

    @patch("/{role_id:int}", guards=[requires("roles.write")], summary="Change a role")
    async def update_role(self, request: Request, role_id: RecordIdParam, data: RolePatch
                          ) -> RoleOut:
        return role_out(await users.update_role(kernel_of(request), role_id, data))

    @delete("/{role_id:int}", guards=[requires("roles.write")], summary="Delete a role",
            status_code=HTTP_204_NO_CONTENT)
    async def delete_role(self, role_id: RecordIdParam) -> None:
        await users.delete_role(role_id)


# ------------------------------------------------------------------------------ API tokens


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


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]
    guards = [requires("tokens.write")]

    @get("/", summary="List API tokens (never their secrets)")
    async def list_tokens(self) -> list[TokenOut]:
        return [TokenOut(**r) for r in await users.list_tokens()]

    @post("/", summary="Create an API token; its secret is shown only in this answer")
    async def create_token(self, request: Request, data: TokenIn) -> TokenCreated:
        ctx = request_context(request)
        assert ctx.principal is not None
        secret, info = await users.create_token(
            kernel_of(request), data, user_id=ctx.principal.user_id, via=ctx.principal.via,
            permissions=ctx.permissions)
        return TokenCreated(token=secret, info=TokenOut(**info))

    @delete("/{token_id:int}", summary="Revoke an API token", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, request: Request, token_id: RecordIdParam) -> None:
        await users.revoke_token(kernel_of(request), token_id)


ROUTES = document_errors([AuthController, TenantController, UserController, RoleController,
                          TokenController])
