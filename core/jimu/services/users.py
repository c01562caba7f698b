"""A tenant's users, roles and API tokens; and the audit log that records their changes.

The API (``jimu.api.identity``, ``jimu.api.operations``) and the admin pages
(``jimu.pages.people``) both call these functions.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from jimu_sdk.context import current_scope, current_tenant_id, platform
from jimu_sdk.errors import Conflict, NotFound, ValidationFailed
from jimu_sdk.params import RecordId

from jimu.db.tables import ApiToken, AuditEntry, Partner, Role, User
from jimu.i18n import N_
from jimu.services import tenants as tenant_service
from jimu.services.auth import all_permissions, hash_password, new_api_token, token_digest
from jimu.web.listing import apply_sort, like_pattern, page_slice

if TYPE_CHECKING:
    from jimu.kernel import Kernel

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Username = Annotated[str, msgspec.Meta(min_length=2, max_length=150)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")]

USER_SORTS = ("id", "username", "role", "created_at", "last_login_at")
AUDIT_SORTS = ("id", "created_at", "action")
USER_COLUMNS = (User.id, User.username, User.display_name, User.email, User.role,
                User.partner_id, User.is_active, User.created_at, User.last_login_at)
TOKEN_COLUMNS = (ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.scopes,
                 ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at,
                 ApiToken.last_used_at)


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: RoleName = "staff"
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    email: Email = ""
    partner_id: RecordId | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Email | None = None
    partner_id: RecordId | None = None
    is_active: bool | None = None
    password: Password | None = None


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
    title_zh: Name
    title_en: Name
    permissions: list[str] = []


class RolePatch(msgspec.Struct, forbid_unknown_fields=True):
    title_zh: Name | None = None
    title_en: Name | None = None
    permissions: list[str] | None = None


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: list[str]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready values, for audit entries."""
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


# ------------------------------------------------------------------------------ users


async def check_role_and_partner(role: str | None, partner_id: int | None) -> None:
    if role is not None and not await Role.scoped_count().where(Role.name == role):
        raise ValidationFailed(N_("there is no role named %(role)s in this organisation"),
                               field="role", params={"role": role})
    if role == "partner" and partner_id is None:
        raise ValidationFailed(N_("a partner user must be bound to a partner"),
                               field="partner_id")
    if partner_id is not None and not await Partner.scoped_count().where(
            Partner.id == partner_id):
        raise ValidationFailed(N_("partner %(id)s not found"), field="partner_id",
                               params={"id": partner_id})


async def get_user(user_id: int) -> dict[str, Any]:
    row = await User.select(*USER_COLUMNS).where(
        (User.id == user_id) & (User.tenant_id == current_tenant_id())).first()
    if row is None:
        raise NotFound(N_("user %(id)s not found"), params={"id": user_id})
    return row


async def list_users(*, q: str | None = None, role: str | None = None,
                     active: bool | None = None, sort: str | None = None, page: int = 1,
                     per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    where: list[Any] = [User.tenant_id == current_tenant_id()]
    if q:
        where.append(User.username.ilike(like_pattern(q))
                     | User.display_name.ilike(like_pattern(q)))
    if role:
        where.append(User.role == role)
    if active is not None:
        where.append(User.is_active == active)
    query = apply_sort(User.select(*USER_COLUMNS).where(*where), User, sort, USER_SORTS, "id")
    rows = await page_slice(query, page, per_page)
    return rows, await User.count().where(*where)


async def create_user(data: UserIn) -> dict[str, Any]:
    tenant_service.check_username(data.username)
    await check_role_and_partner(data.role, data.partner_id)
    await check_can_grant(data.role)
    if await User.exists().where(User.username == data.username):
        raise Conflict(N_("the username %(username)s is taken"), field="username",
                       params={"username": data.username})
    partner_id = data.partner_id if data.role == "partner" else None
    user = User(tenant_id=current_tenant_id(), username=data.username,
                display_name=data.display_name.strip() or data.username, email=data.email,
                password_hash=hash_password(data.password), role=data.role,
                partner_id=partner_id)
    await user.save()
    await platform().audit("user.create", f"user:{user.id}", None,
                           {"username": data.username, "role": data.role,
                            "partner_id": partner_id})
    return await get_user(user.id)


async def update_user(user_id: int, data: UserPatch) -> dict[str, Any]:
    before = await get_user(user_id)
    role = data.role if data.role is not None else before["role"]
    partner_id = data.partner_id if data.partner_id is not None else before["partner_id"]
    # The role and partner as they will be, checked together (a partner user needs its
    # partner); a partner id given for another role is still checked, then not bound.
    await check_role_and_partner(role if data.role is not None or data.partner_id is not None
                                 else None, partner_id)
    if user_id == _signed_in_user() and data.is_active is False:
        raise Conflict(N_("you cannot deactivate yourself"), field="is_active")
    if data.role is not None and data.role != before["role"]:
        if user_id == _signed_in_user():  # an admin demoting themself could lock everyone out
            raise Conflict(N_("you cannot change your own role"), field="role")
        await check_can_grant(data.role)
        await check_can_grant(before["role"])  # nor take a role away that you could not give
    if data.display_name is not None and not data.display_name.strip():
        data = msgspec.structs.replace(data, display_name=before["username"])
    changes: dict[Any, Any] = {}
    fields = msgspec.structs.asdict(data)
    for name in ("role", "display_name", "email", "is_active"):
        if fields[name] is not None and fields[name] != before[name]:
            changes[getattr(User, name)] = fields[name]
    # Only a partner user is bound to a partner; a change of role away from it unbinds.
    wanted_partner = partner_id if role == "partner" else None
    if wanted_partner != before["partner_id"]:
        changes[User.partner_id] = wanted_partner
    if data.password is not None:
        changes[User.password_hash] = hash_password(data.password)
    if changes:
        await User.update(changes).where(User.id == user_id)
        after = await get_user(user_id)
        await platform().audit("user.update", f"user:{user_id}", public(before), public(after))
        return after
    return before


async def check_can_grant(role_name: str) -> None:
    """Whoever gives a role must hold every permission it carries (the ``admin`` role carries
    them all), so ``users.write`` alone cannot make anyone an administrator."""
    scope = current_scope()
    if scope is None or scope.role == "admin":
        return
    row = await Role.scoped_select(Role.permissions).where(Role.name == role_name).first()
    if row is None:
        return  # check_role_and_partner reports an unknown role
    lacking = sorted(set(row["permissions"]) - set(scope.permissions))
    if role_name == "admin" or lacking:
        raise ValidationFailed(N_("you cannot give the role %(role)s: it has permissions you "
                                  "lack"), field="role", params={"role": role_name})


def _signed_in_user() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


async def deactivate_user(user_id: int) -> None:
    before = await get_user(user_id)
    if before["id"] == _signed_in_user():
        raise Conflict(N_("you cannot deactivate yourself"))
    await User.update({User.is_active: False}).where(User.id == user_id)
    await platform().audit("user.deactivate", f"user:{user_id}", public(before),
                           {**public(before), "is_active": False})


# ------------------------------------------------------------------------------ roles


def check_permissions(kernel: Kernel, permissions: list[str]) -> None:
    known = all_permissions(kernel)
    unknown = [p for p in permissions if p not in known]
    if unknown:
        raise ValidationFailed(N_("unknown permissions: %(names)s"), field="permissions",
                               params={"names": ", ".join(unknown)})


async def list_roles() -> list[dict[str, Any]]:
    return await Role.scoped_select().order_by(Role.id)


async def get_role(role_id: int) -> dict[str, Any]:
    row = await Role.scoped_select().where(Role.id == role_id).first()
    if row is None:
        raise NotFound(N_("role %(id)s not found"), params={"id": role_id})
    return row


async def create_role(kernel: Kernel, data: RoleIn) -> dict[str, Any]:
    check_permissions(kernel, data.permissions)
    if await Role.scoped_count().where(Role.name == data.name):
        raise Conflict(N_("a role named %(name)s exists"), field="name",
                       params={"name": data.name})
    row = await Role.scoped_insert(name=data.name, title={"zh-CN": data.title_zh,
                                                          "en": data.title_en},
                                   permissions=sorted(set(data.permissions)), builtin=False)
    await tenant_service.bump_config_version()
    await platform().audit("role.create", f"role:{data.name}", None, row["permissions"])
    return row


async def update_role(kernel: Kernel, role_id: int, data: RolePatch) -> dict[str, Any]:
    row = await Role.scoped_get(role_id, what="role")
    changes: dict[Any, Any] = {}
    if data.permissions is not None:
        check_permissions(kernel, data.permissions)
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
    return after


async def delete_role(role_id: int) -> None:
    row = await Role.scoped_get(role_id, what="role")
    if row["builtin"]:
        raise Conflict(N_("the built-in role %(name)s cannot be deleted"),
                       params={"name": row["name"]})
    users = await User.count().where((User.tenant_id == current_tenant_id())
                                     & (User.role == row["name"]))
    if users:
        raise Conflict(N_("%(count)s user(s) still have the role %(name)s"),
                       params={"count": users, "name": row["name"]})
    await Role.scoped_delete().where(Role.id == role_id)
    await tenant_service.bump_config_version()
    await platform().audit("role.delete", f"role:{row['name']}", row["permissions"], None)


# ------------------------------------------------------------------------------ API tokens


async def list_tokens() -> list[dict[str, Any]]:
    return await ApiToken.select(*TOKEN_COLUMNS).output(load_json=True).where(
        ApiToken.tenant_id == current_tenant_id()).order_by(ApiToken.id)


async def create_token(kernel: Kernel, data: TokenIn, *, user_id: int | None, via: str,
                       permissions: frozenset[str] | set[str]) -> tuple[str, dict[str, Any]]:
    """A new token and its stored row; the secret exists only in this answer."""
    if via != "session":
        raise Conflict(N_("API tokens are created by a signed-in user, not by another token"))
    if not data.scopes:
        raise ValidationFailed(N_("name at least one permission the token may use"),
                               field="scopes")
    beyond = sorted(set(data.scopes) - set(permissions))
    if beyond:
        raise ValidationFailed(N_("a token cannot hold permissions you lack: %(names)s"),
                               field="scopes", params={"names": ", ".join(beyond)})
    secret = new_api_token()
    now = kernel.clock.now()
    row = ApiToken(tenant_id=current_tenant_id(), name=data.name.strip(), prefix=secret[:12],
                   token_hash=token_digest(secret), scopes=sorted(set(data.scopes)),
                   created_by=user_id, created_at=now,
                   expires_at=now + dt.timedelta(days=data.expires_in_days)
                   if data.expires_in_days else None)
    await row.save()
    await platform().audit("token.create", f"token:{row.id}", None,
                           {"name": row.name, "scopes": row.scopes})
    info = await ApiToken.select(*TOKEN_COLUMNS).output(load_json=True).where(
        ApiToken.id == row.id).first()
    assert info is not None
    return secret, info


async def revoke_token(kernel: Kernel, token_id: int) -> None:
    row = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.revoked_at).where(
        (ApiToken.id == token_id) & (ApiToken.tenant_id == current_tenant_id())).first()
    if row is None:
        raise NotFound(N_("API token %(id)s not found"), params={"id": token_id})
    if row["revoked_at"] is None:
        await ApiToken.update({ApiToken.revoked_at: kernel.clock.now()}
                              ).where(ApiToken.id == token_id)
        await platform().audit("token.revoke", f"token:{token_id}", {"name": row["name"]},
                               None)


# ------------------------------------------------------------------------------ audit


async def list_audit(*, user: str | None = None, action: str | None = None,
                     target: str | None = None, since: dt.datetime | None = None,
                     until: dt.datetime | None = None, sort: str | None = None, page: int = 1,
                     per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Audit entries: ``user`` is a username, ``action`` a prefix (``user.`` …), ``target``
    a prefix (``user:3``), ``since`` inclusive and ``until`` exclusive."""
    where: list[Any] = []
    if user:
        where.append(AuditEntry.username == user)
    if action:
        where.append(AuditEntry.action.ilike(f"{action.replace('%', '')}%"))
    if target:
        where.append(AuditEntry.target.ilike(f"{target.replace('%', '')}%"))
    if since:
        where.append(AuditEntry.created_at >= since)
    if until:
        where.append(AuditEntry.created_at < until)
    query = apply_sort(AuditEntry.scoped_select().where(*where), AuditEntry, sort,
                       AUDIT_SORTS, "-id")
    rows = await page_slice(query, page, per_page)
    return rows, await AuditEntry.scoped_count().where(*where)


async def audit_actions() -> list[str]:
    """The distinct actions recorded for this tenant, for a filter list."""
    rows = await AuditEntry.scoped_select(AuditEntry.action).distinct().order_by(
        AuditEntry.action)
    return [r["action"] for r in rows]


async def get_audit_entry(entry_id: int) -> dict[str, Any]:
    """One audit entry of this tenant; another tenant's id is simply not found."""
    row = await AuditEntry.scoped_select().where(AuditEntry.id == entry_id).first()
    if row is None:
        raise NotFound(N_("audit entry %(id)s not found"), params={"id": entry_id})
    return row
