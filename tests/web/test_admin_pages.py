"""The admin web UI through HTTP: sign-in, CSRF on forms, headers, marketplace, templates,
settings, language and theme. Browser behaviour is in tests/browser."""

from __future__ import annotations

import re

import httpx
from jimu.services.auth import LOGIN_MAX_FAILURES
from jimu_sdk.testing.platform import DEFAULT_PASSWORD


def _login_token(page: httpx.Response) -> str:
    return re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"username": username, "password": password,
                                             "login_csrf": _login_token(form),
                                             "next": "/admin/"})


async def test_sign_in_and_out_with_the_form(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    client = jimu_platform.client()
    anonymous = await client.get("/admin/plugins")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    wrong = await _sign_in(client, tenant.admin_username, "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert 'value="' + tenant.admin_username + '"' in wrong.text  # input kept
    right = await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    assert right.status_code == 303 and right.headers["location"] == "/admin/"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    home = await client.get("/admin/")
    assert home.status_code == 200 and 'data-menu-key="followups.followups"' in home.text
    out = await client.post("/logout", data={"csrf_token": _csrf(home)})
    assert out.status_code == 303
    assert (await client.get("/admin/")).status_code == 303


async def test_login_form_without_its_token_is_refused(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    client = jimu_platform.client()
    response = await client.post("/login", data={"username": tenant.admin_username,
                                                 "password": DEFAULT_PASSWORD})
    assert response.status_code == 403 and "jimu_session" not in response.headers.get(
        "set-cookie", "")


async def test_repeated_failed_sign_ins_are_throttled(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    client = jimu_platform.client()
    for _ in range(LOGIN_MAX_FAILURES):
        assert (await _sign_in(client, tenant.admin_username, "wrong-password")
                ).status_code == 401
    blocked = await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    assert blocked.status_code == 429 and "分钟后再试" in blocked.text
    api = await client.post("/api/v1/auth/login", json={
        "username": tenant.admin_username, "password": DEFAULT_PASSWORD})
    assert api.status_code == 429 and api.json()["error"] == "too_many_attempts"


async def test_every_page_carries_the_security_headers(jimu_platform):
    response = await jimu_platform.client().get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    asset = await jimu_platform.client().get("/static/core/jimu.js")
    assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"


async def test_forms_need_the_csrf_field_or_header(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    forged = await client.post("/admin/plugins/followups/disable",
                               data={"csrf_token": "forged"})
    assert forged.status_code == 403 and 'data-error="csrf"' in forged.text
    page = await client.get("/admin/plugins")
    assert 'data-plugin="followups"' in page.text
    done = await client.post("/admin/plugins/followups/disable",
                             data={"csrf_token": _csrf(page)})
    assert done.status_code == 303
    assert 'data-menu-key="followups.followups"' not in (await client.get("/admin/")).text


async def test_upload_forms_carry_the_csrf_field_in_their_first_part(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["price_lists"])
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    page = await client.get("/admin/p/price_lists/import")
    big = b"sku,name\n" + b"x" * 3_000_000  # larger than the 1 MB read for the token
    files = {"file": ("items.csv", big, "text/csv")}
    forged = await client.post("/admin/p/price_lists/import", files=files,
                               data={"csrf_token": "forged", "kind": "items", "dry_run": "1"})
    assert forged.status_code == 403 and 'data-error="csrf"' in forged.text
    missing = await client.post("/admin/p/price_lists/import", files=files,
                                data={"kind": "items", "dry_run": "1"})
    assert missing.status_code == 403
    done = await client.post("/admin/p/price_lists/import", files=files,
                             data={"csrf_token": _csrf(page), "kind": "items", "dry_run": "1"})
    # The token was read, and the file's over-long cell is a clear error, not a crash.
    assert done.status_code == 422 and "cannot be read" in done.text


async def test_marketplace_enables_and_validates_settings(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    page = await client.get("/admin/plugins")
    assert 'data-action="enable"' in page.text
    token = _csrf(page)
    assert (await client.post("/admin/plugins/followups/enable",
                              data={"csrf_token": token})).status_code == 303
    assert (await client.get("/admin/p/followups/")).status_code == 200
    bad = await client.post("/admin/plugins/followups/settings", data={
        "csrf_token": token, "reminder_hour": "25", "recent_days": "abc"})
    assert bad.status_code == 422
    assert 'id="e-recent_days"' in bad.text and "请输入整数" in bad.text
    assert 'id="e-reminder_hour"' in bad.text and 'value="abc"' in bad.text
    good = await client.post("/admin/plugins/followups/settings", data={
        "csrf_token": token, "reminder_hour": "8", "recent_days": "10"})
    assert good.status_code == 303
    settings = (await client.get("/api/v1/plugins/followups")).json()["settings"]
    assert settings == {"reminder_hour": 8, "recent_days": 10}


async def test_industry_template_applies_once(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    preview = await client.get("/admin/templates/catering_chain")
    assert preview.status_code == 200 and 'class="step-enable"' in preview.text
    token = _csrf(preview)
    first = await client.post("/admin/templates/catering_chain/apply",
                              data={"csrf_token": token})
    assert first.status_code == 303
    plugin = (await client.get("/api/v1/plugins/followups")).json()
    assert plugin["enabled"] and plugin["settings"]["recent_days"] == 14
    audit_before = (await client.get("/api/v1/audit")).json()["total"]
    again = await client.post("/admin/templates/catering_chain/apply",
                              data={"csrf_token": token})
    assert again.status_code == 303
    assert (await client.get("/api/v1/audit")).json()["total"] == audit_before
    stepwise = await client.post("/admin/templates/catering_chain/apply",
                                 data={"csrf_token": token, "step": "0"})
    assert stepwise.status_code == 200 and stepwise.json()["done"] is False
    missing = await client.get("/admin/templates/no-such-template")
    assert missing.status_code == 404 and "<html" in missing.text


async def test_language_and_theme_are_remembered(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    home = await client.get("/admin/")
    assert '<html lang="zh-CN"' in home.text and "插件市场" in home.text
    await client.post("/account/language", data={"csrf_token": _csrf(home), "locale": "en",
                                                  "next": "/admin/"})
    english = await client.get("/admin/")
    assert '<html lang="en"' in english.text and "Plugin marketplace" in english.text
    bad = await client.post("/admin/settings", data={
        "csrf_token": _csrf(home), "name": "", "locale": "xx", "theme": "nope"})
    assert bad.status_code == 422 and 'id="e-name"' in bad.text and 'id="e-theme"' in bad.text
    saved = await client.post("/admin/settings", data={
        "csrf_token": _csrf(home), "name": "新名字", "locale": "zh-CN", "theme": "ink"})
    assert saved.status_code == 303
    themed = await client.get("/admin/")
    assert 'class="theme-ink"' in themed.text and "/static/themes/ink/ink.css" in themed.text


async def test_unknown_page_is_a_themed_404(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    client = jimu_platform.client()
    await _sign_in(client, tenant.admin_username, DEFAULT_PASSWORD)
    response = await client.get("/admin/p/followups/")
    assert response.status_code == 404 and "<html" in response.text
    nowhere = await client.get("/admin/no-such-page")
    assert nowhere.status_code == 404 and "页面不存在" in nowhere.text
    assert 'id="side-menu"' in nowhere.text  # the signed-in user's own shell, in their language
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    posted = await client.post("/admin/no-such-page", data={"csrf_token": _csrf(nowhere)})
    assert posted.status_code in (404, 405) and "Traceback" not in posted.text
