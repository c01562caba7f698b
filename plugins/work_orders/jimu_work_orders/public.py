"""The public API of work orders, for plugins that declare ``work_orders`` in ``depends``
(priority rules, SLA escalation, settlement). Semantic versioning applies. Every function runs
in the caller's tenant scope and transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jimu_sdk import N_, ValidationFailed

from jimu_work_orders import services, teams
from jimu_work_orders import settings as config

__all__ = ["create", "ensure_team", "get", "set_priority", "team_member_ids", "team_names"]

PRIORITIES = ("low", "normal", "high", "urgent")


async def create(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Create a work order (``title``, ``type`` default the first configured type, and any of
    ``priority, description, customer_id, partner_id, region_code, amount, currency,
    assignee_id, team_id, scheduled_at``); starts its flow. Returns it."""
    values = dict(fields)
    if "type" not in values:
        values["type"] = next(iter(config.types()))
    return await services.create_work_order(**values)


async def get(work_order_id: int) -> dict[str, Any]:
    return await services.get_work_order(work_order_id)


async def set_priority(work_order_id: int, priority: str, *, reason: str = "") -> dict[str, Any]:
    """Set a work order's priority (audited, ``work_order.updated`` emitted); ``reason`` goes
    on its timeline."""
    if priority not in PRIORITIES:
        raise ValidationFailed(N_("priority is one of %(allowed)s"), field="priority",
                               params={"allowed": ", ".join(PRIORITIES)})
    row = await services.update_work_order(work_order_id, {"priority": priority})
    if reason:
        await services.record_activity(work_order_id, "priority", note=reason,
                                       changes={"priority": priority})
    return row


async def team_names() -> list[str]:
    return [team["name"] for team in await teams.list_teams()]


async def team_member_ids(names: Sequence[str]) -> list[int]:
    """The members of the teams named (unknown names are skipped)."""
    members: set[int] = set()
    for name in names:
        team = await teams.team_by_name(name)
        if team is not None and team.get("active", True):
            members |= {int(m) for m in team["members"]}
    return sorted(members)


async def ensure_team(name: str, *, members: Sequence[int] = ()) -> dict[str, Any]:
    """The team called ``name``, created when missing (with ``members``)."""
    found = await teams.team_by_name(name)
    if found is not None:
        return found
    return await teams.create_team(name=name, members=members)
