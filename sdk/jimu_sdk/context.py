"""Who is acting, for which tenant, and the platform services a plugin may call.

Core sets a :class:`Scope` for every request, job and timer; plugins read it through the
functions below and never receive a tenant id they could mix up. Outside a scope there is no
tenant: tenant-scoped queries refuse to run rather than see every tenant's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from jimu_sdk.errors import JimuError


class PlatformServices(Protocol):
    """What core offers a plugin at run time (implemented by core, reached via the scope)."""

    async def emit(self, event_type: str, payload: Mapping[str, Any]) -> int:
        """Write a domain event to the outbox in the current transaction; returns its id."""
        ...

    async def schedule_at(self, when: dt.datetime, job: str, args: Mapping[str, Any],
                          key: str | None = None) -> int:
        """Create a durable timer that runs ``job`` for this tenant at ``when``.

        ``key`` (unique within the tenant) makes the call idempotent and lets
        :meth:`cancel_timer` find it.
        """
        ...

    async def cancel_timer(self, key: str) -> bool:
        """Cancel a pending timer created with ``key``; ``True`` if one was pending."""
        ...

    async def audit(self, action: str, target: str, before: Any, after: Any) -> None:
        """Record a configuration change (who, when, before, after)."""
        ...

    async def get_customer(self, customer_id: int) -> Mapping[str, Any]:
        """A customer of this tenant visible to the caller; raises ``NotFound`` otherwise."""
        ...

    async def visible_customer_ids(self) -> list[int] | None:
        """Ids of the customers the caller may see, or ``None`` when it may see them all.

        Partner users see only their organisation's customers; filter your own rows with it.
        """
        ...

    async def list_customers(self, *, limit: int = 100) -> list[Mapping[str, Any]]:
        """Customers of this tenant visible to the caller, newest first."""
        ...

    def timezone(self) -> str:
        """The tenant's IANA timezone, e.g. ``Asia/Shanghai``."""
        ...

    def settings(self, plugin: str) -> Mapping[str, Any]:
        """This tenant's validated settings of ``plugin``."""
        ...

    def now(self) -> dt.datetime:
        """The platform clock (controllable in tests); timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class Scope:
    tenant_id: int | None
    user_id: int | None = None
    role: str | None = None
    partner_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    request_id: str = ""
    platform: PlatformServices | None = None


_scope: ContextVar[Scope | None] = ContextVar("jimu_scope", default=None)


class NoTenantScope(JimuError):
    status_code = 500
    code = "no_tenant_scope"


def current_scope() -> Scope | None:
    return _scope.get()


def current_tenant_id() -> int:
    """The acting tenant's id; raises when called outside a tenant scope."""
    scope = _scope.get()
    if scope is None or scope.tenant_id is None:
        raise NoTenantScope("this code needs a tenant scope, and none is active")
    return scope.tenant_id


def platform() -> PlatformServices:
    scope = _scope.get()
    if scope is None or scope.platform is None:
        raise NoTenantScope("platform services are available only inside a request or job")
    return scope.platform


def has_permission(permission: str) -> bool:
    scope = _scope.get()
    return scope is not None and permission in scope.permissions


@contextmanager
def use_scope(scope: Scope) -> Iterator[Scope]:
    """Run a block as ``scope``; core uses it for requests, jobs and timers, tests may too."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def as_tenant(tenant_id: int) -> Iterator[Scope]:
    """Switch the active scope to another tenant, keeping the platform services."""
    base = _scope.get() or Scope(tenant_id=None)
    with use_scope(replace(base, tenant_id=tenant_id)) as scope:
        yield scope


async def emit(event_type: str, payload: Mapping[str, Any]) -> int:
    """Record a domain event with the change that caused it (same transaction)."""
    return await platform().emit(event_type, payload)
