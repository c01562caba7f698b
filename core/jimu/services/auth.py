"""Identity: passwords (argon2), server-side sessions, scoped API tokens, roles and permissions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jimu_sdk.errors import JimuError, NotAuthenticated, TenantSuspended, ValidationFailed
from jimu_sdk.types import localized

from jimu.db.tables import ApiToken, LoginFailure, Role, Tenant, User, UserSession
from jimu.i18n import N_

if TYPE_CHECKING:
    from jimu.kernel import Kernel

_hasher = PasswordHasher()
# A hash of a throwaway password: verifying against it keeps the timing of an unknown-user
# login equal to a wrong-password one.
_DUMMY_HASH = _hasher.hash("jimu-dummy-password")

PLATFORM_PERMISSION = "platform.tenants"

CORE_PERMISSIONS: dict[str, dict[str, str]] = {
    "users.read": localized("查看用户", "View users"),
    "users.write": localized("管理用户", "Manage users"),
    "roles.write": localized("管理角色", "Manage roles"),
    "tokens.write": localized("管理 API 令牌", "Manage API tokens"),
    "plugins.read": localized("查看插件", "View plugins"),
    "plugins.write": localized("启用停用与配置插件", "Enable, disable and configure plugins"),
    "customers.read": localized("查看客户", "View customers"),
    "customers.write": localized("管理客户", "Manage customers"),
    "customers.contact": localized("查看完整手机号", "See full phone numbers"),
    "partners.read": localized("查看合作伙伴", "View partners"),
    "partners.write": localized("管理合作伙伴", "Manage partners"),
    "regions.read": localized("查看区域", "View regions"),
    "audit.read": localized("查看审计日志", "View the audit log"),
    "hook_failures.read": localized("查看插件故障", "View plugin failures"),
    "pricing.quote": localized("计算价格", "Calculate prices"),
    "pricing.simulate": localized("价格模拟（查看全部规则与成本）",
                                  "Price simulator (see every rule and cost)"),
    "settings.write": localized("修改企业设置（语言、主题）", "Change organisation settings"),
    "flows.read": localized("查看流程与流转", "View flows and their runs"),
    "flows.write": localized("设计与发布流程", "Design and publish flows"),
    "flows.act": localized("处理流程节点（提交、审批）", "Act on flow steps (submit, approve)"),
}

BUILTIN_ROLES: dict[str, tuple[dict[str, str], frozenset[str]]] = {
    "admin": (localized("总部管理员", "Tenant admin"), frozenset(CORE_PERMISSIONS)),
    "staff": (localized("员工/客服", "Staff"), frozenset({
        "customers.read", "customers.write", "customers.contact", "partners.read",
        "regions.read", "pricing.quote", "pricing.simulate", "flows.read", "flows.act"})),
    "partner": (localized("合作伙伴用户", "Partner user"), frozenset({
        "customers.read", "customers.write", "partners.read", "regions.read",
        "pricing.quote"})),
}

MIN_PASSWORD_LENGTH = 8
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)
"""``last_used_at`` of an API token is precise to this interval."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("the password must have at least %(count)s characters"), field="password",
            params={"count": MIN_PASSWORD_LENGTH})
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API token."""

    user_id: int | None
    username: str
    tenant_id: int | None
    role: str | None
    partner_id: int | None
    is_platform_operator: bool
    via: str  # "session" | "token"
    token_scopes: frozenset[str] | None = None
    csrf_token: str | None = None
    locale: str = ""
    display_name: str = ""


class TooManyAttempts(JimuError):
    status_code = 429
    code = "too_many_attempts"


LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5
"""After this many failed sign-ins of one username within the window, sign-in waits."""


async def check_login_throttle(kernel: Kernel, username: str) -> None:
    since = kernel.clock.now() - LOGIN_WINDOW
    recent = await LoginFailure.select(LoginFailure.at).where(
        (LoginFailure.username == username) & (LoginFailure.at > since)
    ).order_by(LoginFailure.at, ascending=False).limit(LOGIN_MAX_FAILURES)
    if len(recent) >= LOGIN_MAX_FAILURES:
        oldest = recent[-1]["at"]
        wait = max(1, int((oldest + LOGIN_WINDOW - kernel.clock.now()).total_seconds() // 60) + 1)
        raise TooManyAttempts(
            f"too many failed sign-ins for this user; try again in {wait} minutes",
            retry_after_minutes=wait)


async def login(kernel: Kernel, username: str, password: str, *, remote: str = ""
                ) -> tuple[str, dict[str, Any]]:
    """Check a password; return a new session token and the user. One message for all misses.

    Failed attempts are recorded (after the request, which rolls back) and throttle the
    username: :data:`LOGIN_MAX_FAILURES` within :data:`LOGIN_WINDOW`.
    """
    await check_login_throttle(kernel, username)
    user = await User.select().where(User.username == username).first()
    if not verify_password(user["password_hash"] if user else None, password) or user is None:
        kernel.login_failures.append((username, remote, kernel.clock.now()))
        raise NotAuthenticated("wrong username or password")
    if not user["is_active"]:
        raise NotAuthenticated("this account is disabled; ask your administrator")
    if user["tenant_id"] is not None:
        tenant = await Tenant.select(Tenant.status).where(Tenant.id == user["tenant_id"]).first()
        if tenant is None or tenant["status"] != "active":
            raise TenantSuspended("this organisation's account is suspended")
    token = secrets.token_urlsafe(32)
    now = kernel.clock.now()
    await UserSession.insert(UserSession(
        token_hash=token_digest(token), user_id=user["id"], csrf_token=secrets.token_urlsafe(24),
        created_at=now, expires_at=now + dt.timedelta(days=kernel.settings.session_days)))
    await User.update({User.last_login_at: now}).where(User.id == user["id"])
    return token, user


async def logout(token: str) -> None:
    await UserSession.delete().where(UserSession.token_hash == token_digest(token))


async def principal_from_session(kernel: Kernel, token: str) -> Principal | None:
    session = await UserSession.select().where(UserSession.token_hash == token_digest(token)
                                               ).first()
    if session is None or session["expires_at"] <= kernel.clock.now():
        return None
    user = await User.select().where(User.id == session["user_id"]).first()
    if user is None or not user["is_active"]:
        return None
    return Principal(user_id=user["id"], username=user["username"],
                     tenant_id=user["tenant_id"], role=user["role"],
                     partner_id=user["partner_id"],
                     is_platform_operator=user["is_platform_operator"], via="session",
                     csrf_token=session["csrf_token"], locale=user["locale"],
                     display_name=user["display_name"])


async def principal_from_token(kernel: Kernel, token: str) -> Principal:
    row = await ApiToken.select().output(load_json=True).where(
        ApiToken.token_hash == token_digest(token)).first()
    if row is None:
        raise NotAuthenticated("unknown API token")
    now = kernel.clock.now()
    if row["revoked_at"] is not None:
        raise NotAuthenticated("this API token was revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise NotAuthenticated("this API token has expired")
    creator = await User.select(User.role, User.partner_id, User.username, User.is_active
                                ).where(User.id == row["created_by"]).first()
    if creator is None or not creator["is_active"]:
        raise NotAuthenticated("the user who created this API token is no longer active")
    # Every request with a token would otherwise queue on this one row's lock.
    last = row["last_used_at"]
    if last is None or now - last > TOKEN_TOUCH_INTERVAL:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return Principal(user_id=row["created_by"], username=creator["username"],
                     tenant_id=row["tenant_id"], role=creator["role"],
                     partner_id=creator["partner_id"], is_platform_operator=False, via="token",
                     token_scopes=frozenset(row["scopes"]))


def new_api_token() -> str:
    return "jimu_" + secrets.token_urlsafe(32)


async def ensure_builtin_roles(kernel: Kernel, tenant_id: int) -> None:
    """Create the built-in roles of a tenant (inside its scope), with plugin permissions."""
    existing = {r["name"] for r in await Role.scoped_select(Role.name)}
    for name, (title, permissions) in BUILTIN_ROLES.items():
        if name in existing:
            continue
        await Role.scoped_insert(name=name, title=title, permissions=sorted(permissions),
                                 builtin=True)


def all_permissions(kernel: Kernel) -> dict[str, dict[str, str]]:
    known = dict(CORE_PERMISSIONS)
    for plugin in kernel.plugins.plugins.values():
        for permission in plugin.contributed("register_permissions", []):
            known[permission.key] = permission.title
    return known
