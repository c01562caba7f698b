"""The preset flows: each installs (its graph publishes), runs end to end through the work order
API with the customer told on the timeline, the repair records the parts used when the parts
library is on, installing answers 404 and 409 as it should, and the presets page shows them."""

from decimal import Decimal as D

import pytest
from jimu_flow_nodes import plugin as flow_nodes
from jimu_work_orders import plugin, presets
from work_orders_support import BASE, PNG, create, inbox, login, upload, world

price_lists = pytest.importorskip("jimu_price_lists.plugin")
parts_plugin = pytest.importorskip("jimu_parts.plugin")

PRESETS = f"{BASE}/presets"
HANDED_ON = "customer message handed to staff"


@pytest.fixture
def jimu_plugins():
    """The parts library is installed too (switched on only where a test says so)."""
    return [flow_nodes, price_lists, parts_plugin, plugin]


async def act(client, order, action, payload=None, status=200):
    answer = await client.post(f"{BASE}/{order['id']}/actions", json={
        "action": action, "payload": payload or {}, "revision": order["run"]["revision"]})
    assert answer.status_code == status, answer.text
    return answer.json()


def steps(order):
    """The run's steps on the timeline: (node, note)."""
    return [(e["detail"]["node_id"], e["detail"]["note"] or "") for e in order["timeline"]
            if e["kind"] == "step"]


def customer_told(order):
    return [node for node, note in steps(order) if HANDED_ON in note]


# ----------------------------------------------------------------------------- installing


async def test_every_preset_installs_and_publishes(jimu_platform):
    here = await world(jimu_platform)
    listed = (await here.admin.get(PRESETS)).json()
    assert [p["code"] for p in listed] == ["wo-repair", "wo-returns", "wo-complaint",
                                           "wo-presales"]
    assert [p["type"] for p in listed] == ["repair", "returns", "complaint", "presales"]
    assert all(p["installed"] is False and p["flow_id"] is None for p in listed)
    # Without the parts library the repair has no parts step.
    repair = listed[0]
    assert (repair["parts"], repair["node_count"]) == (False, 8)
    assert [s["node_id"] for s in repair["steps"]] == [
        "start", "dispatch", "repair", "confirm", "rate"]
    complaint = listed[2]
    assert (complaint["response_minutes"], complaint["resolution_minutes"]) == (120, 360)
    assert complaint["name"] == {"zh-CN": "投诉处理", "en": "Complaint handling"}
    assert all(s["tells_customer"] for s in listed[1]["steps"])  # returns: every step
    for preset in listed:
        made = await here.admin.post(f"{PRESETS}/{preset['code']}/install")
        assert made.status_code == 201, made.text
        body = made.json()
        assert (body["code"], body["live_version"], body["node_count"]) == (
            preset["code"], 1, preset["node_count"])
        assert body["designer_url"] == f"/admin/flows/{body['flow_id']}"
        flow = (await here.admin.get(f"/api/v1/flows/{body['flow_id']}")).json()
        assert flow["live_version"] == 1 and flow["subject"] == "work_orders"
        designer = await here.admin.get(body["designer_url"])
        assert designer.status_code == 200
    listed = (await here.admin.get(PRESETS)).json()
    assert all(p["installed"] and p["designer_url"] for p in listed)
    assert [p["used_by"] for p in listed] == [["repair"], ["returns"], ["complaint"],
                                              ["presales"]]


async def test_install_answers_404_409_and_422_and_adds_the_missing_type(jimu_platform):
    here = await world(jimu_platform, config={"work_orders": {"types": [
        presets.PRESETS["wo-repair"].work_order_type()]}})
    unknown = await here.admin.post(f"{PRESETS}/wo-nothing/install")
    assert unknown.status_code == 404 and "wo-complaint" in unknown.json()["message"]
    first = await here.admin.post(f"{PRESETS}/wo-complaint/install")
    assert first.status_code == 201, first.text
    assert (first.json()["types_added"], first.json()["types_missing"]) == (["complaint"], [])
    types = {t["key"]: t for t in (await here.admin.get(f"{BASE}/types")).json()}
    assert types["complaint"] == {"key": "complaint", "title": "投诉", "flow": "wo-complaint",
                                  "customer_steps": ["confirm"]}
    again = await here.admin.post(f"{PRESETS}/wo-complaint/install")
    assert again.status_code == 409, again.text
    assert again.json()["field"] == "code" and "wo-complaint" in again.json()["message"]
    assert again.json()["flow_id"] == first.json()["flow_id"]
    copy = await here.admin.post(f"{PRESETS}/wo-complaint/install",
                                 json={"code": "store-complaints", "name": "门店投诉"})
    assert copy.status_code == 201, copy.text
    assert (copy.json()["name"], copy.json()["types_added"]) == ("门店投诉", [])
    taken = await here.admin.post(f"{PRESETS}/wo-complaint/install",
                                  json={"code": "store-complaints"})
    assert taken.status_code == 409
    bad = await here.admin.post(f"{PRESETS}/wo-complaint/install", json={"code": "no spaces"})
    assert bad.status_code == 422 and bad.json()["field"] == "code"
    unknown_field = await here.admin.post(f"{PRESETS}/wo-complaint/install",
                                          json={"graph": {}})
    assert unknown_field.status_code == 400, unknown_field.text
    staff = await login(jimu_platform, here, "wang")
    refused = await staff.post(f"{PRESETS}/wo-returns/install")
    assert refused.status_code == 403
    assert (await staff.get(PRESETS)).status_code == 200


# ----------------------------------------------------------------------------- running them


async def _repaired(jimu_platform, here, staff):
    """A repair for 李强 (Beijing: 北京安装一组, wang) repaired on site with a photo."""
    order = await create(here.admin, title="冷柜不制冷", type="repair",
                         customer_id=here.customers["李强"])
    assert (order["node_id"], order["assignee_id"]) == ("repair", here.users["wang"])
    photo = (await upload(staff, order["id"], PNG)).json()
    return order, await act(staff, order, "submit", {
        "fault": "压缩机不启动", "solution": "更换启动电容", "photos": [photo["reference"]]})


async def test_a_repair_is_confirmed_and_rated_by_the_customer(jimu_platform):
    here = await world(jimu_platform)
    staff = await login(jimu_platform, here, "wang")
    order, repaired = await _repaired(jimu_platform, here, staff)
    assert (repaired["node_id"], repaired["status"]) == ("confirm", "waiting_customer")
    confirmed = await act(here.admin, repaired, "approve", {"comment": "客户确认修好"})
    assert (confirmed["node_id"], confirmed["status"]) == ("rate", "waiting_customer")
    assert [f["key"] for f in confirmed["run"]["form_fields"]] == ["score", "comment"]
    assert customer_told(confirmed) == ["ask_rating"]
    [asked] = [n for n in await inbox(staff) if "请为本次维修服务评分" in n["title"]]
    assert order["number"] in asked["title"] and "Please pass on to the customer" in asked[
        "body"]
    await act(here.admin, confirmed, "submit", {"score": "6"}, status=422)
    rated = await act(here.admin, confirmed, "submit", {"score": "5", "comment": "师傅很专业"})
    assert (rated["status"], rated["node_id"]) == ("completed", "done")
    run = (await here.admin.get(f"/api/v1/flow-runs/{rated['run_id']}")).json()
    assert run["data"]["rate"] == {"score": "5", "comment": "师傅很专业"}


async def test_a_return_tells_the_customer_at_every_step(jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, title="奶粉罐凹陷，申请换货", type="returns",
                         customer_id=here.customers["王芳"])
    assert (order["node_id"], order["flow_code"]) == ("apply", "wo-returns")
    missing = await act(here.admin, order, "submit", {"kind": "换货"}, status=422)
    assert {e["field"] for e in missing["errors"]} == {"order_no", "reason"}
    applied = await act(here.admin, order, "submit", {
        "kind": "换货", "order_no": "TB-20261124-88", "reason": "质量问题",
        "refund": "0"})
    assert applied["node_id"] == "qc" and applied["run"]["actions"] == [
        "approve", "reject", "delegate"]
    checked = await act(here.admin, applied, "approve", {"comment": "外观破损属实"})
    assert checked["node_id"] == "warehouse"
    stocked = await act(here.admin, checked, "submit", {"handling": "换货出库",
                                                          "stock_ref": "CK-1024"})
    assert stocked["node_id"] == "logistics"
    shipped = await act(here.admin, stocked, "submit", {
        "carrier": "顺丰", "tracking_no": "SF1234567890", "shipped_on": "2026-11-25"})
    assert (shipped["status"], shipped["node_id"]) == ("completed", "done")
    assert customer_told(shipped) == ["applied", "qc_passed", "stocked", "shipped"]

    refused = await create(here.admin, title="衣服不合适", type="returns",
                           customer_id=here.customers["王芳"])
    refused = await act(here.admin, refused, "submit", {
        "kind": "退货", "order_no": "TB-2", "reason": "七天无理由"})
    ended = await act(here.admin, refused, "reject", {"comment": "吊牌已剪，影响二次销售"})
    assert (ended["status"], ended["node_id"], ended["node_label"]) == (
        "completed", "rejected", "已驳回")
    assert customer_told(ended) == ["applied", "qc_failed"]


async def test_a_complaint_escalates_when_the_customer_is_not_satisfied(jimu_platform):
    here = await world(jimu_platform)
    staff = await login(jimu_platform, here, "wang")
    order = await create(here.admin, title="送餐超时一小时", type="complaint",
                         priority="high", customer_id=here.customers["李强"])
    assert (order["node_id"], order["assignee_id"]) == ("handle", here.users["wang"])
    assert customer_told(order) == ["received"]
    handled = await act(staff, order, "submit", {
        "category": "配送延误", "resolution": "致歉并退还配送费", "compensation": "退配送费",
        "compensation_amount": "8.00"})
    assert (handled["node_id"], handled["status"]) == ("confirm", "waiting_customer")
    unhappy = await act(here.admin, handled, "reject", {"comment": "补偿太少"})
    assert unhappy["node_id"] == "handle"
    [escalated] = [n for n in await inbox(here.admin) if "已升级" in n["title"]]
    assert order["number"] in escalated["title"] and "补偿太少" in escalated["body"]
    again = await act(staff, unhappy, "submit", {
        "category": "配送延误", "resolution": "赠送 50 元代金券", "compensation_amount": "50"})
    done = await act(here.admin, again, "approve", {"comment": "满意"})
    assert (done["status"], done["node_id"]) == ("completed", "done")
    assert customer_told(done) == ["received", "resolved", "resolved"]


async def test_a_consultation_becomes_an_order_and_is_followed_up_a_week_later(
        jimu_platform):
    here = await world(jimu_platform)
    order = await create(here.admin, title="咨询商用净水器", type="presales",
                         customer_id=here.customers["王芳"])
    # Nobody has the skill 销售: the consultation goes on unassigned.
    assert (order["node_id"], order["assignee_id"]) == ("consult", None)
    consulted = await act(here.admin, order, "submit", {
        "need": "门店日用水 2 吨", "budget": "15000", "phone": "13800138000"})
    lost = await create(here.admin, title="咨询软水机", type="presales")
    lost = await act(here.admin, lost, "submit", {"need": "家用"})
    lost = await act(here.admin, lost, "submit", {"result": "未成交", "lost_reason": "预算不足"})
    assert (lost["status"], lost["node_id"]) == ("completed", "lost")

    ordered = await act(here.admin, consulted, "submit", {
        "result": "已下单", "order_no": "SO-8801", "order_amount": "12800.00"})
    assert (ordered["node_id"], ordered["run"]["actions"]) == ("wait", ["skip"])
    assert customer_told(ordered) == ["ordered"]
    await jimu_platform.advance(days=7, minutes=1)
    due = (await here.admin.get(f"{BASE}/{order['id']}")).json()
    assert due["node_id"] == "followup"
    done = await act(here.admin, due, "submit", {"satisfaction": "满意",
                                                 "notes": "设备运行正常", "needs_service": "否"})
    assert (done["status"], done["node_id"]) == ("completed", "done")


async def test_with_the_parts_library_the_repair_takes_the_parts_used_out_of_stock(
        jimu_platform):
    from jimu_parts import services as parts
    from jimu_price_lists import public as price_lists_public

    tenant = await jimu_platform.make_tenant(
        plugins=["price_lists", "parts", "flow_nodes", "work_orders"])
    admin = await jimu_platform.login(tenant.admin_username)
    wang = await jimu_platform.make_user(tenant, f"{tenant.slug}-wang")
    customer = (await admin.post("/api/v1/customers", json={
        "name": "李强", "region_code": "110105"})).json()
    team = await admin.post(f"{BASE}/teams", json={
        "name": "北京安装一组", "members": [wang], "region_codes": ["110000"]})
    assert team.status_code == 201, team.text
    async with jimu_platform.as_tenant(tenant):
        await parts.create_warehouse(code="BJ", name="北京仓", region_code="110105")
        await price_lists_public.upsert_item(sku="FILTER", name="滤芯", kind="part", unit="个",
                                             category="配件", list_price=D("50"), cost=D("30"))
        await parts.create_part(sku="FILTER", default_warehouse="BJ")
    received = await admin.post("/api/v1/parts/receipts", json={
        "warehouse": "BJ", "sku": "FILTER", "quantity": "10", "unit_cost": "28.00"})
    assert received.status_code == 201, received.text

    listed = (await admin.get(PRESETS)).json()
    assert (listed[0]["parts"], listed[0]["node_count"]) == (True, 9)
    staff = await jimu_platform.login(f"{tenant.slug}-wang")
    order = await create(admin, title="净水器漏水", type="repair", customer_id=customer["id"])
    assert order["assignee_id"] == wang
    photo = (await upload(staff, order["id"], PNG)).json()
    repaired = await act(staff, order, "submit", {
        "fault": "滤芯破裂", "solution": "更换滤芯", "photos": [photo["reference"]]})
    assert (repaired["node_id"], repaired["run"]["node_type"]) == ("parts", "parts")
    short = await act(staff, repaired, "submit", {"lines": [{"sku": "FILTER",
                                                            "quantity": "11"}]}, status=409)
    assert "FILTER" in short["message"]
    used = await act(staff, repaired, "submit", {"lines": [{"sku": "FILTER",
                                                           "quantity": "2"}]})
    assert used["node_id"] == "confirm"
    async with jimu_platform.as_tenant(tenant):
        assert await parts.available("FILTER") == D("8")
    run = (await admin.get(f"/api/v1/flow-runs/{used['run_id']}")).json()
    assert D(run["data"]["parts"]["cost"]) == D("56.00")
    rate = await act(admin, used, "approve")
    done = await act(admin, rate, "submit", {"score": "4"})
    assert done["status"] == "completed"


# ----------------------------------------------------------------------------- the page


async def test_the_presets_page_shows_the_cards_and_installs_from_them(jimu_platform):
    here = await world(jimu_platform)
    page = await here.admin.get("/admin/p/work_orders/presets")
    assert page.status_code == 200, page.text
    for code in presets.PRESETS:
        assert f'data-preset="{code}"' in page.text
    assert "设备维修" in page.text and "退换货" in page.text and "投诉处理" in page.text
    assert 'data-node="rate"' in page.text and 'data-node="parts"' not in page.text
    installed = await here.admin.post("/admin/p/work_orders/presets/wo-returns/install",
                                      data={"csrf_token": here.admin.headers["X-CSRF-Token"]})
    assert installed.status_code == 303, installed.text
    shown = await here.admin.get(installed.headers["location"])
    flow_id = (await here.admin.get(PRESETS)).json()[1]["flow_id"]
    assert 'data-testid="preset-installed"' in shown.text
    assert f'href="/admin/flows/{flow_id}"' in shown.text
    twice = await here.admin.post("/admin/p/work_orders/presets/wo-returns/install",
                                  data={"csrf_token": here.admin.headers["X-CSRF-Token"],
                                        "code": "wo-returns"})
    assert twice.status_code == 409 and 'data-testid="preset-problem"' in twice.text
    unknown = await here.admin.post("/admin/p/work_orders/presets/wo-nothing/install",
                                    data={"csrf_token": here.admin.headers["X-CSRF-Token"]})
    assert unknown.status_code == 404 and "<html" in unknown.text
    await here.admin.post("/account/language", data={
        "csrf_token": here.admin.headers["X-CSRF-Token"], "locale": "en",
        "next": "/admin/p/work_orders/presets"})
    english = await here.admin.get("/admin/p/work_orders/presets")
    assert '<html lang="en"' in english.text
    assert "Equipment repair" in english.text and "Open in the flow designer" in english.text
    staff = await login(jimu_platform, here, "wang")
    assert (await staff.get("/admin/p/work_orders/presets")).status_code == 403
