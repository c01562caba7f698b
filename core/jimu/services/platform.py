"""The platform services a plugin reaches through ``jimu_sdk.platform()``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jimu_sdk.context import current_scope, current_tenant_id
from jimu_sdk.errors import ValidationFailed

from jimu.db.tables import AuditEntry, OutboxEvent, Timer, User

if TYPE_CHECKING:
    from jimu.kernel import Kernel


class KernelServices:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def emit(self, event_type: str, payload: Mapping[str, Any]) -> int:
        scope = current_scope()
        tenant_id = scope.tenant_id if scope else None
        row = OutboxEvent(tenant_id=tenant_id, event_type=event_type, payload=dict(payload),
                          created_at=self.kernel.clock.now())
        await row.save()
        self.kernel.jobs.events_pending = True
        return row.id

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
                                       target=target, before=before, after=after,
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
