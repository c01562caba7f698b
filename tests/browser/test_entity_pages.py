"""Entity pages in Chromium: a partner user's wall, the list updating in place, CSV export.

The demo partners form trees: 华北总代 (HB-ZD) > 天津一级 (HB-YJ-TJ) > 廊坊二级 (HB-EJ-LF), and
华北总代 > 朝阳便利店 (HB-MD-CY); 华南总代 has its own; 浦东门店, the hot-pot stores and the Suzhou
installer and service provider stand apart. ``demo-dealer`` belongs to HB-ZD.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import login, screenshot

OWN_TREE = ("李强", "赵敏", "张伟")
OTHERS = ("王芳", "陈静", "刘洋")


def _customer_names(page: Page) -> set[str]:
    return set(page.locator("#list-results tbody td:first-child a").all_inner_texts())


@pytest.mark.allow_console_errors("status of 404")
def test_partner_user_sees_only_its_own_organisation(page, live_server):
    login(page, live_server.base_url, "demo-dealer", live_server.password)
    page.goto("/admin/customers")
    names = _customer_names(page)
    assert names == set(OWN_TREE), names
    options = page.locator("#list-partner_id option").all_inner_texts()
    assert not any("华南" in o or "浦东" in o for o in options), options
    screenshot(page, "entities/customers-partner-user")
    page.goto("/admin/partners")
    codes = set(page.locator("#list-results tbody td:first-child a").all_inner_texts())
    assert codes == {"HB-ZD", "HB-YJ-TJ", "HB-EJ-LF", "HB-MD-CY"}, codes
    # Every customer page by its address: only the own tree's open, the rest are 404.
    opened = []
    for customer_id in range(1, 40):
        answer = page.request.get(f"/admin/customers/{customer_id}")
        assert answer.status in (200, 404), answer.status
        if answer.ok:
            body = answer.text()
            opened.append(next(n for n in OWN_TREE if n in body))
            assert not any(other in body for other in OTHERS)
    assert sorted(opened) == sorted(OWN_TREE)
    assert page.request.get("/api/v1/customers?q=王芳").json()["total"] == 0
    menu = page.locator("#side-menu").inner_text()
    for configuration in ("插件市场", "用户与角色", "审计日志", "设置"):
        assert configuration not in menu


def test_list_search_filter_and_sort_update_in_place(page, live_server):
    login(page, live_server.base_url, "demo-admin", live_server.password)
    page.goto("/admin/customers")
    assert _customer_names(page) >= set(OWN_TREE + OTHERS)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.fill("#list-q", "王")
    expect(page.locator("#list-results tbody tr")).to_have_count(1)
    assert _customer_names(page) == {"王芳"}
    assert "q=" in page.url  # the address keeps what is shown
    page.fill("#list-q", "")
    page.select_option("#list-level", "gold")
    expect(page.locator("#list-results tbody tr")).to_have_count(2)
    assert _customer_names(page) == {"王芳", "赵敏"}
    page.select_option("#list-level", "")
    # Wait for that list before sorting it: a click on the old header races its swap.
    expect(page.locator("#list-results tbody tr").nth(2)).to_be_visible()
    page.locator("#list-results th a").first.click()
    expect(page.locator("#list-results th[aria-sort=ascending]")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # all without a page load
    screenshot(page, "entities/customers-sorted")
    page.reload()
    expect(page.locator("#list-results th[aria-sort=ascending]")).to_have_count(1)


def test_customer_export_downloads_the_filtered_list(page, live_server):
    login(page, live_server.base_url, "demo-admin", live_server.password)
    page.goto("/admin/customers?level=gold")
    with page.expect_download() as download_info:
        page.locator(".exports a", has_text="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("customers-")
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.reader(io.StringIO(text)))
    assert {r[0] for r in rows[1:]} == {"王芳", "赵敏"}


@pytest.mark.allow_console_errors("status of 422")
def test_customer_form_shows_errors_beside_fields(page, live_server):
    login(page, live_server.base_url, "demo-admin", live_server.password)
    page.goto("/admin/customers/new")
    page.fill("#f-name", "")
    page.fill("#f-email", "not-an-email")
    page.fill("#f-region_code", "999999")
    page.locator("#customer-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#e-name")).to_be_visible()
    expect(page.locator("#e-email")).to_be_visible()
    assert page.locator("#f-email").input_value() == "not-an-email"
    assert page.locator("#f-email").get_attribute("aria-invalid") == "true"
    screenshot(page, "entities/customer-form-errors")
    page.goto("/admin/partners")
    screenshot(page, "entities/partners")
    page.goto("/admin/regions?code=110000")
    expect(page.locator(".region-tree li").first).to_be_visible()
    screenshot(page, "entities/regions")


def test_customers_on_a_phone_are_cards(phone_page, live_server):
    login(phone_page, live_server.base_url, "demo-admin", live_server.password)
    phone_page.goto("/admin/customers")
    width = phone_page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 391, width
    screenshot(phone_page, "entities/customers-phone")
