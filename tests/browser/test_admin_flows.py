"""The admin web UI end to end in Chromium: sign-in, marketplace, templates, language, theme,
keyboard, phone width and what a staff user may see.

The demo tenant is shared by every test in this folder: a test that changes it (a plugin
switched off, a template's settings, the theme, the user's language) puts it back, in a
``finally`` so a failing step does not leave the next test a different tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from tests.browser.conftest import login, screenshot

ADMIN, STAFF = "demo-admin", "demo-staff"
PLUGIN = "followups"  # the one installed plugin; it contributes a workspace menu entry
PLUGIN_MENU_KEY = "followups.followups"
PLUGIN_PAGE = "/admin/p/followups/"
TEMPLATE = "catering_chain"  # plugins.toml: followups with reminder_hour 14, recent_days 14
CONFIGURATION_LINKS = ("/admin/templates", "/admin/users", "/admin/tokens", "/admin/audit",
                       "/admin/settings")
INK_BACKGROUND = "rgb(16, 20, 24)"  # themes/ink/static/ink.css: --pico-background-color
PHONE_WIDTH = 390

# What a focused element draws: an outline or a box-shadow, whichever the stylesheet uses.
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none" && !/^rgba\\(0, 0, 0, 0\\)/.test(style.boxShadow);
  return {tag: element.tagName, outline: outline, shadow: shadow};
}"""


def path_of(page: Page) -> str:
    """The page's path; the server may drop a trailing slash (``/admin/`` serves ``/admin``)."""
    return urlparse(page.url).path.rstrip("/") or "/"


def sign_in(page: Page, live_server, username: str = ADMIN) -> None:
    login(page, live_server.base_url, username, live_server.password)
    assert path_of(page) == "/admin", f"{username} was not signed in: {page.url}"


def menu_link(page: Page, key: str) -> Locator:
    return page.locator(f'#side-menu a[data-menu-key="{key}"]')


def menu_hrefs(page: Page) -> list[str]:
    return page.locator("#side-menu a").evaluate_all("links => links.map(a => a.pathname)")


def plugin_card(page: Page, slug: str = PLUGIN) -> Locator:
    return page.locator(f'article.plugin-card[data-plugin="{slug}"]')


def switch_plugin(page: Page, on: bool, slug: str = PLUGIN) -> None:
    """Switch ``slug`` on or off with its card's button in the marketplace."""
    page.goto("/admin/plugins")
    action = "enable" if on else "disable"
    with page.expect_navigation():
        plugin_card(page, slug).locator(f'button[data-action="{action}"]').click()
    assert path_of(page) == "/admin/plugins"
    expect(page.locator("main .notice.success")).to_contain_text(slug)
    expect(plugin_card(page, slug).locator(".badge")).to_have_class(
        re.compile(r"\bon\b" if on else r"\boff\b"))


def plugin_is_on(page: Page, slug: str = PLUGIN) -> bool:
    page.goto("/admin/plugins")
    return "on" in (plugin_card(page, slug).locator(".badge").get_attribute("class") or "")


def choose_language(page: Page, locale: str) -> None:
    """The header's language choice submits itself on change (jimu.js data-autosubmit)."""
    with page.expect_navigation():
        page.locator("#language-choice").select_option(locale)
    expect(page.locator("html")).to_have_attribute("lang", locale)


@contextmanager
def language(page: Page, locale: str) -> Iterator[None]:
    """The signed-in user's language is ``locale`` inside the block, Chinese again after."""
    choose_language(page, locale)
    try:
        yield
    finally:
        page.goto("/admin/")
        choose_language(page, "zh-CN")


def save_theme(page: Page, theme: str) -> None:
    page.goto("/admin/settings")
    page.locator("#f-theme").select_option(theme)
    with page.expect_navigation():
        page.locator("#tenant-settings button[type=submit]").click()
    assert path_of(page) == "/admin/settings"
    expect(page.locator("main .notice.success")).to_be_visible()


def followups_settings(page: Page) -> dict[str, str]:
    page.goto(f"/admin/plugins/{PLUGIN}")
    return {name: page.locator(f"#s-{name}").input_value()
            for name in ("reminder_hour", "recent_days")}


def save_followups_settings(page: Page, values: dict[str, str]) -> None:
    page.goto(f"/admin/plugins/{PLUGIN}")
    for name, value in values.items():
        page.locator(f"#s-{name}").fill(value)
    with page.expect_navigation():
        page.locator("#settings-form button[type=submit]").click()
    expect(page.locator("main .notice.success")).to_be_visible()


def still_charts(page: Page) -> None:
    """Ask for reduced motion, so the home page's charts are drawn at once (jimu.js turns
    ECharts' animation off) and a screenshot shows them whole, not half-grown."""
    page.emulate_media(reduced_motion="reduce")


def charts_drawn(page: Page) -> None:
    charts = page.locator("[data-chart]")
    expect(charts.first).to_be_visible()
    expect(page.locator("[data-chart]:not([data-chart-ready])")).to_have_count(0)
    assert page.evaluate("""() => [...document.querySelectorAll('[data-chart]')].every(
        element => window.echarts.getInstanceByDom(element).getOption().animation === false)""")


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth")


# ---------------------------------------------------------------------- sign-in


def test_sign_in_then_sign_out_closes_the_admin(page, live_server):
    page.goto("/login")
    screenshot(page, "login")

    sign_in(page, live_server)
    expect(page.locator("h1")).to_have_text("首页")
    expect(page.locator("#side-menu")).to_be_visible()

    page.locator("details.user-menu summary").click()
    with page.expect_navigation():
        page.locator("#logout-form button[type=submit]").click()
    assert path_of(page) == "/login"
    expect(page.locator(".login-card [role=alert], .login-card [role=status]")
           ).to_have_text("您已退出登录。")
    screenshot(page, "login-signed-out")

    page.goto("/admin/")
    assert path_of(page) == "/login"
    assert urlparse(page.url).query.startswith("next=/admin")
    expect(page.locator("form#login-form")).to_be_visible()


@pytest.mark.allow_console_errors("status of 401")
def test_wrong_password_shows_the_error_on_the_login_page(page, live_server):
    login(page, live_server.base_url, ADMIN, "not-the-password")

    assert path_of(page) == "/login"
    expect(page.locator(".login-card .notice.error[role=alert]")).to_have_text("用户名或密码错误")
    expect(page.locator("#f-username")).to_have_value(ADMIN)  # kept, the password is not
    expect(page.locator("#f-password")).to_have_value("")
    screenshot(page, "login-wrong-password")
    page.goto("/admin/")
    assert path_of(page) == "/login"  # and nobody is signed in


# ---------------------------------------------------------------------- marketplace


def test_switching_a_plugin_adds_and_removes_its_menu_entry(page, live_server):
    sign_in(page, live_server)
    was_on = plugin_is_on(page)
    try:
        if was_on:
            switch_plugin(page, on=False)
        expect(menu_link(page, PLUGIN_MENU_KEY)).to_have_count(0)

        switch_plugin(page, on=True)
        entry = menu_link(page, PLUGIN_MENU_KEY)
        expect(entry).to_be_visible()
        expect(entry).to_have_text("跟进记录")
        screenshot(page, "marketplace")
        with page.expect_navigation():
            entry.click()
        assert path_of(page) == PLUGIN_PAGE.rstrip("/")
        expect(page.locator("main h1")).to_be_visible()

        switch_plugin(page, on=False)
        expect(menu_link(page, PLUGIN_MENU_KEY)).to_have_count(0)
        # The plugin's page went with its entry (asked aside: a 404 page logs a console error).
        assert page.request.get(PLUGIN_PAGE).status == 404
    finally:
        if was_on and not plugin_is_on(page):
            switch_plugin(page, on=True)
    assert plugin_is_on(page) == was_on


@pytest.mark.allow_console_errors("status of 422")
def test_invalid_plugin_settings_show_the_error_beside_the_field(page, live_server):
    sign_in(page, live_server)
    before = followups_settings(page)

    page.locator("#s-reminder_hour").fill("25")  # the schema allows 0..23
    page.locator("#s-recent_days").fill("1.5")  # not a whole number
    with page.expect_navigation():
        page.locator("#settings-form button[type=submit]").click()

    expect(page.locator("main .notice.error[role=alert]")).to_have_text("请修改下方标出的字段。")
    for name, typed in (("reminder_hour", "25"), ("recent_days", "1.5")):
        field, error = page.locator(f"#s-{name}"), page.locator(f"#e-{name}")
        expect(field).to_have_value(typed)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", f"e-{name}")
        expect(error).to_be_visible()
        expect(error).not_to_be_empty()
        # "Next to the field": right under it, starting at its left edge.
        box, error_box = field.bounding_box(), error.bounding_box()
        assert box is not None and error_box is not None
        assert 0 <= error_box["y"] - (box["y"] + box["height"]) < 24, (box, error_box)
        assert abs(error_box["x"] - box["x"]) < 4, (box, error_box)
    expect(page.locator("#e-recent_days")).to_have_text("请输入整数。")
    screenshot(page, "plugin-detail-field-error")

    assert followups_settings(page) == before  # nothing was saved


# ---------------------------------------------------------------------- industry templates


def test_applying_a_template_step_by_step_switches_its_plugins_on(page, live_server):
    sign_in(page, live_server)
    was_on, before = plugin_is_on(page), followups_settings(page)
    steps: list[str] = []

    def record_step(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(f"/{TEMPLATE}/apply"):
            steps.append(request.post_data or "")

    page.on("request", record_step)
    try:
        if was_on:  # so that applying has a plugin to switch on
            switch_plugin(page, on=False)

        page.goto("/admin/templates")
        card = page.locator(f'article.template-card[data-template="{TEMPLATE}"]')
        expect(card.locator("h2")).to_have_text("餐饮连锁")
        screenshot(page, "templates")
        with page.expect_navigation():
            card.get_by_role("button").click()
        assert path_of(page) == f"/admin/templates/{TEMPLATE}"
        expect(page.locator("tr.step-enable td:first-child code")).to_have_text([PLUGIN])
        expect(page.locator("tr.step-configure .diff").filter(has_text="reminder_hour")
               ).to_have_count(1)
        expect(page.locator("#apply-progress")).to_be_hidden()
        screenshot(page, "template-preview")
        planned = page.locator("tr[data-step]").count()  # enable, keep the ones already on, …

        with page.expect_navigation(url=re.compile(r"/admin/templates$")):
            page.locator("#apply-form button[type=submit]").click()
        # jimu.js posted one request per planned step, then the finishing record.
        assert steps == [f"step={n}" for n in range(planned + 1)]
        expect(page.locator(f'article.template-card[data-template="{TEMPLATE}"] .badge.on')
               ).to_have_text("已应用")

        assert plugin_is_on(page)
        expect(menu_link(page, PLUGIN_MENU_KEY)).to_be_visible()
        assert followups_settings(page) == {"reminder_hour": "14", "recent_days": "14"}
    finally:
        save_followups_settings(page, before)
        if not was_on and plugin_is_on(page):
            switch_plugin(page, on=False)
    assert followups_settings(page) == before


# ---------------------------------------------------------------------- language and theme


def test_language_switch_is_remembered_across_page_loads(page, live_server):
    still_charts(page)
    sign_in(page, live_server)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("首页")
    charts_drawn(page)
    screenshot(page, "home-zh-CN")

    with language(page, "en"):
        assert path_of(page) == "/admin"  # back where the choice was made
        expect(page.locator("h1")).to_have_text("Home")
        expect(menu_link(page, "plugins")).to_have_text("Plugin marketplace")
        charts_drawn(page)
        screenshot(page, "home-en")
        page.goto("/admin/plugins")  # the next page load keeps it
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Plugin marketplace")
        expect(page.locator("#language-choice")).to_have_value("en")

    page.goto("/admin/plugins")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("插件市场")
    expect(page.locator("#language-choice")).to_have_value("zh-CN")


def test_theme_choice_changes_the_stylesheet_on_the_next_load(page, live_server):
    still_charts(page)
    sign_in(page, live_server)
    page.goto("/admin/settings")
    expect(page.locator("#f-theme")).to_have_value("default")
    screenshot(page, "settings")
    sheets = page.locator('link[rel="stylesheet"][href^="/static/themes/"]')
    expect(sheets).to_have_count(1)
    expect(sheets).to_have_attribute("href", re.compile(r"^/static/themes/default/default\.css"))
    light = page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
    assert light == "rgb(255, 255, 255)"
    page.goto("/admin/")
    charts_drawn(page)
    screenshot(page, "theme-default")
    try:
        save_theme(page, "ink")
        page.goto("/admin/")
        expect(sheets).to_have_count(1)
        expect(sheets).to_have_attribute("href", re.compile(r"^/static/themes/ink/ink\.css"))
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert page.evaluate(
            "() => getComputedStyle(document.documentElement).backgroundColor"
        ) == INK_BACKGROUND
        expect(page.locator("footer.footer")).to_contain_text("墨")  # ink's own base.html
        charts_drawn(page)
        screenshot(page, "theme-ink")
    finally:
        save_theme(page, "default")
    page.goto("/admin/")
    expect(sheets).to_have_attribute("href", re.compile(r"^/static/themes/default/"))
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


# ---------------------------------------------------------------------- keyboard


def focused_ring(page: Page) -> dict[str, object]:
    ring = page.evaluate(FOCUS_RING)
    assert ring["outline"] or ring["shadow"], f"no visible focus on {ring['tag']}"
    return ring


def test_keyboard_reaches_skip_link_menu_and_account_menu(page, live_server):
    sign_in(page, live_server)

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    focused_ring(page)
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown on focus, not off-screen
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert page.url.endswith("#main")

    page.goto("/admin/")
    summary = page.locator("details.user-menu summary")
    for _ in range(10):  # skip link, brand, language, account menu, then the side menu
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.closest('#side-menu') !== null"):
            break
    expect(menu_link(page, "home")).to_be_focused()
    focused_ring(page)
    page.keyboard.press("Tab")
    expect(menu_link(page, "customers")).to_be_focused()

    summary.focus()
    focused_ring(page)
    page.keyboard.press("Enter")
    expect(page.locator("details.user-menu")).to_have_attribute("open", "")
    expect(page.locator("#logout-form button")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("details.user-menu")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    page.goto("/admin/plugins")
    button = plugin_card(page).locator("footer button")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus that came by keyboard is :focus-visible
    expect(button).to_be_focused()
    focused_ring(page)


def test_keyboard_opens_and_closes_the_phone_menu(phone_page, live_server):
    page = phone_page
    sign_in(page, live_server)
    toggle, menu = page.locator("button[data-menu-toggle]"), page.locator("#side-menu")
    expect(menu).to_be_hidden()

    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    focused_ring(page)
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu_link(page, "home")).to_be_focused()  # focus moves into the opened menu
    focused_ring(page)

    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()


# ---------------------------------------------------------------------- phone


def test_phone_pages_fit_the_width_and_the_menu_opens_from_its_toggle(phone_page, live_server):
    page = phone_page
    still_charts(page)
    sign_in(page, live_server)
    charts_drawn(page)
    assert horizontal_overflow(page) <= PHONE_WIDTH + 1
    screenshot(page, "home-zh-CN-phone")
    with language(page, "en"):
        charts_drawn(page)
        assert horizontal_overflow(page) <= PHONE_WIDTH + 1
        screenshot(page, "home-en-phone")

    toggle, menu = page.locator("button[data-menu-toggle]"), page.locator("#side-menu")
    expect(toggle).to_be_visible()
    expect(menu).to_be_hidden()
    # The top bar stays one line inside the screen, so the opened menu does not cover it.
    bar = page.locator("header.topbar").bounding_box()
    assert bar is not None
    rights = page.locator("header.topbar > :visible").evaluate_all(
        "items => items.map(item => item.getBoundingClientRect().right)")
    assert max(rights) <= PHONE_WIDTH, rights
    toggle.tap()
    expect(menu).to_be_visible()
    opened = menu.bounding_box()
    assert opened is not None and opened["y"] >= bar["y"] + bar["height"] - 1, (bar, opened)
    screenshot(page, "menu-phone")
    with page.expect_navigation():
        menu_link(page, "plugins").tap()
    assert path_of(page) == "/admin/plugins"
    expect(menu).to_be_hidden()  # a new page starts with the menu closed
    expect(plugin_card(page)).to_be_visible()
    assert horizontal_overflow(page) <= PHONE_WIDTH + 1
    screenshot(page, "marketplace-phone")


# ---------------------------------------------------------------------- staff and errors


@pytest.mark.allow_console_errors("status of 403")
def test_staff_sees_no_configuration_and_settings_are_refused(page, live_server):
    sign_in(page, live_server, STAFF)
    hrefs = menu_hrefs(page)
    assert "/admin/" in hrefs
    assert not set(hrefs) & set(CONFIGURATION_LINKS), hrefs

    response = page.goto("/admin/settings")
    assert response is not None and response.status == 403
    expect(page.locator("article.error-page h1")).to_have_text("403 · 无权执行此操作")
    expect(page.locator("#tenant-settings")).to_have_count(0)
    assert "Traceback" not in page.content()
    expect(page.locator("#side-menu")).to_be_visible()  # still inside the admin
    screenshot(page, "forbidden-staff")

    # The marketplace is configuration too: refused the same way.
    response = page.goto("/admin/plugins")
    assert response is not None and response.status == 403
    expect(page.locator("article.plugin-card")).to_have_count(0)


def test_staff_menu_has_no_configuration_section(page, live_server):
    sign_in(page, live_server, STAFF)
    assert "/admin/plugins" not in menu_hrefs(page)
    expect(page.locator("#side-menu .menu-section")).to_have_count(1)


@pytest.mark.allow_console_errors("status of 404")
def test_unknown_page_shows_the_themed_404(page, live_server):
    sign_in(page, live_server)
    response = page.goto("/admin/no-such-page")

    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("article.error-page h1")).to_have_text(re.compile(r"^404 · \S"))
    expect(page.locator("article.error-page a[href='/']")).to_have_text("首页")
    assert "Traceback" not in page.content()
    screenshot(page, "not-found")


@pytest.mark.allow_console_errors("status of 404")
def test_unknown_page_is_a_page_of_the_signed_in_users_admin(page, live_server):
    sign_in(page, live_server)
    page.goto("/admin/no-such-page")

    expect(page.locator("article.error-page h1")).to_have_text("404 · 页面不存在")
    expect(page.locator("#side-menu")).to_be_visible()


def test_menu_marks_the_current_page(page, live_server):
    sign_in(page, live_server)
    expect(menu_link(page, "home")).to_have_attribute("aria-current", "page")
    page.goto(PLUGIN_PAGE)
    expect(menu_link(page, PLUGIN_MENU_KEY)).to_have_attribute("aria-current", "page")
