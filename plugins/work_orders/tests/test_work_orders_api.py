"""Work orders through the HTTP API: a repair from dispatch to the customer's confirmation,
concurrency, events that come twice, isolation between tenants, updates, bulk actions,
comments with mentions, the queue, the calendar and saved filters."""


import asyncio

from work_orders_support import (
    BASE,
    create,
    dispatch_flow,
    inbox,
    is_number,
    login,
    outbox,
    upload,
    world,
)


async def test_plugin_is_installed(jimu_platform):
    assert "work_orders" in jimu_platform.kernel.plugins.plugins


async def test_repair_goes_from_dispatch_to_completion(jimu_platform):
    here = await world(jimu_platform)
    wang = here.users["wang"]
    order = await create(here.admin, title="中央空调不制冷", priority="urgent",
                         customer_id=here.customers["李强"], amount="8800")
    assert is_number(order["number"]) and order["amount"] == "8800.00"
    # Dispatched by region: 110105 is in Beijing (110000), which 北京安装一组 covers.
    assert (order["assignee_id"], order["team_id"]) == (wang, here.teams["北京安装一组"])
    assert (order["status"], order["node_id"], order["region_code"]) == (
        "open", "repair", "110105")
    assert order["run"]["actions"] == ["submit"] and order["flow_code"] == "wo-repair"
    assert order["flow_version"] == 1 and order["assignee_name"]
    kinds = [e["detail"].get("kind") for e in order["timeline"] if e["kind"] == "activity"]
    assert kinds == ["created", "dispatched"]

    staff = await login(jimu_platform, here, "wang")
    [told] = [n for n in await inbox(staff) if order["number"] in n["title"]]
    assert told["level"] == "urgent"
    queue = (await staff.get(f"{BASE}/queue")).json()
    assert [w["id"] for w in queue["items"]] == [order["id"]]

    act = f"{BASE}/{order['id']}/actions"
    missing = await staff.post(act, json={"action": "submit", "payload": {
        "fault": "压缩机不启动", "solution": "更换启动电容"}})
    assert missing.status_code == 422, missing.text
    assert [e["field"] for e in missing.json()["errors"]] == ["photos"]
    still = (await staff.get(f"{BASE}/{order['id']}")).json()
    assert (still["node_id"], still["status"]) == ("repair", "open")

    photo = await upload(staff, order["id"])
    assert photo.status_code == 201, photo.text
    submitted = await staff.post(act, json={"action": "submit", "payload": {
        "fault": "压缩机不启动", "solution": "更换启动电容",
        "photos": [photo.json()["reference"]]}})
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert (body["status"], body["node_id"], body["accepted_at"] is not None) == (
        "waiting_customer", "confirm", True)
    assert body["run"]["actions"] == ["approve", "reject", "delegate"]

    confirmed = await here.admin.post(act, json={"action": "approve", "payload": {
        "comment": "客户确认"}, "revision": body["run"]["revision"]})
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["node_id"], confirmed.json()["run"]["actions"]) == (
        "rate", ["submit"])
    done = await here.admin.post(act, json={"action": "submit", "payload": {
        "score": "5", "comment": "师傅准时"}, "revision": confirmed.json()["run"]["revision"]})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completed_at"] is not None) == (
        "completed", True)
    events = await outbox(jimu_platform)
    assert [kind for kind, _ in events] == [
        "work_order.created", "work_order.assigned", "work_order.moved",
        "work_order.moved", "work_order.completed"]
    created = events[0][1]
    assert (created["number"], created["priority"], created["amount"],
            created["customer_id"], created["assignee_id"]) == (
        order["number"], "urgent", "8800.00", here.customers["李强"], wang)
    assert (events[2][1]["from_node"], events[2][1]["to_node"]) == ("repair", "confirm")
    # Redelivered flow events (the run's own, relayed now) change nothing.
    await jimu_platform.run_jobs()
    assert await outbox(jimu_platform) == events


async def _at_confirmation(jimu_platform, here):
    """A work order repaired by wang, now waiting for the customer's confirmation."""
    order = await create(here.admin, customer_id=here.customers["李强"])
    staff = await login(jimu_platform, here, "wang")
    photo = (await upload(staff, order["id"])).json()
    body = await staff.post(f"{BASE}/{order['id']}/actions", json={"action": "submit", "payload": {
        "fault": "不制冷", "solution": "加氟", "photos": [photo["reference"]]}})
    assert body.status_code == 200, body.text
    return body.json()


async def test_of_two_people_acting_at_once_one_wins_and_the_other_gets_409(jimu_platform):
    here = await world(jimu_platform)
    order = await _at_confirmation(jimu_platform, here)
    revision = order["run"]["revision"]
    other = await jimu_platform.login(here.tenant.admin_username)
    act = f"{BASE}/{order['id']}/actions"
    # An action the node does not offer: 409 naming the allowed ones, nothing changes.
    wrong = await here.admin.post(act, json={"action": "teleport", "revision": revision})
    assert wrong.status_code == 409 and wrong.json()["allowed"] == [
        "approve", "reject", "delegate"], wrong.text
    answers = await asyncio.gather(
        here.admin.post(act, json={"action": "approve", "revision": revision}),
        other.post(act, json={"action": "reject", "payload": {"comment": "还是不凉"},
                              "revision": revision}))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [lost] = [a for a in answers if a.status_code == 409]
    run = lost.json()["run"]
    assert run["revision"] > revision and run["id"] == order["run_id"]
    [won] = [a for a in answers if a.status_code == 200]
    now = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    assert now["run"]["revision"] == run["revision"] == won.json()["run"]["revision"]
    # Whichever won, acting on what was seen before is refused with the run as it is now.
    late = await here.admin.post(act, json={"action": "approve", "revision": revision})
    assert late.status_code == 409 and late.json()["run"]["revision"] == run["revision"]


async def test_a_move_made_elsewhere_is_followed_once_however_often_its_event_comes(
        jimu_platform, run_jobs):
    from jimu_work_orders import services

    here = await world(jimu_platform)
    order = await _at_confirmation(jimu_platform, here)
    await run_jobs()
    before = await outbox(jimu_platform)
    # The customer's confirmation and rating recorded through the flow API, not this plugin.
    for action, payload in (("approve", {}), ("submit", {"score": "4"})):
        moved = await here.admin.post(f"/api/v1/flow-runs/{order['run_id']}/actions",
                                      json={"action": action, "payload": payload})
        assert moved.status_code == 200, moved.text
    stale = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    assert stale["node_id"] == "confirm"  # the event handlers have not run yet
    await run_jobs()
    synced = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    assert (synced["status"], synced["node_id"]) == ("completed", "done")
    after = await outbox(jimu_platform)
    # The first event's handler finds the run already at its end: the order follows it there.
    assert [k for k, _ in after[len(before):]] == ["work_order.completed"]
    # The same flow events delivered again: nothing changes, nothing is announced again.
    event = {"run_id": order["run_id"], "subject": f"work_orders:{order['id']}",
             "flow": "wo-repair", "version": 1, "node": "done", "status": "completed"}
    async with jimu_platform.as_tenant(here.tenant):
        await services.follow_flow_event(event)
        await services.follow_flow_event(event)
    again = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    assert again["revision"] == synced["revision"]
    assert await outbox(jimu_platform) == after


async def test_another_tenants_work_order_is_not_found(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    other = await world(jimu_platform, people=("zhao",), teams=[])
    path = f"{BASE}/{order['id']}"
    for method, url, body in [
            ("GET", path, None), ("PATCH", path, {"priority": "low"}),
            ("POST", f"{path}/actions", {"action": "submit"}), ("POST", f"{path}/accept", None),
            ("POST", f"{path}/cancel", {}), ("GET", f"{path}/comments", None),
            ("POST", f"{path}/comments", {"body": "hi"})]:
        answer = await other.admin.request(method, url, json=body)
        assert answer.status_code == 404, (method, url, answer.text)
    upload_answer = await upload(other.admin, order["id"])
    assert upload_answer.status_code == 404
    listed = (await other.admin.get(BASE, params={"customer_id": here.customers["李强"]})).json()
    assert listed["items"] == [] and listed["total"] == 0
    bulk = (await other.admin.post(f"{BASE}/bulk", json={
        "action": "set_priority", "ids": [order["id"]], "priority": "low"})).json()
    assert bulk["results"][0]["error"] == "not_found"
    # Naming another tenant's customer or team is as if it did not exist.
    refused = await other.admin.post(BASE, json={"title": "x", "type": "repair",
                                                 "customer_id": here.customers["李强"]})
    assert refused.status_code == 422 and refused.json()["field"] == "customer_id"
    refused = await other.admin.post(BASE, json={"title": "x", "type": "repair",
                                                 "team_id": here.teams["北京安装一组"]})
    assert refused.status_code == 422 and refused.json()["field"] == "team_id"


async def test_bad_input_is_refused_naming_the_field(jimu_platform):
    here = await world(jimu_platform)
    cases = [({"type": "plumbing"}, "type"), ({"priority": "asap"}, "priority"),
             ({"customer_id": 999_999}, "customer_id"), ({"amount": "-1"}, "amount"),
             ({"amount": "1.005"}, "amount"), ({"region_code": "999999"}, "region_code"),
             ({"assignee_id": 999_999}, "assignee_id"), ({"title": "   "}, "title"),
             ({"currency": "yuan"}, "currency")]
    for change, field in cases:
        answer = await here.admin.post(BASE, json={"title": "空调", "type": "repair", **change})
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["field"] == field, (change, answer.text)
    listed = (await here.admin.get(BASE)).json()
    assert listed["total"] == 0  # nothing was written


async def test_a_type_whose_flow_is_missing_is_refused_on_the_type(jimu_platform):
    here = await world(jimu_platform, config={"work_orders": {"types": [
        {"key": "complaint", "title": "投诉", "flow": "no-such-flow"}]}})
    answer = await here.admin.post(BASE, json={"title": "投诉配送员", "type": "complaint"})
    assert answer.status_code == 422 and answer.json()["field"] == "type", answer.text
    assert "no-such-flow" in answer.json()["message"]


async def test_updates_are_audited_and_a_new_assignee_is_told(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    li = here.users["li"]
    changed = await here.admin.patch(f"{BASE}/{order['id']}", json={
        "priority": "high", "assignee_id": li, "scheduled_at": "2026-12-01T09:30:00",
        "revision": order["revision"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["priority"], body["assignee_id"], body["status"]) == ("high", li, "open")
    assert body["scheduled_at"] == "2026-12-01T01:30:00Z"  # 09:30 in Shanghai
    stale = await here.admin.patch(f"{BASE}/{order['id']}", json={
        "priority": "low", "revision": order["revision"]})
    assert stale.status_code == 409 and stale.json()["work_order"]["revision"] == body[
        "revision"]
    cleared = await here.admin.patch(f"{BASE}/{order['id']}", json={"scheduled_at": None})
    assert cleared.json()["scheduled_at"] is None
    audit = (await here.admin.get("/api/v1/audit", params={"action": "work_orders."})).json()
    assert audit["items"][0]["action"] == "work_orders.update"
    assert {"priority", "assignee_id"} <= set(audit["items"][1]["after"])
    kinds = [k for k, _ in await outbox(jimu_platform)]
    assert kinds.count("work_order.updated") == 2 and kinds.count("work_order.assigned") == 2
    told = [n for n in await inbox(await login(jimu_platform, here, "li"))
            if order["number"] in n["title"]]
    assert len(told) == 1


async def test_accept_makes_an_unassigned_team_order_mine(jimu_platform):
    here = await world(jimu_platform, teams=[
        {"name": "北京安装一组", "members": ["wang", "li"], "region_codes": ["110000"]}],
        config={"work_orders": {"types": [{"key": "repair", "title": "维修",
                                           "flow": "team-only"}]}})
    await dispatch_flow(here.admin, "team-only", {"strategy": "team", "team": "北京安装一组"})
    order = await create(here.admin, customer_id=here.customers["李强"])
    assert (order["assignee_id"], order["team_id"]) == (None, here.teams["北京安装一组"])
    li = await login(jimu_platform, here, "li")
    queue = (await li.get(f"{BASE}/queue")).json()
    assert [w["id"] for w in queue["items"]] == [order["id"]]
    taken = await li.post(f"{BASE}/{order['id']}/accept")
    assert taken.status_code == 200, taken.text
    assert (taken.json()["assignee_id"], taken.json()["status"]) == (here.users["li"],
                                                                     "in_progress")
    wang = await login(jimu_platform, here, "wang")
    late = await wang.post(f"{BASE}/{order['id']}/accept")
    assert late.status_code == 409, late.text
    assert (await wang.get(f"{BASE}/queue")).json()["items"] == []


async def test_bulk_actions_report_each_item(jimu_platform):
    here = await world(jimu_platform)
    first = await create(here.admin, customer_id=here.customers["李强"])
    second = await create(here.admin, customer_id=here.customers["王芳"])
    done = await _at_confirmation(jimu_platform, here)
    for action, payload in (("approve", {}), ("submit", {"score": "5"})):
        moved = await here.admin.post(f"{BASE}/{done['id']}/actions",
                                      json={"action": action, "payload": payload})
        assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "completed"
    answer = await here.admin.post(f"{BASE}/bulk", json={
        "action": "set_priority", "priority": "urgent",
        "ids": [first["id"], done["id"], 999_999, second["id"]]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["done"], body["failed"]) == (2, 2)
    outcome = {r["id"]: (r["ok"], r["error"]) for r in body["results"]}
    assert outcome == {first["id"]: (True, None), second["id"]: (True, None),
                       done["id"]: (False, "conflict"), 999_999: (False, "not_found")}
    for order in (first, second):
        assert (await here.admin.get(f"{BASE}/{order['id']}")).json()["priority"] == "urgent"
    assigned = (await here.admin.post(f"{BASE}/bulk", json={
        "action": "assign", "assignee_id": here.users["li"],
        "ids": [first["id"], second["id"]]})).json()
    assert assigned["done"] == 2
    missing = await here.admin.post(f"{BASE}/bulk", json={"action": "assign",
                                                          "ids": [first["id"]]})
    assert missing.status_code == 422 and missing.json()["field"] == "assignee_id"


async def test_mentioned_people_are_notified(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    li_name = f"{here.tenant.slug}-li"
    said = await here.admin.post(f"{BASE}/{order['id']}/comments", json={
        "body": f"@{li_name} 请带上压缩机启动电容", "mentions": [here.users["wang"]]})
    assert said.status_code == 201, said.text
    assert said.json()["mentions"] == [here.users["wang"], here.users["li"]]
    for name in ("li", "wang"):
        told = [n for n in await inbox(await login(jimu_platform, here, name))
                if "mentioned" in n["title"] or "提到" in n["title"]]
        assert len(told) == 1 and told[0]["link"] == f"/admin/p/work_orders/{order['id']}"
    unknown = await here.admin.post(f"{BASE}/{order['id']}/comments", json={
        "body": "hi", "mentions": [999_999]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "mentions[0]"
    detail = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    [comment] = [e for e in detail["timeline"] if e["kind"] == "comment"]
    assert comment["detail"]["body"].endswith("启动电容")


async def test_lists_filter_and_saved_filters_are_my_own(jimu_platform):
    here = await world(jimu_platform)
    urgent = await create(here.admin, title="冷库温度异常", priority="urgent",
                          customer_id=here.customers["李强"],
                          scheduled_at="2026-12-03T10:00:00+08:00")
    await create(here.admin, title="燃气灶打不着火", priority="low",
                 customer_id=here.customers["王芳"])
    found = (await here.admin.get(BASE, params={"priority": "urgent,high"})).json()
    assert [w["id"] for w in found["items"]] == [urgent["id"]]
    found = (await here.admin.get(BASE, params={"q": "冷库"})).json()
    assert found["total"] == 1
    found = (await here.admin.get(BASE, params={"sort": "priority"})).json()
    assert [w["priority"] for w in found["items"]] == ["low", "urgent"]
    bad = await here.admin.get(BASE, params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    in_days = await here.admin.get(f"{BASE}/calendar", params={"from": "2026-12-01",
                                                               "to": "2026-12-31"})
    assert [w["id"] for w in in_days.json()] == [urgent["id"]]

    saved = await here.admin.post(f"{BASE}/filters", json={
        "name": "紧急", "query": {"priority": "urgent", "sort": "-created_at"}})
    assert saved.status_code == 201, saved.text
    wrong = await here.admin.post(f"{BASE}/filters", json={"name": "坏",
                                                           "query": {"priority": "asap"}})
    assert wrong.status_code == 422 and wrong.json()["field"] == "query.priority"
    wrong = await here.admin.post(f"{BASE}/filters", json={"name": "坏",
                                                           "query": {"colour": "red"}})
    assert wrong.status_code == 422 and wrong.json()["field"] == "query.colour"
    wang = await login(jimu_platform, here, "wang")
    mine = f"{BASE}/filters/{saved.json()['id']}"
    assert (await wang.get(mine)).status_code == 404
    assert (await wang.delete(mine)).status_code == 404
    assert (await wang.get(f"{BASE}/filters")).json() == []
    renamed = await here.admin.put(mine, json={"name": "紧急工单",
                                               "query": {"priority": "urgent"}})
    assert renamed.json()["name"] == "紧急工单"
    assert (await here.admin.delete(mine)).status_code == 204


async def test_a_partner_sees_its_own_work_orders_only(jimu_platform):
    here = await world(jimu_platform)
    provider = (await here.admin.post("/api/v1/partners", json={
        "code": "SZ-INST-01", "name": "苏州吴中安装服务商", "kind": "installer"})).json()
    theirs = await create(here.admin, title="新店设备安装", partner_id=provider["id"])
    others = await create(here.admin, title="燃气灶维修", customer_id=here.customers["王芳"])
    await jimu_platform.make_user(here.tenant, "installer-1", role="partner",
                                  partner_id=provider["id"])
    installer = await jimu_platform.login("installer-1")
    listed = (await installer.get(BASE)).json()
    assert [w["id"] for w in listed["items"]] == [theirs["id"]]
    assert (await installer.get(f"{BASE}/{others['id']}")).status_code == 404
    assert (await installer.get(f"{BASE}/{theirs['id']}")).status_code == 200
    # Filing work orders takes work_orders.write, which partners do not hold by default.
    filed = await installer.post(BASE, json={"title": "报修", "type": "repair"})
    assert filed.status_code == 403  # creating takes work_orders.write
    said = await installer.post(f"{BASE}/{theirs['id']}/comments", json={"body": "明早到场"})
    assert said.status_code == 201, said.text
