"""The audit log page (who, what, when; before and after) and the platform operator's console
(tenants, a new tenant with its first admin, suspend and resume)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from jimu.db.tables import Tenant, User
from openpyxl import load_workbook

# 15:00 UTC is 23:00 in Shanghai: an hour and a half later it is the next day there, while it
# is still the same day in UTC.
LATE_EVENING = dt.datetime(2024, 5, 1, 15, 0, tzinfo=dt.UTC)


def _targets(text: str) -> list[str]:
    """The Target cells of an audit list, in order."""
    return re.findall(r'data-label="[^"]*"\s*>((?:user|role|tenant|plugin|token):[^<]*)<', text)


async def _busy_tenant(jimu_platform):
    """A tenant whose admin created a user on 1 May (Shanghai) and whose clerk created a role
    half past midnight on 2 May."""
    jimu_platform.clock.freeze(LATE_EVENING)
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await jimu_platform.make_user(tenant, f"{tenant.slug}-clerk", role="admin")
    clerk = await jimu_platform.login(f"{tenant.slug}-clerk")
    staff = (await admin.post("/api/v1/users", json={
        "username": f"{tenant.slug}-staff", "password": "staff-password", "role": "staff",
        "display_name": "Old Name"})).json()
    jimu_platform.clock.advance(dt.timedelta(minutes=90))
    role = await clerk.post("/api/v1/roles", json={
        "name": "auditors", "title_zh": "审计员", "title_en": "Auditors",
        "permissions": ["audit.read", "customers.read"]})
    assert role.status_code in (200, 201), role.text
    return tenant, admin, clerk, staff


async def test_audit_filters_by_who_what_and_when_narrow_the_rows(jimu_platform):
    tenant, admin, _clerk, staff = await _busy_tenant(jimu_platform)
    everything = await admin.get("/admin/audit")
    assert everything.status_code == 200
    assert set(_targets(everything.text)) == {f"tenant:{tenant.id}", f"user:{staff['id']}",
                                              "role:auditors"}
    # Newest first, each row linking to its entry.
    assert _targets(everything.text)[0] == "role:auditors"
    assert len(re.findall(r'href="/admin/audit/\d+"', everything.text)) == 3
    oldest_first = await admin.get("/admin/audit?sort=created_at")
    assert _targets(oldest_first.text)[-1] == "role:auditors"

    by_clerk = await admin.get(f"/admin/audit?user={tenant.slug}-clerk")
    assert _targets(by_clerk.text) == ["role:auditors"]
    by_admin = await admin.get(f"/admin/audit?user={tenant.admin_username}")
    assert _targets(by_admin.text) == [f"user:{staff['id']}"]

    created_users = await admin.get("/admin/audit?action=user.create")
    assert _targets(created_users.text) == [f"user:{staff['id']}"]
    assert "Created a user" in created_users.text or "创建了用户" in created_users.text

    # Dates are days in the tenant's time zone (Asia/Shanghai), the "to" day included.
    second_of_may = await admin.get("/admin/audit?since=2024-05-02")
    assert _targets(second_of_may.text) == ["role:auditors"]
    first_of_may = await admin.get("/admin/audit?since=2024-05-01&until=2024-05-01")
    assert set(_targets(first_of_may.text)) == {f"tenant:{tenant.id}", f"user:{staff['id']}"}
    assert 'value="2024-05-01"' in first_of_may.text  # the dates stay in the form
    assert _targets((await admin.get("/admin/audit?until=2024-04-30")).text) == []

    by_target = await admin.get("/admin/audit?q=role:")
    assert _targets(by_target.text) == ["role:auditors"]
    # Nonsense falls back instead of failing.
    odd = await admin.get("/admin/audit?since=yesterday&until=99999-1-1&sort=password&page=x")
    assert odd.status_code == 200 and len(_targets(odd.text)) == 3


async def test_audit_entry_shows_before_and_after(jimu_platform):
    _tenant, admin, _clerk, staff = await _busy_tenant(jimu_platform)
    changed = await admin.patch(f"/api/v1/users/{staff['id']}",
                                json={"display_name": "New Name"})
    assert changed.status_code == 200, changed.text
    entry = (await admin.get("/api/v1/audit?action=user.update")).json()["items"][0]
    page = await admin.get(f"/admin/audit/{entry['id']}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="(diff-\w+)">\s*<th scope="row">(\w+)', page.text)
    assert ("diff-changed", "display_name") in rows
    assert ("diff-same", "username") in rows and ("diff-same", "role") in rows
    changed_row = page.text[page.text.index("display_name"):]
    assert changed_row.index("Old Name") < changed_row.index("New Name")

    created = (await admin.get("/api/v1/audit?action=role.create")).json()["items"][0]
    role_page = await admin.get(f"/admin/audit/{created['id']}")
    assert role_page.status_code == 200
    assert 'class="badge ok"' in role_page.text  # nothing before: created
    assert '<pre class="json">[\n  &#34;audit.read&#34;' in role_page.text  # pretty JSON

    list_page = await admin.get("/admin/audit?action=user.update")
    assert "display_name" in list_page.text  # the changed field, named in the list


async def test_another_tenants_audit_entry_is_not_found(jimu_platform):
    _tenant, admin, _clerk, _staff = await _busy_tenant(jimu_platform)
    mine = (await admin.get("/api/v1/audit")).json()["items"][0]["id"]
    other = await jimu_platform.make_tenant()
    stranger = await jimu_platform.login(other.admin_username)
    assert (await admin.get(f"/admin/audit/{mine}")).status_code == 200
    refused = await stranger.get(f"/admin/audit/{mine}")
    assert refused.status_code == 404 and "<html" in refused.text
    assert (await stranger.get("/admin/audit/2000000000")).status_code == 404
    assert (await stranger.get("/admin/audit/99999999999999")).status_code in (400, 404)
    await jimu_platform.make_user(other, "plain-staff", role="staff")
    staff = await jimu_platform.login("plain-staff")
    assert (await staff.get("/admin/audit")).status_code == 403


async def test_audit_export_as_csv_and_xlsx(jimu_platform):
    tenant, admin, _clerk, staff = await _busy_tenant(jimu_platform)
    answer = await admin.get("/admin/audit?export=csv&action=user.create")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1] == tenant.admin_username
    assert rows[1][3] == f"user:{staff['id']}" and "user.create" in rows[1][2]
    assert rows[1][0].startswith("2024-05-01 23:00")  # the tenant's local time
    book = load_workbook(io.BytesIO((await admin.get("/admin/audit?export=xlsx")).content))
    assert book.active.max_row == 4


# ------------------------------------------------------------------------------ operators


async def _operator(jimu_platform):
    await jimu_platform.make_user(None, "op")
    return await jimu_platform.login("op")


def _new_tenant(**changes):
    return {"slug": "acme-retail", "name": "Acme 零售", "locale": "zh-CN",
            "timezone": "Asia/Shanghai", "admin_username": "acme-boss",
            "admin_password": "boss-password", "admin_password_confirm": "boss-password",
            **changes}


async def _tenant_count(jimu_platform) -> int:
    async with jimu_platform.kernel.tenant_scope(None):
        return await Tenant.count()


async def test_operator_lists_searches_and_exports_tenants(jimu_platform):
    first = await jimu_platform.make_tenant("north-shop")
    await jimu_platform.make_tenant("south-shop")
    operator = await _operator(jimu_platform)
    listing = await operator.get("/operator/tenants?sort=slug")
    assert listing.status_code == 200
    assert re.findall(r'href="/operator/tenants/\d+">([\w-]+)<', listing.text) == [
        "north-shop", "south-shop"]
    assert 'href="/operator/tenants" data-menu-key="tenants" aria-current="page"' in listing.text
    found = await operator.get("/operator/tenants?q=north")
    assert re.findall(r'href="/operator/tenants/\d+">([\w-]+)<', found.text) == ["north-shop"]
    await operator.post(f"/operator/tenants/{first.id}/suspend")
    suspended = await operator.get("/operator/tenants?status=suspended")
    assert re.findall(r'href="/operator/tenants/\d+">([\w-]+)<', suspended.text) == [
        "north-shop"]
    exported = await operator.get("/operator/tenants?export=csv&sort=slug")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["north-shop", "south-shop"]


async def test_operator_creates_a_tenant_whose_admin_can_sign_in(jimu_platform):
    operator = await _operator(jimu_platform)
    assert (await operator.get("/operator/tenants/new")).status_code == 200
    created = await operator.post("/operator/tenants/new",
                                  data={**_new_tenant(), "plugins": ["followups"]})
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert re.fullmatch(r"/operator/tenants/\d+", location)
    detail = await operator.get(location)
    assert detail.status_code == 200 and "Acme 零售" in detail.text
    assert "<code>followups</code>" in detail.text and "acme-boss" in detail.text
    assert 'class="notice success"' in detail.text
    boss = await jimu_platform.login("acme-boss", "boss-password")
    home = await boss.get("/admin/")
    assert home.status_code == 200 and "Acme 零售" in home.text


async def test_a_new_tenant_can_start_from_an_industry_template(jimu_platform):
    operator = await _operator(jimu_platform)
    created = await operator.post("/operator/tenants/new",
                                  data=_new_tenant(template="retail_distribution"))
    assert created.status_code == 303, created.text
    detail = await operator.get(created.headers["location"])
    assert "<code>followups</code>" in detail.text
    async with jimu_platform.kernel.tenant_scope(None):
        row = await Tenant.select().where(Tenant.slug == "acme-retail").first()
    assert row["template"] == "retail_distribution"
    boss = await jimu_platform.login("acme-boss", "boss-password")
    applied = (await boss.get("/api/v1/audit?action=template.apply")).json()
    assert applied["total"] == 1 and applied["items"][0]["username"] == "op"


async def test_a_bad_tenant_form_keeps_the_input_and_creates_nothing(jimu_platform):
    operator = await _operator(jimu_platform)
    before = await _tenant_count(jimu_platform)
    bad = await operator.post("/operator/tenants/new", data=_new_tenant(
        name="", admin_username="x", admin_password_confirm="other-password",
        plugins=["no-such-plugin"], slug="acme-two"))
    assert bad.status_code == 422
    for field in ("name", "admin_username", "admin_password_confirm", "plugins"):
        assert f'id="e-{field}"' in bad.text, field
    assert 'value="acme-two"' in bad.text and 'value="x"' in bad.text
    assert "boss-password" not in bad.text  # passwords are never sent back
    bad_code = await operator.post("/operator/tenants/new", data=_new_tenant(slug="Not A Code"))
    assert bad_code.status_code == 422 and 'id="e-slug"' in bad_code.text
    assert 'value="Not A Code"' in bad_code.text
    bad_zone = await operator.post("/operator/tenants/new",
                                   data=_new_tenant(timezone="Mars/Olympus"))
    assert bad_zone.status_code == 422 and 'id="e-timezone"' in bad_zone.text
    bad_template = await operator.post("/operator/tenants/new",
                                       data=_new_tenant(template="no-such-template"))
    assert bad_template.status_code == 422 and 'id="e-template"' in bad_template.text
    assert await _tenant_count(jimu_platform) == before
    async with jimu_platform.kernel.tenant_scope(None):
        assert not await User.exists().where(User.username == "acme-boss")


async def test_a_taken_tenant_code_is_refused_next_to_the_field(jimu_platform):
    existing = await jimu_platform.make_tenant("acme-retail")
    operator = await _operator(jimu_platform)
    before = await _tenant_count(jimu_platform)
    taken = await operator.post("/operator/tenants/new", data=_new_tenant(slug=existing.slug))
    assert taken.status_code == 409
    assert 'id="e-slug"' in taken.text and 'value="Acme 零售"' in taken.text
    taken_name = await operator.post("/operator/tenants/new", data=_new_tenant(
        slug="acme-other", admin_username=existing.admin_username))
    assert taken_name.status_code == 409 and 'id="e-admin_username"' in taken_name.text
    assert await _tenant_count(jimu_platform) == before


async def test_suspending_locks_the_tenant_out_and_resuming_lets_it_back(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    operator = await _operator(jimu_platform)
    assert (await admin.get("/admin/")).status_code == 200
    detail = await operator.get(f"/operator/tenants/{tenant.id}")
    assert f'action="/operator/tenants/{tenant.id}/suspend" data-confirm=' in detail.text

    suspended = await operator.post(f"/operator/tenants/{tenant.id}/suspend")
    assert suspended.status_code == 303
    after = await operator.get(suspended.headers["location"])
    assert 'data-status="suspended"' in after.text
    assert f'action="/operator/tenants/{tenant.id}/resume"' in after.text
    locked = await admin.get("/admin/")
    assert locked.status_code == 403 and "<html" in locked.text

    resumed = await operator.post(f"/operator/tenants/{tenant.id}/resume")
    assert resumed.status_code == 303
    assert (await admin.get("/admin/")).status_code == 200
    assert 'data-status="active"' in (await operator.get(f"/operator/tenants/{tenant.id}")).text
    actions = [e["action"] for e in (await admin.get("/api/v1/audit")).json()["items"]]
    assert actions[:2] == ["tenant.resume", "tenant.suspend"]


async def test_tenant_users_cannot_reach_the_operator_console(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    for path in ("/operator/tenants", "/operator/tenants/new", f"/operator/tenants/{tenant.id}"):
        answer = await admin.get(path)
        assert answer.status_code in (403, 404) and "<html" in answer.text, path
        assert "Traceback" not in answer.text
    refused = await admin.post(f"/operator/tenants/{tenant.id}/suspend")
    assert refused.status_code in (403, 404)
    created = await admin.post("/operator/tenants/new", data=_new_tenant())
    assert created.status_code in (403, 404)
    assert (await admin.get("/admin/")).status_code == 200  # still active
    anonymous = jimu_platform.client()
    away = await anonymous.get("/operator/tenants")
    assert away.status_code == 303 and away.headers["location"].startswith("/login")
    operator = await _operator(jimu_platform)
    assert (await operator.get("/admin/audit")).status_code == 403
    assert (await operator.get("/operator/tenants/2000000000")).status_code == 404
