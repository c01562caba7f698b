"""Teams (班组) and who gets a work order: by team, skill, region, load or in turn.

Load is the number of open work orders a person is assigned; ties go to whoever is listed
first. Region dispatch walks up the work order's region chain (district → city → province)
and takes the nearest level some active team covers. Round robin keeps its place per team in
the team's row (``rr_last_user_id``), written in the dispatching transaction, so it survives
restarts and two dispatches never hand out the same turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jimu_sdk import N_, Conflict, NotFound, ValidationFailed, platform
from piccolo.query.functions.aggregate import Count

from jimu_work_orders.services import OPEN_STATUSES, now
from jimu_work_orders.tables import Team, WorkOrder

MAX_MEMBERS = 200


# ----------------------------------------------------------------------------- reading


async def list_teams() -> list[dict[str, Any]]:
    return await Team.scoped_select().order_by(Team.name)


async def get_team(team_id: int) -> dict[str, Any]:
    row = await Team.scoped_select().where(Team.id == team_id).first()
    if row is None:
        raise NotFound(N_("team %(id)s not found"), params={"id": team_id})
    return row


async def team_by_name(name: str) -> dict[str, Any] | None:
    return await Team.scoped_select().where(Team.name == name.strip()).first()


# ----------------------------------------------------------------------------- writing


async def _clean(*, name: str, members: Sequence[int], skills: Sequence[str],
                 region_codes: Sequence[str]) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(N_("give the team a name"), field="name")
    people = list(dict.fromkeys(members))
    if len(people) > MAX_MEMBERS:
        raise ValidationFailed(N_("a team has at most %(max)s members"), field="members",
                               params={"max": MAX_MEMBERS})
    known = {u["id"] for u in await platform().list_users(people)} if people else set()
    errors = [{"field": f"members[{i}]", "message": f"user {p} not found (or deactivated)"}
              for i, p in enumerate(people) if p not in known]
    regions = list(dict.fromkeys(c.strip() for c in region_codes if c.strip()))
    errors += [{"field": f"region_codes[{i}]", "message": f"{c} is not a known region code"}
               for i, c in enumerate(regions) if not platform().region_path(c)]
    if errors:
        raise ValidationFailed(N_("the team has %(count)s problems"),
                               params={"count": len(errors)}, errors=errors)
    return {"name": name, "members": people, "region_codes": regions,
            "skills": list(dict.fromkeys(s.strip() for s in skills if s.strip()))}


async def create_team(*, name: str, members: Sequence[int] = (), skills: Sequence[str] = (),
                      region_codes: Sequence[str] = (), active: bool = True) -> dict[str, Any]:
    values = await _clean(name=name, members=members, skills=skills, region_codes=region_codes)
    if await team_by_name(values["name"]) is not None:
        raise Conflict(N_("a team named %(name)s exists"), field="name",
                       params={"name": values["name"]})
    row = await Team.scoped_insert(**values, active=active, created_at=now(), updated_at=now())
    await platform().audit("work_orders.team.create", f"team:{row['name']}", None,
                           {**values, "active": active})
    return row


async def update_team(team_id: int, *, name: str, members: Sequence[int] = (),
                      skills: Sequence[str] = (), region_codes: Sequence[str] = (),
                      active: bool = True) -> dict[str, Any]:
    before = await get_team(team_id)
    values = await _clean(name=name, members=members, skills=skills, region_codes=region_codes)
    same = await team_by_name(values["name"])
    if same is not None and same["id"] != team_id:
        raise Conflict(N_("a team named %(name)s exists"), field="name",
                       params={"name": values["name"]})
    await Team.scoped_update({**{getattr(Team, k): v for k, v in values.items()},
                              Team.active: active, Team.updated_at: now()}).where(
        Team.id == team_id)
    after = await get_team(team_id)
    keys = ("name", "members", "skills", "region_codes", "active")
    await platform().audit("work_orders.team.update", f"team:{after['name']}",
                           {k: before[k] for k in keys}, {k: after[k] for k in keys})
    return after


async def delete_team(team_id: int) -> None:
    team = await get_team(team_id)
    busy = await WorkOrder.scoped_count().where(
        (WorkOrder.team_id == team_id) & WorkOrder.status.is_in(list(OPEN_STATUSES)))
    if busy:
        raise Conflict(N_("team %(name)s still has %(count)s open work orders; move them to "
                          "another team or deactivate the team instead"),
                       params={"name": team["name"], "count": busy})
    await Team.scoped_delete().where(Team.id == team_id)
    await platform().audit("work_orders.team.delete", f"team:{team['name']}",
                           {"name": team["name"], "members": team["members"]}, None)


# ----------------------------------------------------------------------------- choosing


@dataclass(frozen=True)
class Choice:
    """Who a work order goes to; both ``None`` when nobody fits (``note`` says why)."""

    team: Mapping[str, Any] | None
    assignee_id: int | None
    note: str


async def open_load(user_ids: Sequence[int]) -> dict[int, int]:
    """How many open work orders each person is assigned."""
    if not user_ids:
        return {}
    rows = await WorkOrder.scoped_select(WorkOrder.assignee_id, Count()).where(
        WorkOrder.assignee_id.is_in(list(user_ids))
        & WorkOrder.status.is_in(list(OPEN_STATUSES))).group_by(WorkOrder.assignee_id)
    return {r["assignee_id"]: r["count"] for r in rows}


async def _active_members(teams: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping]]:
    """(user id, their first team) for every active member of the teams, in listed order."""
    wanted = list(dict.fromkeys(m for t in teams for m in (t["members"] or [])))
    active = {u["id"] for u in await platform().list_users(wanted)} if wanted else set()
    seen: dict[int, Mapping[str, Any]] = {}
    for team in teams:
        for member in team["members"] or []:
            if member in active and member not in seen:
                seen[member] = team
    return list(seen.items())


async def _least_loaded(teams: Sequence[Mapping[str, Any]], why: str) -> Choice:
    members = await _active_members(teams)
    if not members:
        return Choice(None, None, f"{why}: no active member")
    load = await open_load([m for m, _ in members])
    user, team = min(members, key=lambda item: load.get(item[0], 0))
    return Choice(team, user, f"{why}: {load.get(user, 0)} open work orders")


async def _active_teams() -> list[dict[str, Any]]:
    return await Team.scoped_select().where(Team.active == True).order_by(Team.name)  # noqa: E712


async def choose(settings: Any, work_order: Mapping[str, Any]) -> Choice:
    """Apply the dispatch node's ``settings`` (strategy, team, skill) to a work order."""
    strategy = settings.strategy
    named = settings.team.strip()
    if strategy in ("team", "round_robin") or (strategy == "load" and named):
        team = await team_by_name(named)
        if team is None or not team["active"]:
            return Choice(None, None, f"team {named} not found or inactive")
        if strategy == "team":
            return Choice(team, None, f"team {named}")
        if strategy == "load":
            return await _least_loaded([team], f"team {named}, least loaded")
        return await _round_robin(team)
    teams = await _active_teams()
    if strategy == "skill":
        skill = settings.skill.strip().lower()
        having = [t for t in teams if skill in {s.lower() for s in t["skills"] or []}]
        if not having:
            return Choice(None, None, f"no team has the skill {settings.skill}")
        return await _least_loaded(having, f"skill {settings.skill}, least loaded")
    if strategy == "region":
        code = work_order.get("region_code")
        if not code:
            return Choice(None, None, "the work order has no region")
        for level in reversed(platform().region_path(code)):
            covering = [t for t in teams if level["code"] in (t["region_codes"] or [])]
            if covering:
                choice = await _least_loaded(covering, f"region {level['name']}")
                if choice.assignee_id is not None:
                    return choice
        return Choice(None, None, f"no team covers region {code}")
    return await _least_loaded(teams, "least loaded")


async def _round_robin(team: Mapping[str, Any]) -> Choice:
    members = [m for m, _ in await _active_members([team])]
    if not members:
        return Choice(None, None, f"team {team['name']}: no active member")
    last = team["rr_last_user_id"]
    following = members.index(last) + 1 if last in members else 0
    user = members[following % len(members)]
    moved = await Team.scoped_update({Team.rr_last_user_id: user}).where(
        (Team.id == team["id"]) & ((Team.rr_last_user_id == last) if last is not None
                                   else Team.rr_last_user_id.is_null())).returning(Team.id)
    if not moved:
        raise Conflict(N_("team %(name)s was dispatched to meanwhile; try again"),
                       params={"name": team["name"]})
    return Choice(team, user, f"team {team['name']}, in turn")
