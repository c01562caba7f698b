"""The dispatch node (派单): each strategy, the way on when nobody fits, and its settings."""

from jimu_work_orders.tables import Team
from work_orders_support import BASE, create, dispatch_flow, inbox, login, outbox, world

STRATEGIES = {
    "by-team": {"strategy": "team", "team": "上海服务组"},
    "by-skill": {"strategy": "skill", "skill": "保养"},
    "by-region": {"strategy": "region"},
    "by-load": {"strategy": "load", "team": "上海服务组"},
    "in-turn": {"strategy": "round_robin", "team": "上海服务组"},
}
TYPES = {"work_orders": {"types": [{"key": code.replace("-", "_"), "title": code, "flow": code}
                                   for code in STRATEGIES]}}
TEAMS = [
    {"name": "北京安装一组", "members": ["wang"], "skills": ["安装", "维修"],
     "region_codes": ["110000"]},
    {"name": "朝阳维修组", "members": ["zhang"], "skills": ["维修"], "region_codes": ["110105"]},
    {"name": "上海服务组", "members": ["li", "zhao", "qian"], "skills": ["维修", "保养"],
     "region_codes": ["310000"]},
]


async def dispatching(jimu_platform):
    here = await world(jimu_platform, config=TYPES, people=("wang", "zhang", "li", "zhao", "qian"),
                       teams=TEAMS)
    for code, settings in STRATEGIES.items():
        await dispatch_flow(here.admin, code, settings)
    return here


async def test_team_puts_it_in_the_teams_queue_and_tells_every_member(jimu_platform):
    here = await dispatching(jimu_platform)
    order = await create(here.admin, type="by_team", title="商场扶梯异响")
    assert (order["team_id"], order["assignee_id"], order["node_id"]) == (
        here.teams["上海服务组"], None, "work")
    for name in ("li", "zhao", "qian"):
        client = await login(jimu_platform, here, name)
        assert [n for n in await inbox(client) if order["number"] in n["title"]]
        assert [w["id"] for w in (await client.get(f"{BASE}/queue")).json()["items"]] == [
            order["id"]]
    assigned = [p for k, p in await outbox(jimu_platform) if k == "work_order.assigned"]
    assert assigned[-1]["team_id"] == here.teams["上海服务组"]


async def test_skill_picks_the_least_loaded_member_of_the_teams_with_it(jimu_platform):
    here = await dispatching(jimu_platform)
    first = await create(here.admin, type="by_skill", title="空调保养")
    second = await create(here.admin, type="by_skill", title="冷柜保养")
    assert first["assignee_id"] == here.users["li"]  # nobody busy: the first listed
    assert second["assignee_id"] == here.users["zhao"]  # li has one open already
    assert second["team_id"] == here.teams["上海服务组"]


async def test_region_walks_up_from_the_district_to_the_province(jimu_platform):
    here = await dispatching(jimu_platform)
    chaoyang = await create(here.admin, type="by_region", region_code="110105")
    haidian = await create(here.admin, type="by_region", region_code="110108")
    pudong = await create(here.admin, type="by_region", region_code="310115")
    suzhou = await create(here.admin, type="by_region", region_code="320506")
    assert (chaoyang["assignee_id"], chaoyang["team_id"]) == (here.users["zhang"],
                                                              here.teams["朝阳维修组"])
    assert (haidian["assignee_id"], haidian["team_id"]) == (here.users["wang"],
                                                            here.teams["北京安装一组"])
    assert pudong["team_id"] == here.teams["上海服务组"]
    # Nobody covers Jiangsu: the flow takes the "unassigned" way to the manual step.
    assert (suzhou["assignee_id"], suzhou["team_id"], suzhou["node_id"]) == (
        None, None, "manual")


async def test_load_gives_it_to_whoever_has_the_fewest_open_work_orders(jimu_platform):
    here = await dispatching(jimu_platform)
    li, zhao, qian = (here.users[n] for n in ("li", "zhao", "qian"))
    given = [(await create(here.admin, type="by_load"))["assignee_id"] for _ in range(4)]
    assert given == [li, zhao, qian, li]
    # A completed work order no longer counts.
    busy = (await here.admin.get(BASE, params={"assignee_id": zhao})).json()["items"]
    assert len(busy) == 1
    done = await here.admin.post(f"{BASE}/{busy[0]['id']}/actions",
                                 json={"action": "submit", "payload": {}})
    assert done.json()["status"] == "completed"
    assert (await create(here.admin, type="by_load"))["assignee_id"] == zhao


async def test_round_robin_takes_turns_and_remembers_whose_turn_it_is(jimu_platform):
    here = await dispatching(jimu_platform)
    li, zhao, qian = (here.users[n] for n in ("li", "zhao", "qian"))
    given = [(await create(here.admin, type="in_turn"))["assignee_id"] for _ in range(4)]
    assert given == [li, zhao, qian, li]
    async with jimu_platform.as_tenant(here.tenant):
        team = await Team.scoped_select().where(Team.name == "上海服务组").first()
    assert team["rr_last_user_id"] == li
    # Load does not matter in turn: zhao is next even with a work order open.
    assert (await create(here.admin, type="in_turn"))["assignee_id"] == zhao


async def test_an_inactive_team_or_member_is_passed_over(jimu_platform):
    here = await dispatching(jimu_platform)
    team = here.teams["上海服务组"]
    body = {"name": "上海服务组", "members": [here.users["li"], here.users["zhao"]],
            "skills": ["保养"], "region_codes": ["310000"], "active": False}
    assert (await here.admin.put(f"{BASE}/teams/{team}", json=body)).status_code == 200
    order = await create(here.admin, type="by_team")
    assert (order["team_id"], order["node_id"]) == (None, "manual")
    skill = await create(here.admin, type="by_skill")
    assert skill["node_id"] == "manual"  # the only team with 保养 is inactive


async def test_dispatch_settings_are_checked_when_the_flow_is_published(jimu_platform):
    here = await world(jimu_platform, teams=[])
    graph = {"nodes": [{"id": "s", "type": "start"},
                       {"id": "d", "type": "assign", "settings": {"strategy": "round_robin"}},
                       {"id": "e", "type": "end"}],
             "edges": [{"source": "s", "target": "d"},
                       {"source": "d", "target": "e", "outcome": "assigned"},
                       {"source": "d", "target": "e", "outcome": "unassigned"}]}
    refused = await here.admin.post("/api/v1/flows", json={
        "code": "bad", "name": "bad", "graph": graph, "publish": True})
    assert refused.status_code == 422, refused.text
    assert "team" in refused.text
    graph["nodes"][1]["settings"] = {"strategy": "by-mood"}
    refused = await here.admin.post("/api/v1/flows", json={
        "code": "bad", "name": "bad", "graph": graph, "publish": True})
    assert refused.status_code == 422, refused.text


def test_the_node_type_has_both_languages_and_checks_its_settings():
    from jimu_work_orders.dispatch import NODE_TYPES, AssignSettings

    [node] = NODE_TYPES
    assert node.key == "assign" and set(node.title) == {"zh-CN", "en"}
    assert set(node.description) == {"zh-CN", "en"}
    assert node.outcomes_for(AssignSettings()) == ("assigned", "unassigned")
    assert node.check is not None
    assert node.check(AssignSettings(strategy="skill")) == ["strategy skill needs the skill"]
    assert node.check(AssignSettings(strategy="team", team="A")) == []


async def test_teams_are_checked_and_one_with_open_work_keeps(jimu_platform):
    here = await world(jimu_platform)
    teams = f"{BASE}/teams"
    twice = await here.admin.post(teams, json={"name": "北京安装一组"})
    assert twice.status_code == 409 and twice.json()["field"] == "name"
    bad = await here.admin.post(teams, json={"name": "无效组", "members": [999_999],
                                             "region_codes": ["999999"]})
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["members[0]", "region_codes[0]"]
    staff = await login(jimu_platform, here, "wang")
    assert (await staff.post(teams, json={"name": "x"})).status_code == 403  # admins only
    order = await create(here.admin, customer_id=here.customers["李强"])
    team = order["team_id"]
    kept = await here.admin.delete(f"{teams}/{team}")
    assert kept.status_code == 409 and "1" in kept.json()["message"]
    done = await here.admin.post(f"{BASE}/bulk", json={
        "action": "set_team", "team_id": team, "ids": [order["id"]]})
    assert done.json()["results"][0]["ok"] is True
