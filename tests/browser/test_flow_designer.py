"""The flow designer and the run pages end to end in Chromium: build a four-step flow by
dragging node types from the palette and connecting them with the mouse, edit a form node's
fields in the generated settings form, undo and redo, check (the problem's node outlined in
red, a click on the problem selects it), fix, publish, and read the published graph back
through the API; then a run's page: its actions, and a form submitted without a required field
answering 422 with the message beside the field.

Screenshots go to ``/tmp/designer-*.png`` (and, as in every browser test, to
``test-output/screenshots/``).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import login, screenshot

ADMIN = "demo-admin"
WIDE = {"width": 1600, "height": 1000}
SHOTS = Path("/tmp")


def shot(page: Page, name: str) -> None:
    # Let the canvas draw what the last step changed before the picture is taken.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => "
                  "requestAnimationFrame(done)))")
    page.screenshot(path=SHOTS / f"designer-{name}.png", full_page=True)
    screenshot(page, f"designer-{name}")


def sign_in(page: Page, live_server) -> None:
    login(page, live_server.base_url, ADMIN, live_server.password)
    assert urlparse(page.url).path.rstrip("/") == "/admin"


def card(page: Page, node_id: str) -> Locator:
    return page.locator(f'g.jimu-node[data-node-id="{node_id}"] rect.jimu-card')


def drop(page: Page, node_type: str, x: float, y: float) -> None:
    """Drag a node type from the palette to (x, y) of the canvas, as a person does."""
    item = page.locator(f'.palette [data-node-type="{node_type}"]').bounding_box()
    canvas = page.locator("#designer-canvas").bounding_box()
    assert item and canvas
    page.mouse.move(item["x"] + item["width"] / 2, item["y"] + item["height"] / 2)
    page.mouse.down()
    page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=15)
    page.mouse.up()


def connect(page: Page, source: str, target: str, side: str = "right") -> None:
    """Drag from an anchor of ``source`` (its right or bottom dot) onto ``target``."""
    a = card(page, source).bounding_box()
    b = card(page, target).bounding_box()
    canvas = page.locator("#designer-canvas").bounding_box()
    assert a and b and canvas
    # Come in from the blank canvas, so the node sees the pointer enter and shows its dots.
    page.mouse.move(canvas["x"] + 8, canvas["y"] + canvas["height"] - 8)
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2, steps=5)
    if side == "right":
        anchor, inward = (a["x"] + a["width"], a["y"] + a["height"] / 2), (-4, 0)
    else:
        anchor, inward = (a["x"] + a["width"] / 2, a["y"] + a["height"]), (0, -4)
    page.mouse.move(*anchor, steps=4)
    page.mouse.down()
    # A hand wobbles inside the node before it leaves it; LogicFlow starts the line then.
    page.mouse.move(anchor[0] + inward[0], anchor[1] + inward[1], steps=2)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=15)
    page.mouse.up()


def node(page: Page, node_id: str) -> Locator:
    return page.locator(f'g.jimu-node[data-node-id="{node_id}"]')


def edges(page: Page) -> Locator:
    return page.locator("#designer-canvas g.lf-edge")


def panel(page: Page) -> Locator:
    return page.locator("#designer-panel")


def test_build_check_fix_and_publish_a_four_step_flow(page, live_server):
    page.set_viewport_size(WIDE)
    sign_in(page, live_server)
    code = f"claim-{uuid.uuid4().hex[:6]}"

    page.goto("/admin/flows")
    with page.expect_navigation():
        page.locator('main a[href="/admin/flows/new"]').click()
    page.locator("#f-code").fill(code)
    page.locator("#f-name").fill("差旅报销")
    with page.expect_navigation():
        page.locator("#flow-form button[type=submit]").click()
    flow_path = urlparse(page.url).path
    assert re.fullmatch(r"/admin/flows/\d+", flow_path), page.url
    flow_id = int(flow_path.rsplit("/", 1)[1])
    designer = page.locator("#flow-designer")
    expect(designer).to_have_attribute("data-ready", "true")
    expect(page.locator('[data-testid="version-status"]')).to_have_class(re.compile("version-draft"))

    # Drag the first node in, then take it back and bring it again: undo and redo.
    drop(page, "start", 110, 110)
    expect(page.locator("g.jimu-node")).to_have_count(1)
    undo = designer.locator('[data-command="undo"]')
    expect(undo).to_be_enabled()
    page.keyboard.press("Control+z")
    expect(page.locator("g.jimu-node")).to_have_count(0)
    page.keyboard.press("Control+y")
    expect(page.locator('g.jimu-node[data-node-id="start-1"]')).to_have_count(1)

    drop(page, "form", 330, 110)
    drop(page, "approval", 550, 110)
    drop(page, "end", 760, 110)
    drop(page, "end", 550, 280)  # where a rejected claim should end: not connected yet
    expect(page.locator("g.jimu-node")).to_have_count(5)
    for node_id in ("start-1", "form-1", "approval-1", "end-1", "end-2"):
        expect(page.locator(f'g.jimu-node[data-node-id="{node_id}"]')).to_have_count(1)

    # The form node: its name and one required field, in the form generated from its schema.
    node(page, "form-1").click()
    expect(panel(page)).to_have_attribute("data-selected-node", "form-1")
    name = panel(page).locator("[data-node-label]")
    name.fill("报销单")
    name.press("Tab")
    panel(page).locator('[data-add-row="fields"]').click()
    row = panel(page).locator('.schema-rows[data-setting="fields"] [data-row="0"]')
    row.locator('[data-setting="key"]').fill("amount")
    row.locator('[data-setting="key"]').press("Tab")
    row.locator('[data-setting="label"]').fill("金额")
    row.locator('[data-setting="label"]').press("Tab")
    row.locator('select[data-setting="kind"]').select_option("money")
    row.locator('input[data-setting="required"]').check()
    expect(node(page, "form-1").locator("text.jimu-label")).to_have_text("报销单")

    # Connect with the mouse; the approval's edges need their outcome chosen.
    connect(page, "start-1", "form-1")
    connect(page, "form-1", "approval-1")
    connect(page, "approval-1", "end-1")
    expect(edges(page)).to_have_count(3)
    chooser = panel(page).locator("select[data-edge-outcome]")
    expect(chooser).to_be_visible()
    expect(panel(page).locator(".choose-outcome")).to_be_visible()
    chooser.select_option("approved")
    shot(page, "connected")

    # Check: the unconnected end node and the approval's loose outcome are outlined in red.
    designer.locator('[data-command="check"]').click()
    report = page.locator("#designer-problems")
    expect(report).to_have_class(re.compile(r"\berror\b"))
    expect(report.locator('li[data-problem-node="end-2"]')).to_have_count(1)
    expect(report.locator('li[data-problem-node="approval-1"]')).to_have_count(1)
    expect(page.locator('g.jimu-node.is-problem[data-node-id="end-2"]')).to_have_count(1)
    expect(page.locator('g.jimu-node.is-problem[data-node-id="approval-1"]')).to_have_count(1)
    expect(page.locator('g.jimu-node.is-problem[data-node-id="form-1"]')).to_have_count(0)
    shot(page, "check")
    report.locator('li[data-problem-node="end-2"] button').click()
    expect(panel(page)).to_have_attribute("data-selected-node", "end-2")

    # Fix it: the rejected way leads to the second end.
    connect(page, "approval-1", "end-2", side="bottom")
    expect(edges(page)).to_have_count(4)
    expect(panel(page).locator("select[data-edge-outcome]")).to_have_value("rejected")
    designer.locator('[data-command="check"]').click()
    expect(report).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("g.jimu-node.is-problem")).to_have_count(0)
    designer.locator('[data-command="layout"]').click()
    designer.locator('[data-command="zoom-out"]').click()
    designer.locator('[data-command="fit"]').click()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        designer.locator('[data-command="publish"]').click()
    assert urlparse(page.url).query == "published=1", page.url
    expect(page.locator("main .notice.success")).to_be_visible()
    expect(page.locator('[data-testid="live-version"]')).to_have_text("1")
    expect(page.locator('[data-testid="version-status"]')).to_have_class(
        re.compile("version-published"))
    expect(designer).to_have_attribute("data-ready", "true")
    shot(page, "published")

    # What the API holds is what was drawn.
    version = page.request.get(f"/api/v1/flows/{flow_id}/versions/1").json()
    assert version["status"] == "published"
    graph = version["graph"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert {k: n["type"] for k, n in nodes.items()} == {
        "start-1": "start", "form-1": "form", "approval-1": "approval", "end-1": "end",
        "end-2": "end"}
    assert nodes["form-1"]["label"] == "报销单"
    assert nodes["form-1"]["settings"]["fields"] == [
        {"key": "amount", "label": "金额", "kind": "money", "required": True}]
    assert {(e["source"], e["target"], e["outcome"]) for e in graph["edges"]} == {
        ("start-1", "form-1", "next"), ("form-1", "approval-1", "submitted"),
        ("approval-1", "end-1", "approved"), ("approval-1", "end-2", "rejected")}
    flow = page.request.get(f"/api/v1/flows/{flow_id}").json()
    assert flow["live_version"] == 1 and flow["code"] == code

    page.goto(f"/admin/flows?q={code}")
    row = page.locator(f'#list-results tr:has(a[href="{flow_path}"])')
    expect(row).to_contain_text("差旅报销")
    shot(page, "list")


def test_a_published_version_opens_read_only(page, live_server):
    page.set_viewport_size(WIDE)
    sign_in(page, live_server)
    flow = next(f for f in page.request.get("/api/v1/flows").json()
                if f["code"] == "demo-expense")
    page.goto(f"/admin/flows/{flow['id']}/versions/{flow['live_version']}")
    designer = page.locator("#flow-designer")
    expect(designer).to_have_attribute("data-ready", "true")
    expect(designer).to_have_class(re.compile("read-only"))
    expect(page.locator(".palette")).to_have_count(0)
    expect(designer.locator('[data-command="publish"]')).to_have_count(0)
    node(page, "claim").click()
    expect(panel(page)).to_have_attribute("data-selected-node", "claim")
    expect(panel(page).locator('[data-setting="key"]').first).to_be_disabled()
    shot(page, "read-only")


@pytest.mark.allow_console_errors("status of 422")
def test_a_run_shows_its_actions_and_a_missing_required_field(page, live_server):
    page.set_viewport_size(WIDE)
    sign_in(page, live_server)
    flow = next(f for f in page.request.get("/api/v1/flows").json()
                if f["code"] == "demo-expense")
    page.goto(f"/admin/flows/{flow['id']}")
    page.locator("#f-subject").fill("browser:expense")
    with page.expect_navigation():
        page.locator("#start-run-form button[type=submit]").click()
    assert re.fullmatch(r"/admin/flow-runs/\d+", urlparse(page.url).path), page.url
    run_path = urlparse(page.url).path
    expect(page.locator("main .notice.success")).to_be_visible()
    expect(page.locator('[data-testid="current-node"]')).to_contain_text("报销单")
    expect(page.locator('[data-testid="run-status"]')).to_have_class(re.compile("run-waiting"))
    submit = page.locator('#run-action-form [data-action="submit"]')
    expect(submit).to_be_visible()

    page.locator('[data-field="reason"]').fill("客户拜访")
    with page.expect_response(lambda r: r.url.endswith(f"{run_path}/actions")) as answer:
        submit.click()
    assert answer.value.status == 422
    expect(page.locator("main .notice.error")).to_be_visible()
    expect(page.locator("#e-amount")).to_be_visible()
    expect(page.locator('[data-field="amount"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[data-field="reason"]')).to_have_value("客户拜访")  # kept
    shot(page, "run-422")

    page.locator('[data-field="amount"]').fill("88.50")
    with page.expect_navigation():
        page.locator('#run-action-form [data-action="submit"]').click()
    assert urlparse(page.url).path == run_path
    expect(page.locator('[data-testid="current-node"]')).to_contain_text("主管审批")
    expect(page.locator('#run-action-form [data-action="approve"]')).to_be_visible()
    expect(page.locator('#run-action-form [data-action="reject"]')).to_be_visible()
    expect(page.locator('[data-testid="timeline"]')).to_contain_text("88.50")
    shot(page, "run")

    page.goto(f"/admin/flow-runs?flow_id={flow['id']}&status=waiting")
    expect(page.locator(f'#list-results a[href="{run_path}"]')).to_be_visible()
    shot(page, "runs")


def test_a_branch_offers_the_outcomes_of_its_cases(page, live_server):
    page.set_viewport_size(WIDE)
    sign_in(page, live_server)
    page.goto("/admin/flows/new")
    page.locator("#f-code").fill(f"branch-{uuid.uuid4().hex[:6]}")
    page.locator("#f-name").fill("大额分流")
    with page.expect_navigation():
        page.locator("#flow-form button[type=submit]").click()
    expect(page.locator("#flow-designer")).to_have_attribute("data-ready", "true")
    drop(page, "branch", 200, 150)
    drop(page, "end", 480, 150)
    node(page, "branch-1").click()
    panel(page).locator('[data-add-row="cases"]').click()
    case = panel(page).locator('.schema-rows[data-setting="cases"] [data-row="0"]')
    case.locator('[data-setting="outcome"]').fill("big")
    case.locator('[data-setting="outcome"]').press("Tab")
    case.locator('[data-setting="condition"]').fill("claim.amount > 5000")
    case.locator('[data-setting="condition"]').press("Tab")
    # The server names the outcomes of these settings: the case, and "otherwise".
    expect(panel(page).locator(".outcome-list li")).to_have_count(2)
    connect(page, "branch-1", "end-1")
    chooser = panel(page).locator("select[data-edge-outcome]")
    expect(chooser).to_have_value("big")
    expect(chooser.locator("option")).to_have_count(2)
    chooser.select_option("default")
    expect(page.locator("#designer-canvas g.lf-edge text")).to_contain_text(re.compile(r"\S"))
    shot(page, "branch")
    page.locator("#flow-designer").locator('[data-command="save"]').click()
    expect(page.locator("#flow-designer")).not_to_have_class(re.compile("is-dirty"))
    flow_id = urlparse(page.url).path.rsplit("/", 1)[1]
    graph = page.request.get(f"/api/v1/flows/{flow_id}/versions/1").json()["graph"]
    branch = next(n for n in graph["nodes"] if n["id"] == "branch-1")
    assert branch["settings"] == {"cases": [{"outcome": "big",
                                             "condition": "claim.amount > 5000"}]}
    assert [(e["source"], e["target"], e["outcome"]) for e in graph["edges"]] == [
        ("branch-1", "end-1", "default")]
