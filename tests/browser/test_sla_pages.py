"""The SLA compliance report in Chromium: ECharts draws each chart on a canvas, in zh-CN, and
each chart's data stays readable as a table under it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login

CHARTS = ("chart-weekly", "chart-priority", "chart-type")


def test_the_sla_report_draws_its_charts(page, live_server, tmp_path):
    login(page, live_server.base_url, "demo-admin", live_server.password)
    page.goto("/admin/p/sla/report")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator('#side-menu a[data-menu-key="sla.sla"]')).to_have_text("SLA 时效")
    for chart in CHARTS:
        drawn = page.locator(f'[data-chart="{chart}"]')
        expect(drawn).to_have_attribute("data-chart-ready", "1")
        canvas = drawn.locator("canvas").first
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 200, (chart, box)
    # Twelve weekly bars by default, with their table: one row per week.
    weeks = page.locator("#table-weekly tbody tr")
    expect(weeks).to_have_count(12)
    expect(page.locator("#table-priority tbody tr")).to_have_count(4)
    page.screenshot(path=tmp_path / "sla-report.png", full_page=True)
    assert (tmp_path / "sla-report.png").stat().st_size > 10_000
    # The week filter round-trips through the address.
    page.fill("#f-from", "2026-01-05")
    page.fill("#f-to", "2026-02-01")
    with page.expect_navigation():
        page.locator("#report-filter button[type=submit]").click()
    assert "from=2026-01-05" in page.url and "to=2026-02-01" in page.url
    expect(page.locator('[data-chart="chart-weekly"]')).to_have_attribute("data-chart-ready",
                                                                          "1")
    expect(page.locator("#table-weekly tbody tr")).to_have_count(4)
