"""The platform services a plugin reaches through ``jimu_sdk.platform()``."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from jimu_sdk.context import current_scope, current_tenant_id
from jimu_sdk.errors import ValidationFailed
from jimu_sdk.types import DomainEvent, PriceContext, PriceResult, SplitContext, SplitResult
from piccolo.columns.combination import WhereRaw
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from jimu.db.engine import is_postgres, transaction
from jimu.db.tables import (
    AuditEntry,
    DataRevision,
    OutboxEvent,
    Partner,
    Tenant,
    Timer,
    User,
)
from jimu.regions import region_chain

if TYPE_CHECKING:
    from jimu.kernel import Kernel

T = TypeVar("T")
CACHED_DATA_SETS = 512  # (tenant, name) pairs kept in memory per process
PARTNER_FIELDS = (Partner.id, Partner.code, Partner.name, Partner.kind, Partner.level,
                  Partner.parent_id, Partner.region_code, Partner.created_at)


_NUMBERED = re.compile(r"\$(\d+)")
_SQLITE_TEXT: dict[str, str] = {}


async def sql_rows(table: type[Table], sql: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """Run one parameterised statement (PostgreSQL's ``$1``, ``$2`` … placeholders; SQLite
    gets the same numbered ``?1``, ``?2``) in the current transaction of ``table``'s engine,
    straight on its connection: no query building, for the few hot paths that need it (a
    flow transition, the outbox). Rows come back as mappings, JSON columns as text. Every
    statement names its tenant itself; on PostgreSQL row-level security still applies.
    """
    engine = table._meta.db
    tx = engine.current_transaction.get()
    if tx is None:  # not in a scope's transaction: one of its own, for the acting tenant
        scope = current_scope()
        async with transaction(engine, tenant_id=scope.tenant_id if scope else None):
            return await sql_rows(table, sql, *args)
    if is_postgres(engine):
        return await tx.connection.fetch(sql, *args)  # type: ignore[no-any-return]
    text = _SQLITE_TEXT.get(sql)
    if text is None:
        text = _SQLITE_TEXT[sql] = _NUMBERED.sub(r"?\1", sql)
    async with tx.connection.execute(text, args) as cursor:
        return await cursor.fetchall()  # type: ignore[no-any-return]


def values_sql(rows: int, columns: int, *, first: int = 1) -> str:
    """``($1, $2), ($3, $4)`` for ``rows`` rows of ``columns`` placeholders each."""
    return ", ".join(
        "(" + ", ".join(f"${first + row * columns + column}" for column in range(columns)) + ")"
        for row in range(rows))


_OUTBOX_INSERT: dict[int, str] = {}


def _outbox_insert(rows: int) -> str:
    sql = _OUTBOX_INSERT.get(rows)
    if sql is None:
        # dispatched_at, completed_at and attempts as the table's defaults have them.
        placeholders = ", ".join(
            f"(${row * 4 + 1}, ${row * 4 + 2}, ${row * 4 + 3}, ${row * 4 + 4}, NULL, NULL, 0)"
            for row in range(rows))
        sql = _OUTBOX_INSERT[rows] = (
            "INSERT INTO core_outbox (tenant_id, event_type, payload, created_at, "
            f"dispatched_at, completed_at, attempts) VALUES {placeholders} RETURNING id")
    return sql


def _as_json_value(value: Any) -> Any:
    """piccolo stores a ``str`` given to a JSON column as already-encoded JSON: encode it, so a
    plugin auditing the text "52" or "abc" reads back the same text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else value


class KernelServices:
    """One per request, job or timer scope (so per transaction)."""

    def __init__(self, kernel: Kernel, *, data_version: tuple[int, int] | None = None) -> None:
        self.kernel = kernel
        # Revision tokens of the tenant's cached data sets, at most one query per scope for
        # all of them, none when the scope's tenant row shows the same data version as the
        # tokens the process already holds; kept in step with this scope's invalidations.
        self._tokens: dict[int, dict[str, str]] = {}
        self._data_version = data_version

    async def emit(self, event_type: str, payload: Mapping[str, Any]) -> int:
        return (await self.emit_many([(event_type, payload)]))[0]

    async def emit_many(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Several events in one insert (core's flow runtime writes a run's events so)."""
        if not events:
            return []
        scope = current_scope()
        tenant_id = scope.tenant_id if scope else None
        now = self.kernel.clock.now()
        args: list[Any] = []
        for event_type, payload in events:
            # piccolo's own JSON encoding, so a payload reads back as it always did.
            args += (tenant_id, event_type, dump_json(dict(payload)), now)
        rows = await sql_rows(OutboxEvent, _outbox_insert(len(events)), *args)
        self.kernel.jobs.events_pending = True
        ids = [row["id"] for row in rows]
        state = self.kernel._tenants.get(tenant_id) if tenant_id is not None else None
        if state is not None and tenant_id is not None:
            for event_id, (event_type, payload) in zip(ids, events, strict=True):
                await self._run_in_transaction(state, tenant_id, event_id, event_type,
                                               payload, now)
        return ids

    async def _run_in_transaction(self, state: Any, tenant_id: int, event_id: int,
                                  event_type: str, payload: Mapping[str, Any],
                                  occurred_at: dt.datetime) -> None:
        handlers = self.kernel.jobs.handlers_for(state.enabled, event_type, in_transaction=True)
        if handlers:
            event = DomainEvent(id=event_id, tenant_id=tenant_id, type=event_type,
                                payload=dict(payload), occurred_at=occurred_at)
            for _key, handler in handlers:
                answer = handler.handle(event)
                if inspect.isawaitable(answer):
                    await answer

    async def schedule_at(self, when: dt.datetime, job: str, args: Mapping[str, Any],
                          key: str | None = None) -> int:
        if when.tzinfo is None:
            raise ValidationFailed("a timer needs a timezone-aware time", field="when")
        tenant_id = current_tenant_id()
        stored_key = None if key is None else f"{tenant_id}:{key}"  # keys are per tenant
        if stored_key is not None:
            existing = await Timer.select(Timer.id).where(Timer.key == stored_key).first()
            if existing is not None:
                return existing["id"]
        row = Timer(tenant_id=tenant_id, job=job, args=dict(args), due_at=when,
                    key=stored_key)
        await row.save()
        return row.id

    async def cancel_timer(self, key: str) -> bool:
        tenant_id = current_tenant_id()
        rows = await Timer.update({Timer.status: "cancelled"}).where(
            (Timer.key == f"{tenant_id}:{key}") & (Timer.status == "pending")
            & (Timer.tenant_id == tenant_id)).returning(Timer.id)
        return bool(rows)

    async def audit(self, action: str, target: str, before: Any, after: Any) -> None:
        scope = current_scope()
        user_id = scope.user_id if scope else None
        username = ""
        if user_id is not None:
            user = await User.select(User.username).where(User.id == user_id).first()
            username = user["username"] if user else ""
        await AuditEntry.scoped_insert(user_id=user_id, username=username, action=action,
                                       target=target, before=_as_json_value(before),
                                       after=_as_json_value(after),
                                       created_at=self.kernel.clock.now())

    async def get_customer(self, customer_id: int) -> Mapping[str, Any]:
        from jimu.services.directory import get_customer_row

        return await get_customer_row(customer_id)

    async def visible_customer_ids(self) -> list[int] | None:
        from jimu.db.tables import Customer
        from jimu.services.directory import visible_partner_ids

        partners = await visible_partner_ids()
        if partners is None:
            return None
        rows = await Customer.scoped_select(Customer.id).where(
            Customer.partner_id.is_in(partners or [-1]))
        return [r["id"] for r in rows]

    async def list_customers(self, *, limit: int = 100) -> list[Mapping[str, Any]]:
        from jimu.db.tables import Customer
        from jimu.services.directory import customer_filters as _customer_filters

        where = await _customer_filters(None, None, None, None)
        return await Customer.scoped_select().where(*where).order_by(
            Customer.id, ascending=False).limit(limit)

    async def get_partner(self, partner_id: int) -> Mapping[str, Any]:
        from jimu.services.directory import get_partner_row

        return await get_partner_row(partner_id)

    async def list_partners(self, ids: Sequence[int] | None = None
                            ) -> list[Mapping[str, Any]]:
        from jimu.services.directory import visible_partner_ids

        where: list[Any] = []
        visible = await visible_partner_ids()
        if visible is not None:
            where.append(Partner.id.is_in(visible or [-1]))
        if ids is not None:
            where.append(self._id_among(list(ids)))
        return await Partner.scoped_select(*PARTNER_FIELDS).where(*where).order_by(Partner.code)

    def _id_among(self, ids: list[int]) -> WhereRaw:
        """``id IN ids`` as one parameter, however many: a settlement run asks for 10,000
        partners, which as a list of parameters took piccolo and the server ~0.1 s (and SQLite
        refuses more than 32,766)."""
        if is_postgres(self.kernel.db.engine):
            return WhereRaw("id = ANY({})", [int(i) for i in ids])
        return WhereRaw("id IN (SELECT value FROM json_each({}))", json.dumps(
            [int(i) for i in ids]))

    def region_path(self, code: str) -> list[Mapping[str, Any]]:
        return list(region_chain(code))

    async def price(self, contexts: Sequence[PriceContext], *, explain: bool = False
                    ) -> list[PriceResult]:
        from jimu.services.pricing import price_lines

        tenant_id = current_tenant_id()
        tenant = self.kernel._tenants.get(tenant_id) or await self.kernel.tenant_state(tenant_id)
        return await price_lines(self.kernel, tenant, contexts, explain=explain)

    async def split_revenue(self, contexts: Sequence[SplitContext]) -> list[SplitResult]:
        from jimu.services.revenue_split import split_documents

        tenant_id = current_tenant_id()
        tenant = self.kernel._tenants.get(tenant_id) or await self.kernel.tenant_state(tenant_id)
        return await split_documents(self.kernel, tenant, contexts)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[None]:
        scope = current_scope()
        assert scope is not None and scope.tenant_id is not None
        async with self.kernel.tenant_scope(
                scope.tenant_id, user_id=scope.user_id, role=scope.role,
                partner_id=scope.partner_id, permissions=scope.permissions, write=write,
                request_id=scope.request_id):
            yield

    async def write_aside(self, work: Callable[[], Awaitable[T]]) -> T | None:
        engine = self.kernel.db.engine
        if engine.current_transaction.get() is not None and not is_postgres(engine):
            return None  # SQLite lets one writer work at a time: this one is the caller

        async def on_its_own() -> T:
            # The task runs in a copy of the caller's context: forgetting the open
            # transaction here makes the next one start on a connection of its own.
            engine.current_transaction.set(None)
            async with self.transaction():
                return await work()

        return await asyncio.create_task(on_its_own())

    async def cached(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        tenant_id = current_tenant_id()
        tokens = self._tokens.get(tenant_id)
        if tokens is None:
            tokens = self._tokens[tenant_id] = await self._revision_tokens(tenant_id)
        token = tokens.get(name, "")
        caches = self.kernel.tenant_caches
        key = (tenant_id, name)
        hit = caches.get(key)
        if hit is not None and hit[0] == token:
            caches.move_to_end(key)
            return hit[1]  # type: ignore[no-any-return]
        value = await load()
        caches[key] = (token, value)
        caches.move_to_end(key)
        while len(caches) > CACHED_DATA_SETS:
            caches.popitem(last=False)
        return value

    async def _revision_tokens(self, tenant_id: int) -> dict[str, str]:
        version = (self._data_version[1] if self._data_version is not None
                   and self._data_version[0] == tenant_id else None)
        held = self.kernel.data_tokens.get(tenant_id)
        if version is not None and held is not None and held[0] == version:
            return dict(held[1])  # a copy: this scope's invalidations change it
        rows = await DataRevision.scoped_select(DataRevision.name, DataRevision.token)
        tokens = {r["name"]: r["token"] for r in rows}
        if version is not None:
            # Read after the version in the same transaction: never older than it.
            self.kernel.data_tokens[tenant_id] = (version, dict(tokens))
        return tokens

    async def invalidate(self, name: str) -> None:
        tenant_id = current_tenant_id()
        token = uuid.uuid4().hex
        # One statement, so two writers racing on the first revision cannot collide.
        await DataRevision.raw(
            "INSERT INTO core_data_revision (tenant_id, name, token) VALUES ({}, {}, {}) "
            "ON CONFLICT (tenant_id, name) DO UPDATE SET token = excluded.token",
            tenant_id, name, token)
        await Tenant.update({Tenant.data_version: Tenant.data_version + 1}).where(
            Tenant.id == tenant_id)
        if tenant_id in self._tokens:
            self._tokens[tenant_id][name] = token

    def contributions(self, hook: str) -> list[tuple[str, Any]]:
        state = self.kernel._tenants.get(current_tenant_id())
        enabled = sorted(state.enabled) if state else []
        return [(slug, item) for slug in enabled
                for item in self.kernel.plugins.plugins[slug].contributed(hook, [])]

    def timezone(self) -> str:
        state = self.kernel._tenants.get(current_tenant_id())
        return state.timezone if state else "Asia/Shanghai"

    def settings(self, plugin: str) -> Mapping[str, Any]:
        state = self.kernel._tenants.get(current_tenant_id())
        if state is None:
            return self.kernel.plugins.settings_defaults(plugin)
        return state.settings.get(plugin, {})

    def now(self) -> dt.datetime:
        return self.kernel.clock.now()

    async def install_flow(self, code: str, name: str, graph: Mapping[str, Any], *,
                           subject: str = "", description: str = "") -> Mapping[str, Any]:
        from jimu.db.tables import Flow
        from jimu.services import flows

        existing = await Flow.scoped_select().where(Flow.code == code).first()
        if existing is not None:
            return existing
        flow = await flows.create_flow(code=code, name=name, description=description,
                                       subject=subject, graph=graph)
        return await flows.publish(flow["id"], 1)

    async def find_flow(self, code: str) -> Mapping[str, Any] | None:
        from jimu.db.tables import Flow

        return await Flow.scoped_select().where(Flow.code == code).first()  # type: ignore[no-any-return]

    async def save_settings(self, plugin: str, values: Mapping[str, Any]) -> Mapping[str, Any]:
        from jimu.services import tenants

        return await tenants.save_plugin_settings(self.kernel, plugin, dict(values))

    async def start_flow(self, code: str, *, subject: str = "",
                         data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        from jimu.services import flows

        return await flows.start_run(code, subject=subject, data=data)

    async def flow_action(self, run_id: int, action: str,
                          payload: Mapping[str, Any] | None = None, *,
                          revision: int | None = None) -> Mapping[str, Any]:
        from jimu.services import flows

        return await flows.act(run_id, action, payload, revision=revision)

    async def flow_run(self, run_id: int) -> Mapping[str, Any]:
        from jimu.services import flows

        return await flows.get_run(run_id)

    async def flow_steps(self, run_id: int) -> list[Mapping[str, Any]]:
        from jimu.services import flows

        return list(await flows.run_steps(run_id))

    async def flow_node(self, run_id: int, node_id: str | None = None) -> Mapping[str, Any]:
        from jimu.services import flows

        return await flows.run_node(run_id, node_id)

    async def cancel_flow(self, run_id: int, *, reason: str = "") -> Mapping[str, Any]:
        from jimu.services import flows

        return await flows.cancel(run_id, reason=reason)

    async def list_users(self, ids: Sequence[int] | None = None, *, role: str | None = None,
                         active_only: bool = True) -> list[Mapping[str, Any]]:
        where = [User.tenant_id == current_tenant_id()]
        if ids is not None:
            if not ids:
                return []
            where.append(User.id.is_in(sorted({int(i) for i in ids})))
        if role is not None:
            where.append(User.role == role)
        if active_only:
            where.append(User.is_active == True)  # noqa: E712
        rows = await User.select(User.id, User.username, User.display_name, User.role,
                                 User.partner_id, User.is_active, User.locale).where(
            *where).order_by(User.username)
        return list(rows)

    async def notify(self, user_ids: Sequence[int], title: str | Mapping[str, str], *,
                     body: str | Mapping[str, str] = "", link: str = "",
                     level: str = "info", key: str | None = None) -> int:
        from jimu.services import notifications

        sent = await notifications.send(user_ids, title, body=body, link=link, level=level,
                                        key=key, now=self.kernel.clock.now())
        if sent:
            self.kernel.notifications_pending = True
        return sent
