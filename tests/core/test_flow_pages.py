"""The flow pages of the admin UI (not in a browser): the list, a new flow, the designer and
its versions, moving runs, the runs list, a run's page and acting on it; who may see them; and
the outcomes endpoint the designer asks for node types whose outcomes follow their settings."""

import json
import re

import pytest

FOUR_STEPS = {
    "nodes": [
        {"id": "start", "type": "start", "label": "提交", "x": 80, "y": 200},
        {"id": "claim", "type": "form", "label": "报销单", "x": 280, "y": 200, "settings": {
            "fields": [{"key": "amount", "label": "金额", "kind": "money", "required": True},
                       {"key": "reason", "label": "事由", "kind": "text"}]}},
        {"id": "review", "type": "approval", "label": "主管审批", "x": 480, "y": 200},
        {"id": "done", "type": "end", "label": "完成", "x": 680, "y": 140},
        {"id": "refused", "type": "end", "label": "驳回", "x": 680, "y": 260},
    ],
    "edges": [
        {"source": "start", "target": "claim"},
        {"source": "claim", "target": "review", "outcome": "submitted"},
        {"source": "review", "target": "done", "outcome": "approved"},
        {"source": "review", "target": "refused", "outcome": "rejected"},
    ],
}


@pytest.fixture
def jimu_load_installed():
    return True


async def admin_of(platform):
    tenant = await platform.make_tenant(plugins=["flow_nodes"])
    return tenant, await platform.login(tenant.admin_username)


async def published(admin, code="expense"):
    answer = await admin.post("/api/v1/flows", json={"code": code, "name": "费用报销",
                                                     "graph": FOUR_STEPS, "publish": True})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def started(admin, flow, subject="expense:1"):
    answer = await admin.post(f"/api/v1/flows/{flow['id']}/runs", json={"subject": subject})
    assert answer.status_code == 201, answer.text
    return answer.json()


def designer_data(html):
    match = re.search(r'<script type="application/json" id="flow-designer-data">(.*?)</script>',
                      html, re.S)
    assert match, html[-2000:]
    return json.loads(match.group(1))


async def test_flows_list_shows_live_version_drafts_and_runs(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    await started(admin, flow)
    await admin.put(f"/api/v1/flows/{flow['id']}/draft", json={"graph": FOUR_STEPS})
    html = (await admin.get("/admin/flows")).text
    row = re.search(rf'<tr>\s*<td[^>]*><a href="/admin/flows/{flow["id"]}">expense</a>.*?</tr>',
                    html, re.S)
    assert row, html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert "费用报销" in cells[1] and cells[2].strip() == "1"
    assert "badge draft" in cells[3]
    assert f'href="/admin/flow-runs?flow_id={flow["id"]}">1<' in cells[4]
    assert 'href="/admin/flows/new"' in html and 'data-menu-key="flows"' in html


async def test_a_new_flow_opens_in_the_designer_with_the_palette(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    form = await admin.get("/admin/flows/new")
    assert form.status_code == 200
    created = await admin.post("/admin/flows/new", data={"code": "repair", "name": "设备报修"})
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert re.fullmatch(r"/admin/flows/\d+", location)
    page = await admin.get(location)
    assert page.status_code == 200
    html = page.text
    assert "/static/core/vendor/@logicflow__core/logicflow.min.js" in html
    assert "/static/core/flow_designer.js" in html
    assert "<script>" not in html and " onclick=" not in html  # the CSP allows neither
    data = designer_data(html)
    assert data["editable"] and data["status"] == "draft" and data["version"] == 1
    types = {t["key"]: t for t in data["types"]}
    assert {"start", "end", "form", "approval", "branch", "wait"} <= set(types)
    assert types["approval"]["outcomes"] == ["approved", "rejected"]
    assert types["branch"]["outcomes"] is None  # they follow the settings
    fields = types["form"]["schema"]["$defs"]["FormField"]["properties"]
    assert fields["kind"]["title"] == "类型"  # untitled property named in the page language
    assert fields["kind"]["x-enum-titles"]["money"]
    assert types["form"]["title"] == "阶段表单"
    assert 'data-node-type="form"' in html


async def test_a_code_taken_or_blank_is_reported_on_the_form(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await admin.post("/admin/flows/new", data={"code": "repair", "name": "设备报修"})
    again = await admin.post("/admin/flows/new", data={"code": "repair", "name": "另一个"})
    assert again.status_code == 409
    assert 'aria-invalid="true"' in again.text
    blank = await admin.post("/admin/flows/new", data={"code": "", "name": "x"})
    assert blank.status_code == 422


async def test_published_versions_are_read_only_and_the_flow_page_edits_a_new_draft(
        jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    latest = designer_data((await admin.get(f"/admin/flows/{flow['id']}")).text)
    assert latest["editable"] and latest["new_draft"] and latest["status"] == "published"
    version = await admin.get(f"/admin/flows/{flow['id']}/versions/1")
    data = designer_data(version.text)
    assert not data["editable"] and data["graph"]["nodes"][1]["id"] == "claim"
    assert 'data-command="publish"' not in version.text
    missing = await admin.get(f"/admin/flows/{flow['id']}/versions/9")
    assert missing.status_code == 404


async def test_runs_move_to_another_version_from_the_flow_page(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await started(admin, flow)
    await admin.put(f"/api/v1/flows/{flow['id']}/draft", json={"graph": FOUR_STEPS})
    await admin.post(f"/api/v1/flows/{flow['id']}/versions/2/publish")
    page = await admin.post(f"/admin/flows/{flow['id']}/migrate",
                            data={"from_version": "1", "to_version": "2"})
    assert page.status_code == 200, page.text
    assert "notice success" in page.text
    moved = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert moved["version"] == 2


async def test_runs_list_filters_by_flow_and_status_and_names_the_node(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await started(admin, flow, subject="expense:77")
    html = (await admin.get("/admin/flow-runs", params={"flow_id": flow["id"],
                                                         "status": "waiting"})).text
    assert f'href="/admin/flow-runs/{run["id"]}"' in html
    assert "报销单" in html and "expense:77" in html
    none = (await admin.get("/admin/flow-runs", params={"status": "stuck"})).text
    assert f'href="/admin/flow-runs/{run["id"]}"' not in none
    searched = (await admin.get("/admin/flow-runs", params={"q": "expense:77"})).text
    assert f'href="/admin/flow-runs/{run["id"]}"' in searched


async def test_a_run_page_offers_its_actions_and_reports_a_missing_required_field(
        jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await started(admin, flow)
    html = (await admin.get(f"/admin/flow-runs/{run['id']}")).text
    assert 'name="field.amount"' in html and 'data-action="submit"' in html
    assert f'name="revision" value="{run["revision"]}"' in html
    missing = await admin.post(f"/admin/flow-runs/{run['id']}/actions", data={
        "action": "submit", "revision": str(run["revision"]), "field.reason": "出差"})
    assert missing.status_code == 422
    assert 'id="e-amount"' in missing.text and "此项为必填" in missing.text
    assert 'value="出差"' in missing.text  # what was typed is kept
    stale = await admin.post(f"/admin/flow-runs/{run['id']}/actions", data={
        "action": "submit", "revision": "99", "field.amount": "12.50"})
    assert stale.status_code == 409 and "notice error" in stale.text
    done = await admin.post(f"/admin/flow-runs/{run['id']}/actions", data={
        "action": "submit", "revision": str(run["revision"]), "field.amount": "12.50"})
    assert done.status_code == 303, done.text
    now = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert now["node_id"] == "review" and now["data"]["claim"]["amount"] == "12.50"
    page = (await admin.get(f"/admin/flow-runs/{run['id']}")).text
    assert 'data-action="approve"' in page and 'data-action="reject"' in page
    assert "金额: 12.50" in page  # the timeline says what changed, by field name
    approved = await admin.post(f"/admin/flow-runs/{run['id']}/actions", data={
        "action": "approve", "revision": str(now["revision"]), "comment": "同意"})
    assert approved.status_code == 303
    assert (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()["status"] == "completed"


async def test_the_outcomes_of_a_branch_follow_its_cases(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    answer = await admin.post("/api/v1/flows/node-types/branch/outcomes", json={
        "settings": {"cases": [{"outcome": "big", "condition": "claim.amount > 5000"}]}})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcomes": ["big", "default"]}
    bad = await admin.post("/api/v1/flows/node-types/branch/outcomes", json={"settings": {}})
    assert bad.status_code == 422 and bad.json()["field"] == "settings"
    unknown = await admin.post("/api/v1/flows/node-types/nothing/outcomes", json={})
    assert unknown.status_code == 404


async def test_flow_pages_need_flows_read_and_hide_other_tenants_flows(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await started(admin, flow)
    partner = (await admin.post("/api/v1/partners", json={"code": "P1", "name": "一级"})).json()
    await admin.post("/api/v1/users", json={"username": "p1-user", "role": "partner",
                                            "password": "partner-pass-1",
                                            "partner_id": partner["id"]})
    user = await jimu_platform.login("p1-user", "partner-pass-1")
    for path in ("/admin/flows", f"/admin/flows/{flow['id']}", "/admin/flow-runs",
                 f"/admin/flow-runs/{run['id']}"):
        assert (await user.get(path)).status_code == 403, path
    assert 'data-menu-key="flows"' not in (await user.get("/admin/")).text
    _, other = await admin_of(jimu_platform)
    for path in (f"/admin/flows/{flow['id']}", f"/admin/flows/{flow['id']}/versions/1",
                 f"/admin/flow-runs/{run['id']}"):
        assert (await other.get(path)).status_code == 404, path
    acted = await other.post(f"/admin/flow-runs/{run['id']}/actions",
                             data={"action": "submit"})
    assert acted.status_code == 404


async def test_staff_see_the_designer_read_only_and_may_act(jimu_platform):
    tenant, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await started(admin, flow)
    await jimu_platform.make_user(tenant, "clerk", role="staff")
    staff = await jimu_platform.login("clerk")
    data = designer_data((await staff.get(f"/admin/flows/{flow['id']}")).text)
    assert not data["editable"]
    assert (await staff.get("/admin/flows/new")).status_code == 403
    page = (await staff.get(f"/admin/flow-runs/{run['id']}")).text
    assert 'data-action="submit"' in page
