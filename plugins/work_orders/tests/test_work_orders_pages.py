"""The work order pages: list with urgent ones in red, filters and saved filters, bulk
actions, kanban, calendar, a new work order, and an assignee's part from the queue to the
completed repair (accept, a stage form with a missing field, photos uploaded with the form)."""

from __future__ import annotations

import re

from work_orders_support import PNG, create, login, world

PAGES = "/admin/p/work_orders"


def _numbers(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<tr class="{css_class}" data-work-order="([^"]+)"', html)


async def test_the_list_shows_urgent_ones_in_red_and_filters(jimu_platform):
    here = await world(jimu_platform)
    urgent = await create(here.admin, title="冷库停机", priority="urgent",
                          customer_id=here.customers["李强"], region_code="110105")
    normal = await create(here.admin, title="换滤芯", customer_id=here.customers["王芳"])
    page = await here.admin.get(f"{PAGES}/")
    assert page.status_code == 200, page.text
    assert _numbers(page.text, "priority-urgent") == [urgent["number"]]
    assert _numbers(page.text, "priority-normal") == [normal["number"]]
    assert "/static/p/work_orders/work_orders.css" in page.text
    css = await here.admin.get("/static/p/work_orders/work_orders.css")
    assert css.status_code == 200 and "--wo-urgent" in css.text

    only_urgent = await here.admin.get(f"{PAGES}/", params={"priority": "urgent"})
    assert urgent["number"] in only_urgent.text and normal["number"] not in only_urgent.text
    bad = await here.admin.get(f"{PAGES}/", params={"status": "lost"})
    assert bad.status_code == 422 and "status 必须是以下之一" in bad.text

    saved = await here.admin.post(f"{PAGES}/filters", data={"name": "紧急", "priority": "urgent"})
    assert saved.status_code == 303, saved.text
    chosen = await here.admin.get(saved.headers["location"])
    assert chosen.status_code == 200 and 'class="notice success"' in chosen.text
    assert urgent["number"] in chosen.text and normal["number"] not in chosen.text
    twice = await here.admin.post(f"{PAGES}/filters", data={"name": "紧急", "priority": "urgent"})
    assert twice.status_code == 409


async def test_bulk_actions_report_each_item(jimu_platform):
    here = await world(jimu_platform)
    first = await create(here.admin, title="一")
    second = await create(here.admin, title="二")
    done = await here.admin.post(f"{PAGES}/bulk", data={
        "action": "set_priority", "priority": "urgent", "ids": [str(first["id"]),
                                                                str(second["id"])]})
    assert done.status_code == 200, done.text
    assert 'data-testid="bulk-results"' in done.text
    assert len(_numbers(done.text, "priority-urgent")) == 2
    nothing = await here.admin.post(f"{PAGES}/bulk", data={"action": "cancel"})
    assert nothing.status_code == 422


async def test_kanban_and_calendar(jimu_platform):
    here = await world(jimu_platform)
    when = "2026-12-03T10:30"
    made = await here.admin.post(f"{PAGES}/new", data={
        "title": "新店设备安装", "type": "repair", "priority": "high",
        "scheduled_at": when, "customer_id": str(here.customers["王芳"])})
    assert made.status_code == 303, made.text
    board = await here.admin.get(f"{PAGES}/kanban")
    assert board.status_code == 200
    assert re.search(r'data-column="open".*新店设备安装', board.text, re.S)
    month = await here.admin.get(f"{PAGES}/calendar", params={"month": "2026-12"})
    assert month.status_code == 200
    assert re.search(r'data-day="2026-12-03">.*?10:30</time> 新店设备安装', month.text, re.S)
    wrong = await here.admin.get(f"{PAGES}/calendar", params={"month": "2026-13"})
    assert wrong.status_code == 200  # an unreadable month shows this month


async def test_a_new_work_order_needs_a_title(jimu_platform):
    here = await world(jimu_platform)
    missing = await here.admin.post(f"{PAGES}/new", data={"title": "", "type": "repair"})
    assert missing.status_code == 422
    assert 'id="e-title"' in missing.text
    wrong_amount = await here.admin.post(f"{PAGES}/new", data={
        "title": "x", "type": "repair", "amount": "lots"})
    assert wrong_amount.status_code == 422 and 'id="e-amount"' in wrong_amount.text
    assert 'value="x"' in wrong_amount.text  # what was typed is kept


async def test_an_assignee_does_the_repair_from_the_queue(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, title="中央空调不制冷", priority="urgent",
                         customer_id=here.customers["李强"], region_code="110105")
    wang = await login(jimu_platform, here, "wang")
    queue = await wang.get(f"{PAGES}/queue")
    assert queue.status_code == 200 and order["number"] in queue.text
    assert f'action="{PAGES}/{order["id"]}/accept"' in queue.text
    accepted = await wang.post(f"{PAGES}/{order['id']}/accept", data={"back": "queue"})
    assert accepted.status_code == 303 and accepted.headers["location"].startswith(
        f"{PAGES}/queue")

    page = await wang.get(f"{PAGES}/{order['id']}")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'name="upload.photos"' in page.text
    revision = re.search(r'name="revision" value="(\d+)"', page.text).group(1)
    missing = await wang.post(f"{PAGES}/{order['id']}/act", data={
        "action": "submit", "revision": revision, "field.fault": "不制冷"})
    assert missing.status_code == 422
    errors = re.findall(r'<small id="e-(\w+)" class="field-error"', missing.text)
    assert set(errors) == {"solution", "photos"}
    assert 'value="不制冷"' in missing.text

    done = await wang.post(f"{PAGES}/{order['id']}/act", data={
        "action": "submit", "revision": revision, "field.fault": "不制冷",
        "field.solution": "补充冷媒", "field.labour_hours": "2"},
        files=[("upload.photos", ("现场.png", PNG, "image/png"))])
    assert done.status_code == 303, done.text
    after = await here.admin.get(f"{PAGES}/{order['id']}")
    assert "客户确认" in after.text and "现场.png" in after.text
    detail = (await here.admin.get(f"/api/v1/work_orders/{order['id']}")).json()
    assert detail["status"] == "waiting_customer"
    # The rest of the flow (the customer's confirmation, and whatever the preset asks after
    # it) through the page, as the person at each step would.
    for _ in range(5):
        current = (await here.admin.get(f"/api/v1/work_orders/{order['id']}")).json()
        if current["status"] == "completed":
            break
        run = current["run"]
        data = {"revision": str(run["revision"]),
                "action": "approve" if "approve" in run["actions"] else run["actions"][0]}
        for spec in run["form_fields"]:
            data[f"field.{spec['key']}"] = "5" if spec["kind"] in ("number", "money") else "好"
        moved = await here.admin.post(f"{PAGES}/{order['id']}/act", data=data)
        assert moved.status_code == 303, moved.text
    final = await here.admin.get(f"{PAGES}/{order['id']}")
    assert 'data-status="completed"' in final.text
    revision = data["revision"]
    stale = await here.admin.post(f"{PAGES}/{order['id']}/act", data={
        "action": "approve", "revision": revision})
    assert stale.status_code == 409


async def test_comments_attachments_and_dispatch_on_the_page(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, title="燃气灶点火故障")
    said = await here.admin.post(f"{PAGES}/{order['id']}/comments", data={"body": "已联系客户"})
    assert said.status_code == 303
    empty = await here.admin.post(f"{PAGES}/{order['id']}/comments", data={"body": " "})
    assert empty.status_code == 422
    sent = await here.admin.post(f"{PAGES}/{order['id']}/attachments",
                                 files=[("file", ("说明.txt", b"hello", "text/plain"))])
    assert sent.status_code == 303
    refused = await here.admin.post(f"{PAGES}/{order['id']}/attachments",
                                    files=[("file", ("x.exe", b"MZ", "application/x-msdos"))])
    assert refused.status_code == 415
    page = await here.admin.get(f"{PAGES}/{order['id']}")
    assert "已联系客户" in page.text and "说明.txt" in page.text
    current = (await here.admin.get(f"/api/v1/work_orders/{order['id']}")).json()
    moved = await here.admin.post(f"{PAGES}/{order['id']}/edit", data={
        "revision": str(current["revision"]), "priority": "high",
        "assignee_id": str(here.users["li"]), "team_id": "", "scheduled_at": ""})
    assert moved.status_code == 303, moved.text
    stale = await here.admin.post(f"{PAGES}/{order['id']}/edit", data={
        "revision": str(current["revision"]), "priority": "low", "assignee_id": "",
        "team_id": "", "scheduled_at": ""})
    assert stale.status_code == 409
    li = await login(jimu_platform, here, "li")
    assert order["number"] in (await li.get(f"{PAGES}/queue")).text
