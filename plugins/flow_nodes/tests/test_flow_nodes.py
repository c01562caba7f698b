"""The basic node types driven through core's flow API: a stage form with required and typed
fields, approvals in each mode with delegation, a wait, and the demo flow."""

import pytest

FORM = {"fields": [
    {"key": "amount", "label": "金额", "kind": "money", "required": True, "minimum": "0.01"},
    {"key": "reason", "label": "事由", "kind": "text", "required": True},
    {"key": "on", "label": "日期", "kind": "date"},
    {"key": "kind", "label": "类别", "kind": "choice", "choices": ["差旅", "招待"]},
    {"key": "phone", "label": "电话", "kind": "phone"},
    {"key": "count", "label": "数量", "kind": "number", "maximum": "10"},
]}


def flow(*middle, edges):
    nodes = [{"id": "s", "type": "start"}, *middle, {"id": "ok", "type": "end"},
             {"id": "no", "type": "end"}]
    return {"nodes": nodes, "edges": [{"source": a, "target": b, "outcome": o}
                                      for a, b, o in edges]}


async def setup(platform, graph, code="f"):
    tenant = await platform.make_tenant(plugins=["flow_nodes"])
    admin = await platform.login(tenant.admin_username)
    answer = await admin.post("/api/v1/flows", json={"code": code, "name": "测试", "graph": graph,
                                                     "publish": True})
    assert answer.status_code == 201, answer.text
    flow_id = answer.json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={})).json()
    return tenant, admin, run


async def act(client, run, action, **payload):
    return await client.post(f"/api/v1/flow-runs/{run['id']}/actions",
                             json={"action": action, "payload": payload})


async def test_a_form_names_every_bad_field_and_stores_clean_values(jimu_platform):
    graph = flow({"id": "f", "type": "form", "settings": FORM},
                 edges=[("s", "f", "next"), ("f", "ok", "submitted")])
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "no"]
    _, admin, run = await setup(jimu_platform, graph)
    assert run["actions"] == ["submit"]
    answer = await act(admin, run, "submit", amount="12.345", on="明天", kind="其他",
                       phone="123", count="11", extra="x")
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"amount", "reason", "on", "kind", "phone", "count", "extra"}
    answer = await act(admin, run, "submit", amount=5000.5, reason=" 客户招待 ",
                       on="2026-12-01", kind="招待", phone="138 0013 8000", count=3)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["status"] == "completed"
    assert done["data"]["f"] == {"amount": "5000.50", "reason": "客户招待", "on": "2026-12-01",
                                 "kind": "招待", "phone": "+8613800138000", "count": "3"}


@pytest.mark.parametrize("mode", ["one", "any", "all", "sequence"])
async def test_approvals_in_each_mode(jimu_platform, mode):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    ids = []
    for name in ("wang", "li"):
        ids.append(await jimu_platform.make_user(tenant, f"{tenant.slug}-{name}", role="staff"))
    clients = [await jimu_platform.login(f"{tenant.slug}-{n}") for n in ("wang", "li")]
    graph = flow({"id": "a", "type": "approval", "settings": {"approvers": ids, "mode": mode}},
                 edges=[("s", "a", "next"), ("a", "ok", "approved"), ("a", "no", "rejected")])
    flow_id = (await admin.post("/api/v1/flows", json={
        "code": "approve", "name": "审批", "graph": graph, "publish": True})).json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={})).json()
    wang, li = clients
    if mode == "sequence":  # li is second: not theirs yet
        assert (await act(li, run, "approve")).status_code == 409
    first = (await act(wang, run, "approve", comment="同意")).json()
    if mode in ("one", "any"):
        assert (first["status"], first["node_id"]) == ("completed", "ok")
        return
    assert first["status"] == "waiting" and first["assignees"] == [ids[1]]
    assert (await act(wang, first, "approve")).status_code == 409  # done already
    last = (await act(li, first, "approve")).json()
    assert (last["status"], last["node_id"]) == ("completed", "ok")
    assert last["data"]["a"]["by"] == ids


async def test_rejection_and_delegation(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    users = [{"id": await jimu_platform.make_user(tenant, f"{tenant.slug}-{n}", role="staff")}
             for n in ("wang", "zhao")]
    wang, zhao = [await jimu_platform.login(f"{tenant.slug}-{n}") for n in ("wang", "zhao")]
    graph = flow({"id": "a", "type": "approval",
                  "settings": {"approvers": [users[0]["id"]], "mode": "all"}},
                 edges=[("s", "a", "next"), ("a", "ok", "approved"), ("a", "no", "rejected")])
    flow_id = (await admin.post("/api/v1/flows", json={
        "code": "approve", "name": "审批", "graph": graph, "publish": True})).json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={})).json()
    answer = await act(wang, run, "delegate", to=users[0]["id"])
    assert answer.status_code == 422 and answer.json()["field"] == "to"
    delegated = (await act(wang, run, "delegate", to=users[1]["id"])).json()
    assert delegated["assignees"] == [users[1]["id"]]
    assert (await act(wang, delegated, "approve")).status_code == 409  # no longer theirs
    rejected = (await act(zhao, delegated, "reject", comment="金额不符")).json()
    assert (rejected["status"], rejected["node_id"]) == ("completed", "no")
    assert rejected["data"]["a"] == {"decision": "rejected", "by": users[1]["id"],
                                     "comment": "金额不符"}


async def test_a_wait_goes_on_after_its_minutes(jimu_platform):
    graph = flow({"id": "w", "type": "wait", "settings": {"minutes": 30, "skippable": False}},
                 edges=[("s", "w", "next"), ("w", "ok", "next")])
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "no"]
    _, admin, run = await setup(jimu_platform, graph)
    assert run["status"] == "waiting" and run["actions"] == []
    await jimu_platform.advance(minutes=31)
    assert (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()["status"] == "completed"


async def test_settings_problems_are_named_when_publishing(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    graph = flow({"id": "f", "type": "form", "settings": {"fields": [
        {"key": "a", "label": "A", "kind": "choice"}, {"key": "a", "label": "B",
                                                       "minimum": 5, "maximum": 1}]}},
                 {"id": "a", "type": "approval", "settings": {"mode": "all"}},
                 edges=[("s", "f", "next"), ("f", "a", "submitted"), ("a", "ok", "approved"),
                        ("a", "no", "rejected")])
    answer = await admin.post("/api/v1/flows", json={"code": "bad", "name": "坏", "graph": graph,
                                                     "publish": True})
    assert answer.status_code == 422
    messages = {(e["node"], e["message"]) for e in answer.json()["errors"]}
    assert ("f", "two fields have the key a") in messages
    assert ("f", "field a is a choice without choices") in messages
    assert ("f", "field a: minimum 5 is above maximum 1") in messages
    assert ("a", "mode all needs the approvers listed") in messages
    # nothing was created: the flow and its version went with the refused request
    assert (await admin.get("/api/v1/flows")).json() == []


async def test_the_demo_flow_waits_for_its_expense_form(jimu_platform):
    from jimu_flow_nodes import demo

    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    async with jimu_platform.as_tenant(tenant):
        await demo.seed(tenant.id)
        await demo.seed(tenant.id)  # a second seeding keeps the one flow
    admin = await jimu_platform.login(tenant.admin_username)
    [flow_row] = (await admin.get("/api/v1/flows")).json()
    assert (flow_row["code"], flow_row["live_version"]) == ("demo-expense", 1)
    runs = (await admin.get("/api/v1/flow-runs")).json()
    assert len(runs) == 2 and {r["node_id"] for r in runs} == {"claim"}
    done = (await act(admin, runs[0], "submit", amount="86.50", reason="出租车")).json()
    assert done["node_id"] == "review" and done["actions"] == ["approve", "reject", "delegate"]
    assert (await act(admin, done, "approve")).json()["node_id"] == "paid"


async def test_a_branch_takes_the_first_case_that_holds(jimu_platform):
    graph = {
        "nodes": [{"id": "s", "type": "start"},
                  {"id": "claim", "type": "form", "settings": FORM},
                  {"id": "route", "type": "branch", "settings": {"cases": [
                      {"outcome": "urgent", "label": "加急",
                       "condition": 'claim.amount > 5000 || claim.kind == "招待"'},
                      {"outcome": "later", "condition": "claim.on > timestamp("
                                                        '"2026-12-31T00:00:00Z")'},
                      {"outcome": "odd", "condition": "claim.nothing > 1"}]}},
                  {"id": "fast", "type": "end"}, {"id": "slow", "type": "end"},
                  {"id": "plain", "type": "end"}, {"id": "odd_end", "type": "end"}],
        "edges": [{"source": "s", "target": "claim"},
                  {"source": "claim", "target": "route", "outcome": "submitted"},
                  {"source": "route", "target": "fast", "outcome": "urgent"},
                  {"source": "route", "target": "slow", "outcome": "later"},
                  {"source": "route", "target": "odd_end", "outcome": "odd"},
                  {"source": "route", "target": "plain", "outcome": "default"}]}
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    flow_id = (await admin.post("/api/v1/flows", json={
        "code": "route", "name": "分流", "graph": graph, "publish": True})).json()["id"]

    async def run_with(**fields):
        run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={})).json()
        answer = await act(admin, run, "submit", reason="x", **fields)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert (await run_with(amount="5000.01"))["node_id"] == "fast"  # money compared exactly
    assert (await run_with(amount="5000.00"))["node_id"] == "plain"
    assert (await run_with(amount="10", kind="招待"))["node_id"] == "fast"
    assert (await run_with(amount="10", on="2027-01-02"))["node_id"] == "slow"
    done = await run_with(amount="10")
    assert done["node_id"] == "plain"
    steps = (await admin.get(f"/api/v1/flow-runs/{done['id']}")).json()["steps"]
    assert "odd not checked" in steps[-2]["note"]  # a missing field is noted, not fatal


async def test_a_branch_with_bad_cel_is_refused_at_publish(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    graph = {"nodes": [{"id": "s", "type": "start"},
                       {"id": "b", "type": "branch", "settings": {"cases": [
                           {"outcome": "big", "condition": "order.amount >>> 5"},
                           {"outcome": "default", "condition": "true"}]}},
                       {"id": "e", "type": "end"}],
             "edges": [{"source": "s", "target": "b"},
                       {"source": "b", "target": "e", "outcome": "big"},
                       {"source": "b", "target": "e", "outcome": "default"}]}
    answer = await admin.post("/api/v1/flows", json={"code": "b", "name": "b", "graph": graph,
                                                     "publish": True})
    assert answer.status_code == 422
    messages = [e["message"] for e in answer.json()["errors"] if e.get("node") == "b"]
    assert any("not valid CEL: at 1:" in m for m in messages)
    assert any("outcome default is taken" in m for m in messages)
