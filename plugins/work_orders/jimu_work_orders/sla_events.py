"""What the SLA plugin says about work orders, when it is on: ``sla.warning`` and
``sla.breached`` are shown on the work order (a badge in the lists, an entry on its timeline);
``sla.escalate`` raises its priority and hands it to a team.

Work orders do not depend on the SLA plugin: these handlers only listen to its events (the
contract is in ``plugins/sla/README.md``). Each is safe to run twice: an alert already shown
and an escalation already applied change nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from jimu_sdk import JimuError, NotFound

from jimu_work_orders import services
from jimu_work_orders.tables import Activity, WorkOrder

log = logging.getLogger(__name__)

ALERTS = ("warning", "breached")
OPEN = ("open", "in_progress", "waiting_customer")


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


async def _row(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        return await services.row_of(int(payload["work_order_id"]))
    except (KeyError, TypeError, ValueError, NotFound):
        return None


async def _seen(work_order_id: int, kind: str, clock_id: Any) -> bool:
    rows = await Activity.scoped_select(Activity.changes).where(
        (Activity.work_order_id == work_order_id) & (Activity.kind == kind))
    return any((r["changes"] or {}).get("clock_id") == clock_id for r in rows)


async def alert(payload: Mapping[str, Any], alert: str) -> None:
    """``sla.warning`` / ``sla.breached``: the badge and a timeline entry (once per clock)."""
    row = await _row(payload)
    if row is None or row["status"] not in OPEN:
        return
    kind = f"sla_{alert}"
    clock_id = payload.get("clock_id")
    if await _seen(row["id"], kind, clock_id):
        return
    due = _when(payload.get("due_at"))
    if not row["sla_alert"] or ALERTS.index(alert) >= ALERTS.index(row["sla_alert"]):
        await WorkOrder.scoped_update({
            WorkOrder.sla_alert: alert, WorkOrder.sla_clock: str(payload.get("clock") or "")[:16],
            WorkOrder.sla_due_at: due}).where(WorkOrder.id == row["id"])
    await services.record_activity(row["id"], kind, changes={
        "clock": payload.get("clock"), "clock_id": clock_id,
        "due_at": payload.get("due_at"), "policy": payload.get("policy"),
        "target_minutes": payload.get("target_minutes")})


async def escalate(payload: Mapping[str, Any]) -> None:
    """``sla.escalate``: raise the priority (never lower it) and hand the work order to the
    team named, each only when it changes something."""
    row = await _row(payload)
    if row is None or row["status"] not in OPEN:
        return
    changes: dict[str, Any] = {}
    wanted = payload.get("priority")
    if wanted in services.PRIORITY_RANK and \
            services.PRIORITY_RANK[wanted] > services.PRIORITY_RANK.get(row["priority"], 0):
        changes["priority"] = wanted
    team_id = payload.get("team_id")
    if isinstance(team_id, int) and team_id != row["team_id"]:
        changes["team_id"] = team_id
    if not changes:
        return
    try:
        await services.update_work_order(row["id"], changes)
    except JimuError as exc:
        # A team deleted since the policy named it: raise the priority at least.
        log.warning("SLA escalation of work order %s not applied in full: %s",
                    row["number"], exc.message)
        changes.pop("team_id", None)
        if not changes:
            return
        await services.update_work_order(row["id"], changes)
    await services.record_activity(row["id"], "sla_escalated", changes={
        **changes, "clock": payload.get("clock"), "policy_id": payload.get("policy_id")})
