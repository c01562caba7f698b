"""The settlement plugin's pages (结算) in Chromium, on the demo tenant.

The demo imports the dealers' purchases of last month and this month from the old system
(ERP-…), and a settlement run of last month closes it, with statements for 华北总代 HB-ZD (ladder
rebate: 5,400 箱 at 2 元/箱 = 10,800.00) and 华南总代 HN-ZD (3% of 97,560.00 = 2,926.80); the
Suzhou installer's repair is completed, so its fee is booked this month. The run and the
work order's event are worked by the live server's in-process worker after it starts serving,
so the module's fixture waits for them (as the admin) before any test looks.

Each role signs in once for the module; its tests start from its session cookies. The dealer's
test confirms HB-ZD's statement of last month (a demo statement no other test uses).

Screenshots go to ``test-output/screenshots/settlement/*.png``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import login, screenshot

ADMIN, DEALER, INSTALLER = "demo-admin", "demo-dealer", "demo-installer"
PAGES = "/admin/p/settlement"
API = "/api/v1/settlement"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEMO_WORK_TIMEOUT_S = 60  # the demo's settlement run and work-order event, in the worker


@dataclass
class Demo:
    """The demo tenant once its background work is done: sessions and the statements' ids."""

    cookies: dict[str, list[Any]]
    statements: dict[str, int]  # partner code -> its statement of last month
    work_orders: dict[str, dict[str, Any]]  # work-order number -> its revenue, as admin sees it
    last_month: str
    this_month: str


def _months() -> tuple[str, str]:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    previous = today.replace(day=1) - dt.timedelta(days=1)
    return f"{previous:%Y-%m}", f"{today:%Y-%m}"


@pytest.fixture(scope="module")
def demo(browser: Browser, live_server) -> Demo:
    """One sign-in per role; the admin then waits until last month's statements are written
    and the period closed, and the installer's work order is booked."""
    last_month, this_month = _months()
    cookies: dict[str, list[Any]] = {}
    statements: dict[str, int] = {}
    work_orders: dict[str, dict[str, Any]] = {}
    for user in (ADMIN, DEALER, INSTALLER):
        context = browser.new_context(base_url=live_server.base_url, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        try:
            page = context.new_page()
            login(page, live_server.base_url, user, live_server.password)
            assert "/login" not in page.url, f"{user} was not signed in: {page.url}"
            cookies[user] = context.cookies()
            if user == ADMIN:
                statements, work_orders = _wait_for_the_demo(page, live_server, last_month,
                                                             this_month)
        finally:
            context.close()
    return Demo(cookies, statements, work_orders, last_month, this_month)


def _wait_for_the_demo(page: Page, live_server, last_month: str, this_month: str
                       ) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    # The demo queues last month's run as a timer due at once; the live server has no
    # scheduler loop (nothing fires on its own), so the test ticks it, as `jimu serve` would.
    deadline = time.monotonic() + DEMO_WORK_TIMEOUT_S
    seen: Any = None
    while time.monotonic() < deadline:
        queued = page.request.get(f"{API}/runs").json()
        if any(r["period"] == last_month and r["stage"] == "queued" for r in queued):
            live_server.run(lambda kernel: kernel.scheduler.tick())
        period = page.request.get(f"{API}/periods/{last_month}").json()
        rows = page.request.get(f"{API}/statements?period={last_month}").json()
        booked = page.request.get(f"{API}/work-orders?period={this_month}").json()["items"]
        found = {s["partner_code"]: s["id"] for s in rows}
        seen = (period.get("status"), sorted(found), queued[:2],
                [(r["number"], r["installer_amount"]) for r in booked])
        if period.get("status") == "closed" and {"HB-ZD", "HN-ZD"} <= set(found) and any(
                Decimal(r["installer_amount"]) > 0 for r in booked):
            return found, {r["number"]: r for r in booked}
        page.wait_for_timeout(500)
    pytest.fail(f"the demo's settlement of {last_month} and the installer's work order were "
                f"not done within {DEMO_WORK_TIMEOUT_S} s (last seen: {seen})")


def _as(page: Page, demo: Demo, user: str) -> None:
    page.context.add_cookies(demo.cookies[user])


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], (
        f"{page.url} scrolls sideways ({width} px wide in a {viewport} viewport)")


def _money(text: str) -> Decimal:
    number = re.search(r"-?[\d,]+\.\d{2}", text)
    assert number, f"no amount in {text!r}"
    return Decimal(number.group(0).replace(",", ""))


# ---------------------------------------------------------------------- the admin


def test_admin_follows_a_statement_down_to_the_imported_documents(page: Page, demo: Demo
                                                                  ) -> None:
    _as(page, demo, ADMIN)
    page.goto(f"{PAGES}/")
    last = page.locator(f'#periods tr[data-period="{demo.last_month}"]')
    expect(last.locator('[data-label="状态"] [data-status="closed"]')).to_have_text("已关账")
    expect(last.locator('.run-progress[data-status="completed"]')).to_be_visible()
    assert int(last.locator('td[data-label="结算单"]').inner_text()) >= 2
    current = page.locator(f'#periods tr[data-period="{demo.this_month}"]')
    expect(current.locator('[data-status="open"]')).to_be_visible()
    expect(current.locator(f'[data-testid="run-{demo.this_month}"]')).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "settlement/periods")

    page.goto(f"{PAGES}/statements?period={demo.last_month}")
    north = page.locator(f'#statements tr[data-statement^="ST-{demo.last_month}-"]',
                         has_text="HB-ZD")
    south = page.locator(f'#statements tr[data-statement^="ST-{demo.last_month}-"]',
                         has_text="HN-ZD")
    expect(north).to_contain_text("华北总代·北京京联商贸")
    expect(north.locator('[data-label="应付合作方"]')).to_have_text("¥10,800.00")
    expect(south).to_contain_text("华南总代·广州粤通")
    expect(south.locator('[data-label="应付合作方"]')).to_have_text("¥2,926.80")
    _no_sideways_scroll(page)
    screenshot(page, "settlement/statements")

    with page.expect_navigation():
        north.locator("a").first.click()
    assert page.url.endswith(f"/statements/{demo.statements['HB-ZD']}")
    expect(page.locator("h1")).to_contain_text(f"ST-{demo.last_month}-")
    expect(page.get_by_test_id("payable")).to_have_text("¥10,800.00")
    rebates = page.locator('#statement-lines tr[data-kind="rebates"]')
    expect(rebates.locator('[data-label="金额"]')).to_have_text("¥10,800.00")
    expect(rebates).to_contain_text("华北饮料阶梯返利")
    _no_sideways_scroll(page)
    screenshot(page, "settlement/statement-admin")

    # The documents: the links answer with the file itself.
    for label, media, magic in (("下载 PDF", "application/pdf", b"%PDF"),
                                ("下载 XLSX", XLSX, b"PK")):
        link = page.locator("p.downloads a", has_text=label)
        answer = page.request.get(link.get_attribute("href") or "")
        assert answer.status == 200, (label, answer.status, answer.text()[:300])
        assert answer.headers["content-type"].startswith(media), answer.headers
        assert answer.body().startswith(magic), label
        assert f"ST-{demo.last_month}-" in answer.headers.get("content-disposition", "")
    with page.expect_download() as xlsx:
        page.locator("p.downloads a", has_text="下载 XLSX").click()
    assert xlsx.value.suggested_filename == f"{page.locator('h1').inner_text().split()[1]}.xlsx"

    # The rebates line: its one entry is the programme the run computed.
    statement_url = page.url
    with page.expect_navigation():
        rebates.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("返利")
    expect(page.locator("#line-entries tbody tr")).to_have_count(1)
    expect(page.locator("#line-entries tbody tr")).to_contain_text("HB-LADDER")
    screenshot(page, "settlement/line-rebates")

    # The purchases the rebate was computed on: the documents imported from the old system.
    page.goto(statement_url)
    with page.expect_navigation():
        page.locator('#statement-lines tr[data-kind="sales"] a').first.click()
    documents = page.locator("#line-entries tbody tr th")
    expect(documents.first).to_have_text(re.compile(r"^ERP-\d{6}-\d{3}"))
    refs = documents.all_inner_texts()
    month = demo.last_month.replace("-", "")
    assert len(refs) == 4 and all(r.startswith(f"ERP-{month}-") for r in refs), refs
    _no_sideways_scroll(page)
    screenshot(page, "settlement/line-sales")


def test_admin_dashboard_draws_its_charts_and_exports_a_table(page: Page, demo: Demo) -> None:
    _as(page, demo, ADMIN)
    page.emulate_media(reduced_motion="reduce")  # jimu.js then draws charts without animation
    page.goto(f"{PAGES}/dashboard")
    charts = page.locator("[data-chart]")
    assert charts.count() >= 5
    for chart in charts.all():
        expect(chart).to_have_attribute("data-chart-ready", "1")
        expect(chart.locator("canvas, svg").first).to_be_attached()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, box
    for table in ("over_time", "regions", "tiers", "partners", "installers", "accruals",
                  "documents"):
        rows = page.locator(f"#table-{table} tbody tr")
        expect(rows.first).to_be_visible()
        expect(rows.first.locator("td.empty")).to_have_count(0)
    expect(page.locator("#table-partners")).to_contain_text("华北总代·北京京联商贸")
    assert _money(page.locator("#total-revenue").inner_text()) > 0
    _no_sideways_scroll(page)
    screenshot(page, "settlement/dashboard")

    export = page.locator("#table-partners").locator(
        "xpath=ancestor::div[contains(@class,'table-wrap')]/following-sibling::p[1]/a")
    expect(export).to_have_text("导出此表（XLSX）")
    with page.expect_download() as download:
        export.click()
    assert download.value.suggested_filename.endswith("-partners.xlsx")
    path = download.value.path()
    with open(path, "rb") as workbook:
        assert workbook.read(2) == b"PK"


# ---------------------------------------------------------------------- the dealer


@pytest.mark.allow_console_errors("status of 404", "status of 403")
def test_dealer_sees_its_own_settlement_and_confirms_its_statement(page: Page, demo: Demo
                                                                   ) -> None:
    _as(page, demo, DEALER)
    page.goto(f"{PAGES}/")
    assert page.url.endswith(f"{PAGES}/my"), page.url
    expect(page.locator("h1")).to_contain_text("华北总代·北京京联商贸")
    expect(page.get_by_test_id("tier")).to_have_class(re.compile(r"\bvalue\b"))
    assert page.get_by_test_id("tier").inner_text().strip()
    expect(page.get_by_test_id("next-band-HB-LADDER")).to_have_text(
        re.compile(r"^距下一档还差 [\d,.]+箱"))
    number = f"ST-{demo.last_month}-"
    mine = page.locator("#my-statements li", has_text=number)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("¥10,800.00")
    assert "HN-ZD" not in page.content() and "华南总代" not in page.content()
    _no_sideways_scroll(page)
    screenshot(page, "settlement/my-dealer")

    with page.expect_navigation():
        mine.locator("a").click()
    assert page.url.endswith(f"/statements/{demo.statements['HB-ZD']}")
    expect(page.locator("h1 [data-status]")).to_have_text("草稿")
    expect(page.get_by_test_id("pay")).to_have_count(0)
    screenshot(page, "settlement/statement-dealer-draft")
    with page.expect_navigation():
        page.get_by_test_id("confirm").click()
    expect(page.locator("h1 [data-status]")).to_have_text("已确认")
    expect(page.locator(".notice.success")).to_be_visible()
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    expect(page.locator("ol.timeline li").last).to_contain_text("已确认")
    screenshot(page, "settlement/statement-dealer-confirmed")

    # Another dealer's statement does not exist for this one; the dashboard is not its.
    response = page.goto(f"{PAGES}/statements/{demo.statements['HN-ZD']}")
    assert response is not None and response.status == 404
    expect(page.locator("article.error-page h1")).to_have_text(re.compile(r"^404 · "))
    assert "华南总代" not in page.content()
    screenshot(page, "settlement/statement-other-dealer-404")
    response = page.goto(f"{PAGES}/dashboard")
    assert response is not None and response.status == 403
    expect(page.locator("article.error-page h1")).to_have_text("403 · 无权执行此操作")
    screenshot(page, "settlement/dashboard-dealer-403")


# ---------------------------------------------------------------------- the installer


def test_installer_on_a_phone_sees_its_work_order_fee_and_only_its_share(phone_page: Page,
                                                                          demo: Demo) -> None:
    page = phone_page
    _as(page, demo, INSTALLER)
    page.goto(f"{PAGES}/")
    assert page.url.endswith(f"{PAGES}/my"), page.url
    expect(page.locator("h1")).to_contain_text("苏州吴中安装服务商")
    fees = page.locator("#fees tbody tr")
    expect(fees.first.locator("a")).to_be_visible()
    fee = fees.first
    share = _money(fee.locator('[data-label="您的份额"]').inner_text())
    assert share > 0
    _no_sideways_scroll(page)
    screenshot(page, "settlement/my-installer-phone")

    number = fee.locator("a").inner_text()
    with page.expect_navigation():
        fee.locator("a").click()
    assert re.search(rf"{PAGES}/work-orders/\d+$", page.url), page.url
    expect(page.locator("h1")).to_contain_text(number)
    document = page.locator('section.revenue-document[data-kind="original"]')
    expect(document.get_by_test_id("share")).to_have_text(f"¥{share:,.2f}")
    lines = document.locator("tbody tr")
    expect(lines.first).to_be_visible()
    parts = [_money(t) for t in lines.locator('[data-label="您的份额"]').all_inner_texts()]
    assert sum(parts) == share and all(p > 0 for p in parts), parts
    # Only its own share: not the work order's revenue, the enterprise's part or the margin.
    expect(page.get_by_test_id("margin")).to_have_count(0)
    expect(page.locator("table.revenue-lines")).to_have_count(0)
    expect(document.locator("thead th")).to_have_text(["项目", "您的份额"])
    booked = demo.work_orders[number]
    assert Decimal(booked["installer_amount"]) == share
    body = page.locator("#main").inner_text()
    for key in ("total", "enterprise_amount", "margin"):
        figure = f"{Decimal(booked[key]):,.2f}"
        assert figure not in body, f"the installer's page shows the work order's {key} {figure}"
    for foreign in ("毛利", "成本"):
        assert foreign not in body, f"the installer's page shows {foreign!r}"
    expect(page.locator('#main a[href^="/admin/p/work_orders/"]')).to_have_count(0)
    _no_sideways_scroll(page)
    screenshot(page, "settlement/work-order-installer-phone")
