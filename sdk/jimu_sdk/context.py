"""Who is acting, for which tenant, and the platform services a plugin may call.

Core sets a :class:`Scope` for every request, job and timer; plugins read it through the
functions below and never receive a tenant id they could mix up. Outside a scope there is no
tenant: tenant-scoped queries refuse to run rather than see every tenant's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from jimu_sdk.errors import JimuError

if TYPE_CHECKING:
    from jimu_sdk.types import PriceContext, PriceResult, SplitContext, SplitResult

T = TypeVar("T")


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

    async def get_partner(self, partner_id: int) -> Mapping[str, Any]:
        """A partner of this tenant visible to the caller; raises ``NotFound`` otherwise."""
        ...

    async def list_partners(self, ids: Sequence[int] | None = None
                            ) -> list[Mapping[str, Any]]:
        """Partners visible to the caller (all of them, or those of ``ids``), by code:
        ``id, code, name, kind, level, parent_id, region_code, created_at``."""
        ...

    def region_path(self, code: str) -> list[Mapping[str, Any]]:
        """The national region chain from the province down to ``code`` (``code, name,
        level``), empty for an unknown code."""
        ...

    async def price(self, contexts: Sequence[PriceContext], *, explain: bool = False
                    ) -> list[PriceResult]:
        """Price lines through this tenant's pricing pipeline (base price, steps, rounding),
        in one call so steps load their data once. ``explain=True`` also collects the rules
        considered and passed over. Raises ``PricingError``/``ValidationFailed`` naming the
        line (``lines[3].item``) when one cannot be priced."""
        ...

    async def split_revenue(self, contexts: Sequence[SplitContext]) -> list[SplitResult]:
        """Share each document's lines between the enterprise and its partners through this
        tenant's revenue split steps (``register_revenue_split_steps``), in one call so steps
        load their data once. Every share is rounded half up to the currency's minor unit and
        the enterprise keeps the rest, so a line's shares always sum to its amount. Raises
        ``ValidationFailed`` naming the document and field (``documents[1].parties.installer``)
        or ``PricingError`` naming the plugin when a step fails (money paths fail closed)."""
        ...

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[None]:
        """``async with platform().transaction():`` — a transaction of this tenant and caller,
        committed when the block ends (rolled back when it raises). For work running outside
        one, a job declared with ``Job(transaction=False)``; inside a transaction it joins
        it. ``write=False`` reads only (on SQLite it then never waits for writers)."""
        ...

    async def write_aside(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """``await work()`` in a write transaction of its own, committed when it returns, even
        while the caller's transaction is still open: for progress a long transaction shows
        as it goes. On PostgreSQL it runs on a connection of its own. SQLite lets one writer
        work at a time, so inside an open transaction there it does nothing and returns
        ``None`` (outside one it runs, as on PostgreSQL)."""
        ...

    async def cached(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        """``await load()`` for this tenant, kept in memory until :meth:`invalidate` is called
        with ``name`` by any process (a revision row in the database is checked each call).
        For data read on every request, e.g. a plugin's price rules."""
        ...

    async def invalidate(self, name: str) -> None:
        """Mark this tenant's cached ``name`` stale, in the current transaction."""
        ...

    def contributions(self, hook: str) -> list[tuple[str, Any]]:
        """What the tenant's enabled plugins contributed through the contribution hook
        ``hook`` (e.g. ``register_price_factor_kinds``), as ``(plugin slug, item)`` pairs."""
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

    async def install_flow(self, code: str, name: str, graph: Mapping[str, Any], *,
                           subject: str = "", description: str = "") -> Mapping[str, Any]:
        """Create flow ``code`` with ``graph`` as its published version 1 (a preset flow a
        plugin ships); when the tenant has the code already, its flow is left as it is and
        returned. 422 listing every problem of the graph by node."""
        ...

    async def find_flow(self, code: str) -> Mapping[str, Any] | None:
        """This tenant's flow ``code`` (``id, code, name, description, subject,
        live_version, created_at``), or ``None`` when it has none."""
        ...

    async def save_settings(self, plugin: str, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """Validate and save this tenant's settings of ``plugin`` (the calling plugin's own:
        e.g. a type added by an installed preset), audited like an admin's change; returns
        them as stored. 422 naming the field when they do not fit its schema."""
        ...

    async def start_flow(self, code: str, *, subject: str = "",
                         data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """Start a run of the live version of flow ``code`` for ``subject`` (e.g.
        ``"work_orders:42"``) and move it as far as it goes; returns the run."""
        ...

    async def flow_action(self, run_id: int, action: str,
                          payload: Mapping[str, Any] | None = None, *,
                          revision: int | None = None) -> Mapping[str, Any]:
        """Do ``action`` at the node the run waits at; 409 with the run's current state when
        ``revision`` is no longer current or the node does not offer the action."""
        ...

    async def flow_run(self, run_id: int) -> Mapping[str, Any]:
        """A run: its node, status, data, the actions it waits for and its revision."""
        ...

    async def flow_steps(self, run_id: int) -> list[Mapping[str, Any]]:
        """A run's timeline, oldest first: ``seq, kind, from_node, node_id, outcome, action,
        actor_id, changes, note, at``."""
        ...

    async def flow_node(self, run_id: int, node_id: str | None = None) -> Mapping[str, Any]:
        """A node of the run's version (default: where the run is): ``id, type, label,
        settings``; ``NotFound`` when the version has no such node."""
        ...

    async def cancel_flow(self, run_id: int, *, reason: str = "") -> Mapping[str, Any]:
        """Cancel a run that has not ended (409 when it has); returns the run."""
        ...

    async def list_users(self, ids: Sequence[int] | None = None, *, role: str | None = None,
                         active_only: bool = True) -> list[Mapping[str, Any]]:
        """This tenant's people (all of them, those of ``ids``, or those holding ``role``),
        by username: ``id, username, display_name, role, partner_id, is_active, locale``."""
        ...

    async def notify(self, user_ids: Sequence[int], title: str | Mapping[str, str], *,
                     body: str | Mapping[str, str] = "", link: str = "",
                     level: str = "info", key: str | None = None) -> int:
        """Send an in-app notification to each of ``user_ids`` of this tenant, in the current
        transaction; open pages show it live and the bell counts it until read. ``title`` and
        ``body`` are plain text or a :func:`~jimu_sdk.types.localized` pair; ``level`` is
        ``info``, ``warning`` or ``urgent``; ``link`` a path inside the platform. A ``key``
        already sent to a user is not sent again (redelivered events). Returns how many were
        written."""
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
