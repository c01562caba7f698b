"""The dispatch node (派单, ``assign``): gives the run's work order a team and a person by a
strategy, tells them, and leaves by ``assigned`` — or by ``unassigned`` when nobody fits, so
the flow can send it to a manual step."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from jimu_sdk import N_, Advance, NodeContext, NodeType, emit, localized

from jimu_work_orders import services, teams
from jimu_work_orders.tables import WorkOrder

STRATEGIES = ("team", "skill", "region", "load", "round_robin")


class AssignSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    strategy: Annotated[Literal["team", "skill", "region", "load", "round_robin"],
                        msgspec.Meta(
        title=N_("How to dispatch"),
        description=N_("team: to a named team's queue; skill: the least loaded member of the "
                       "teams with a skill; region: the least loaded member of the teams "
                       "nearest the work order's region; load: the person with the fewest "
                       "open work orders; round_robin: a named team's members in turn"))
                        ] = "region"
    team: Annotated[str, msgspec.Meta(
        max_length=100, title=N_("Team"),
        description=N_("The team's name (team, round_robin; limits load to it)"))] = ""
    skill: Annotated[str, msgspec.Meta(
        max_length=40, title=N_("Skill"),
        description=N_("A skill teams list, e.g. 安装 or 维修"))] = ""
    notify: Annotated[bool, msgspec.Meta(
        title=N_("Notify"), description=N_("Tell the assignee (or the team) at once"))] = True


def assign_check(settings: AssignSettings) -> list[str]:
    problems = []
    if settings.strategy in ("team", "round_robin") and not settings.team.strip():
        problems.append(f"strategy {settings.strategy} needs the team's name")
    if settings.strategy == "skill" and not settings.skill.strip():
        problems.append("strategy skill needs the skill")
    return problems


async def assign_enter(context: NodeContext) -> Advance:
    settings: AssignSettings = context.settings
    work_order_id = services.work_order_id_of(context.subject)
    row = None
    if work_order_id is not None:
        row = await WorkOrder.scoped_select().where(WorkOrder.id == work_order_id).first()
    if row is None:
        return Advance(outcome="unassigned", note="the run's subject is not a work order")
    choice = await teams.choose(settings, row)
    if choice.team is None and choice.assignee_id is None:
        return Advance(outcome="unassigned", note=f"nobody fits: {choice.note}")
    team_id = choice.team["id"] if choice.team is not None else row["team_id"]
    values: dict[Any, Any] = {WorkOrder.team_id: team_id,
                              WorkOrder.assignee_id: choice.assignee_id}
    if choice.assignee_id != row["assignee_id"]:
        values[WorkOrder.accepted_at] = None
    updated = await services.write_row(row, values)
    await services.record_activity(row["id"], "dispatched", note=choice.note, changes={
        "team_id": [row["team_id"], team_id],
        "assignee_id": [row["assignee_id"], choice.assignee_id]})
    # A work order being created announces its assignment itself, after work_order.created.
    if row["run_id"] is not None:
        await emit("work_order.assigned", {
            **services.event_payload(updated), "previous_assignee_id": row["assignee_id"],
            "previous_team_id": row["team_id"], "note": choice.note})
    if settings.notify:
        await services.notify_assigned(updated)
    order = dict(context.data.get("work_order") or {})
    order.update(assignee_id=choice.assignee_id, team_id=team_id)
    return Advance(outcome="assigned", note=choice.note,
                   data={"assignee_id": choice.assignee_id, "team_id": team_id,
                         "work_order": order})


NODE_TYPES = [
    NodeType(key="assign", title=localized("派单", "Dispatch"), settings=AssignSettings,
             outcomes=("assigned", "unassigned"), enter=assign_enter, check=assign_check,
             icon="user-check", category="people",
             description=localized(
                 "按班组、技能、区域、负载或轮流把工单派给处理人并通知；无人匹配走“未派出”",
                 "Give the work order to a team or person by team, skill, region, load or in "
                 "turn, and tell them; nobody fits: 'unassigned'")),
]
