"""The harness itself: the live server answers, and the browser sees what it serves."""

import json

from tests.browser.conftest import screenshot


def test_health_shows_json_in_the_browser(page, live_server):
    response = page.goto(f"{live_server.base_url}/health")

    assert response is not None and response.ok
    assert response.headers["content-type"].startswith("application/json")
    # Chromium shows a JSON document as text in a <pre>.
    assert json.loads(page.locator("pre").inner_text())["status"] == "ok"


def test_login_page_renders_its_form(page, live_server):
    page.goto(f"{live_server.base_url}/login")

    form = page.locator("form#login-form")
    assert form.is_visible()
    assert form.locator('[name="username"]').is_visible()
    assert form.locator('[name="password"]').is_visible()
    screenshot(page, "login")
