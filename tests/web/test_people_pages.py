"""Users, roles and API token pages: lists with search, filters, sorting and export; forms that
keep the input and show each error next to its field; secrets shown once; staff kept out."""

from __future__ import annotations

import csv
import html
import io
import re

from openpyxl import load_workbook

PASSWORD = "correct-horse-battery"


def _usernames(text: str) -> list[str]:
    return re.findall(r'href="/admin/users/\d+">([^<]+)<', text)


def _user_id(response) -> int:
    return int(response.headers["location"].rsplit("/", 1)[1])


async def _make_users(platform, tenant, *names: str, role: str = "staff") -> None:
    for name in names:
        await platform.make_user(tenant, name, role=role)


async def test_user_list_searches_filters_sorts_pages_and_exports(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    prefix = tenant.slug
    await _make_users(jimu_platform, tenant, *[f"{prefix}-u{i:02d}" for i in range(22)])
    partner = (await admin.post("/api/v1/partners", json={"code": "N", "name": "华北经销商"})
               ).json()
    await jimu_platform.make_user(tenant, f"{prefix}-dealer", role="partner",
                                  partner_id=partner["id"])
    page = await admin.get("/admin/users?sort=username&per_page=20")
    assert page.status_code == 200
    names = _usernames(page.text)
    assert names == sorted(names) and len(names) == 20 and 'rel="next"' in page.text
    assert "员工/客服" in page.text  # the role's title in the user's language
    desc = await admin.get("/admin/users?sort=-username&per_page=20")
    assert _usernames(desc.text)[0] == f"{prefix}-u21"
    found = await admin.get(f"/admin/users?q={prefix}-u1")
    assert set(_usernames(found.text)) == {f"{prefix}-u1{i}" for i in range(10)}
    dealers = await admin.get("/admin/users?role=partner")
    assert _usernames(dealers.text) == [f"{prefix}-dealer"]
    assert "华北经销商 (N)" in dealers.text  # the partner a partner user is bound to
    await admin.patch(f"/api/v1/users/{await _id_of(admin, f'{prefix}-u05')}",
                      json={"is_active": False})
    inactive = await admin.get("/admin/users?status=inactive")
    assert _usernames(inactive.text) == [f"{prefix}-u05"]
    active = await admin.get("/admin/users?status=active&per_page=200")
    assert f"{prefix}-u05" not in _usernames(active.text) and len(_usernames(active.text)) == 23
    odd = await admin.get("/admin/users?sort=password_hash&page=-1&status=maybe")
    assert odd.status_code == 200 and "password_hash" not in odd.text
    export = await admin.get("/admin/users?export=csv&role=partner")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == f"{prefix}-dealer" and rows[1][4] == "华北经销商 (N)"
    book = load_workbook(io.BytesIO((await admin.get("/admin/users?export=xlsx")).content))
    assert book.active.max_row == 1 + 24  # header, the admin, 22 staff and the dealer


async def _id_of(client, username: str) -> int:
    items = (await client.get(f"/api/v1/users?q={username}")).json()["items"]
    return next(u["id"] for u in items if u["username"] == username)


async def test_user_form_keeps_input_and_saves_nothing_on_errors(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    before = (await admin.get("/api/v1/users")).json()["total"]
    bad = await admin.post("/admin/users/new", data={
        "username": "x", "display_name": "王小明", "email": "not-an-email", "role": "staff",
        "password": "secret-typed-in"})
    assert bad.status_code == 422
    assert 'id="e-username"' in bad.text and 'id="e-email"' in bad.text
    assert 'value="王小明"' in bad.text and 'value="not-an-email"' in bad.text  # input kept
    assert "secret-typed-in" not in bad.text  # a password is never echoed back
    missing = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-new", "role": "staff", "password": ""})
    assert missing.status_code == 422 and 'id="e-password"' in missing.text
    short = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-new", "role": "staff", "password": "short"})
    assert short.status_code == 422 and 'id="e-password"' in short.text
    no_role = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-new", "role": "nobody", "password": PASSWORD})
    assert no_role.status_code == 422 and 'id="e-role"' in no_role.text
    taken = await admin.post("/admin/users/new", data={
        "username": tenant.admin_username, "role": "staff", "password": PASSWORD})
    assert taken.status_code == 409 and 'id="e-username"' in taken.text
    assert (await admin.get("/api/v1/users")).json()["total"] == before  # nothing half-saved


async def test_partner_user_must_be_bound_to_a_partner(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    form = await admin.get("/admin/users/new")
    assert form.status_code == 200 and 'name="partner_id"' in form.text
    unbound = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-dealer", "display_name": "经销商用户", "role": "partner",
        "partner_id": "", "password": PASSWORD})
    assert unbound.status_code == 422 and 'id="e-partner_id"' in unbound.text
    assert 'value="经销商用户"' in unbound.text
    assert re.search(r'<option value="partner"\s+selected', unbound.text)  # the choice kept
    partner = (await admin.post("/api/v1/partners", json={"code": "S", "name": "华南经销商"})
               ).json()
    made = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-dealer", "role": "partner",
        "partner_id": str(partner["id"]), "password": PASSWORD})
    assert made.status_code == 303
    user = (await admin.get(f"/api/v1/users/{_user_id(made)}")).json()
    assert user["role"] == "partner" and user["partner_id"] == partner["id"]
    detail = await admin.get(made.headers["location"])
    assert "华南经销商 (S)" in detail.text
    dealer = await jimu_platform.login(f"{tenant.slug}-dealer")
    assert (await dealer.get("/admin/users")).status_code == 403


async def test_one_time_password_is_shown_once_and_signs_in(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    username = f"{tenant.slug}-invited"
    answer = await admin.post("/admin/users/new", data={
        "username": username, "display_name": "新同事", "role": "staff", "password": "",
        "generate_password": "1"})
    assert answer.status_code == 201 and "location" not in answer.headers
    assert "no-store" in answer.headers["cache-control"]
    password = html.unescape(re.search(r'id="one-time-password" value="([^"]+)"',
                                       answer.text)[1])
    assert len(password) >= 16
    assert "jimu_flash" not in answer.headers.get("set-cookie", "")
    user_id = await _id_of(admin, username)
    assert password not in (await admin.get(f"/admin/users/{user_id}")).text
    assert password not in (await admin.get("/admin/users")).text
    invited = await jimu_platform.login(username, password)
    me = (await invited.get("/api/v1/auth/me")).json()
    assert me["username"] == username and me["role"] == "staff"
    other = await admin.post("/admin/users/new", data={
        "username": f"{tenant.slug}-invited2", "role": "staff", "generate_password": "1"})
    assert password not in other.text  # a new one each time


async def test_edit_role_reset_password_and_refuse_to_deactivate_yourself(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    username = f"{tenant.slug}-clerk"
    user_id = await jimu_platform.make_user(tenant, username, role="staff")
    detail = await admin.get(f"/admin/users/{user_id}")
    assert detail.status_code == 200 and 'data-confirm="' in detail.text
    changed = await admin.post(f"/admin/users/{user_id}", data={
        "display_name": "主管", "email": "boss@example.com", "role": "admin",
        "partner_id": "", "is_active": "1", "password": ""})
    assert changed.status_code == 303
    row = (await admin.get(f"/api/v1/users/{user_id}")).json()
    assert row["role"] == "admin" and row["display_name"] == "主管" and row["is_active"]
    await jimu_platform.login(username)  # a blank password field kept the old one
    bad = await admin.post(f"/admin/users/{user_id}", data={
        "display_name": "改了", "email": "nope", "role": "staff", "is_active": "1"})
    assert bad.status_code == 422 and 'id="e-email"' in bad.text and 'value="改了"' in bad.text
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["display_name"] == "主管"
    reset = await admin.post(f"/admin/users/{user_id}", data={
        "display_name": "主管", "role": "admin", "is_active": "1",
        "password": "a-brand-new-password"})
    assert reset.status_code == 303
    await jimu_platform.login(username, "a-brand-new-password")
    admin_id = await _id_of(admin, tenant.admin_username)
    refused = await admin.post(f"/admin/users/{admin_id}/deactivate")
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert "deactivate yourself" in refused.text or "停用自己" in refused.text
    assert f'action="/admin/users/{admin_id}/deactivate"' not in refused.text  # no button
    unticked = await admin.post(f"/admin/users/{admin_id}", data={
        "display_name": "x", "role": "admin"})
    assert unticked.status_code == 409 and 'id="e-is_active"' in unticked.text
    assert (await admin.get(f"/api/v1/users/{admin_id}")).json()["is_active"]
    gone = await admin.post(f"/admin/users/{user_id}/deactivate")
    assert gone.status_code == 303
    assert not (await admin.get(f"/api/v1/users/{user_id}")).json()["is_active"]
    assert "Deactivate user" not in (await admin.get(f"/admin/users/{user_id}")).text


async def test_role_with_permissions_and_refused_delete_of_a_builtin_role(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    listing = await admin.get("/admin/roles")
    assert listing.status_code == 200 and "总部管理员" in listing.text
    form = await admin.get("/admin/roles/new")
    assert 'value="customers.read"' in form.text and "查看客户" in form.text  # titles in zh
    bad = await admin.post("/admin/roles/new", data={
        "name": "Bad Name", "title_zh": "", "title_en": "Service",
        "permissions": ["customers.read", "partners.read"]})
    assert bad.status_code == 422
    assert 'id="e-name"' in bad.text and 'id="e-title_zh"' in bad.text
    assert re.search(r'value="partners.read"\s+checked', bad.text)  # the ticks are kept
    unknown = await admin.post("/admin/roles/new", data={
        "name": "service", "title_zh": "客服主管", "title_en": "Service lead",
        "permissions": ["customers.read", "made.up"]})
    assert unknown.status_code == 422 and 'id="e-permissions"' in unknown.text
    made = await admin.post("/admin/roles/new", data={
        "name": "service", "title_zh": "客服主管", "title_en": "Service lead",
        "permissions": ["customers.read", "customers.write"]})
    assert made.status_code == 303
    role_id = _user_id(made)
    roles = {r["name"]: r for r in (await admin.get("/api/v1/roles")).json()}
    assert roles["service"]["permissions"] == ["customers.read", "customers.write"]
    assert roles["service"]["title"] == {"zh-CN": "客服主管", "en": "Service lead"}
    changed = await admin.post(f"/admin/roles/{role_id}", data={
        "title_zh": "客服主管", "title_en": "Service lead", "permissions": ["partners.read"]})
    assert changed.status_code == 303
    roles = {r["name"]: r for r in (await admin.get("/api/v1/roles")).json()}
    assert roles["service"]["permissions"] == ["partners.read"]
    assert "客服主管" in (await admin.get("/admin/roles?q=service")).text
    staff_id = roles["staff"]["id"]
    refused = await admin.post(f"/admin/roles/{staff_id}/delete")
    assert refused.status_code == 409 and "staff" in refused.text
    assert "staff" in {r["name"] for r in (await admin.get("/api/v1/roles")).json()}
    edited = await admin.post(f"/admin/roles/{staff_id}", data={
        "title_zh": "员工/客服", "title_en": "Staff",
        "permissions": ["customers.read", "regions.read"]})
    assert edited.status_code == 303  # a built-in role's permissions can change
    deleted = await admin.post(f"/admin/roles/{role_id}/delete")
    assert deleted.status_code == 303
    assert (await admin.get(f"/admin/roles/{role_id}")).status_code == 404


async def test_api_token_secret_shown_once_works_and_revokes(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    page = await admin.get("/admin/tokens")
    assert page.status_code == 200 and 'value="users.read"' in page.text
    empty = await admin.post("/admin/tokens", data={"name": "ERP", "expires_in_days": "x"})
    assert empty.status_code == 422 and 'value="ERP"' in empty.text
    assert 'id="e-expires_in_days"' in empty.text
    no_scope = await admin.post("/admin/tokens", data={"name": "ERP"})
    assert no_scope.status_code == 422 and 'id="e-scopes"' in no_scope.text
    created = await admin.post("/admin/tokens", data={
        "name": "仓库 ERP 对接", "scopes": ["customers.read"], "expires_in_days": "30"})
    assert created.status_code == 201 and "location" not in created.headers
    assert "no-store" in created.headers["cache-control"]
    secret = re.search(r'id="token-secret" value="([^"]+)"', created.text)[1]
    assert secret.startswith("jimu_")
    listing = await admin.get("/admin/tokens")
    assert "仓库 ERP 对接" in listing.text and secret[:12] in listing.text
    assert secret not in listing.text
    program = jimu_platform.token_client(secret)
    me = await program.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["permissions"] == ["customers.read"]
    export = (await admin.get("/admin/tokens?export=csv")).content.decode("utf-8-sig")
    assert "仓库 ERP 对接" in export and secret not in export
    token_id = (await admin.get("/api/v1/tokens")).json()[0]["id"]
    part = await admin.get("/admin/tokens?q=ERP", headers={
        "HX-Request": "true", "HX-Target": "list-results"})
    assert part.text.lstrip().startswith('<div id="list-results"') and "<html" not in part.text
    assert f'action="/admin/tokens/{token_id}/revoke"' in part.text and "data-confirm" in part.text
    revoked = await admin.post(f"/admin/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert (await program.get("/api/v1/auth/me")).status_code == 401
    after = await admin.get("/admin/tokens?status=revoked")
    assert "仓库 ERP 对接" in after.text and f"/admin/tokens/{token_id}/revoke" not in after.text
    assert "仓库 ERP 对接" not in (await admin.get("/admin/tokens?status=active")).text


async def test_token_cannot_hold_permissions_the_creator_lacks(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await admin.post("/api/v1/roles", json={
        "name": "integrator", "title_zh": "集成", "title_en": "Integrator",
        "permissions": ["tokens.write", "customers.read"]})
    await jimu_platform.make_user(tenant, f"{tenant.slug}-int", role="integrator")
    integrator = await jimu_platform.login(f"{tenant.slug}-int")
    page = await integrator.get("/admin/tokens")
    assert 'value="customers.read"' in page.text and 'value="users.write"' not in page.text
    beyond = await integrator.post("/admin/tokens", data={
        "name": "sneaky", "scopes": ["customers.read", "users.write"]})
    assert beyond.status_code == 422 and 'id="e-scopes"' in beyond.text
    assert (await admin.get("/api/v1/tokens")).json() == []


async def test_staff_sees_no_user_role_or_token_pages(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    await jimu_platform.make_user(tenant, f"{tenant.slug}-staff", role="staff")
    staff = await jimu_platform.login(f"{tenant.slug}-staff")
    home = await staff.get("/admin/")
    assert 'href="/admin/users"' not in home.text and 'href="/admin/tokens"' not in home.text
    for path in ("/admin/users", "/admin/users/new", "/admin/roles", "/admin/roles/new",
                 "/admin/tokens", "/admin/users?export=csv"):
        assert (await staff.get(path)).status_code in (403, 404), path
    for path, data in (("/admin/users/new", {"username": "x1", "password": PASSWORD}),
                       ("/admin/roles/new", {"name": "x", "title_zh": "x", "title_en": "x"}),
                       ("/admin/tokens", {"name": "x", "scopes": ["customers.read"]})):
        assert (await staff.post(path, data=data)).status_code in (403, 404), path


async def test_users_write_alone_cannot_make_an_administrator(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    role = await admin.post("/api/v1/roles", json={
        "name": "hr", "title_zh": "人事", "title_en": "HR",
        "permissions": ["users.read", "users.write"]})
    assert role.status_code == 201, role.text
    await jimu_platform.make_user(tenant, "hr-1", role="hr")
    hr = await jimu_platform.login("hr-1")
    refused = await hr.post("/api/v1/users", json={"username": "boss-2", "password":
                                                   "long-enough-1", "role": "admin"})
    assert refused.status_code == 422 and refused.json()["field"] == "role"
    staff = await hr.post("/api/v1/users", json={"username": "clerk-2", "password":
                                                 "long-enough-1", "role": "hr"})
    assert staff.status_code == 201  # a role within its own permissions is fine
    promote = await hr.patch(f"/api/v1/users/{staff.json()['id']}", json={"role": "admin"})
    assert promote.status_code == 422
    me = (await admin.get("/api/v1/auth/me")).json()
    demote = await admin.patch(f"/api/v1/users/{me['user_id']}", json={"role": "staff"})
    assert demote.status_code == 409 and demote.json()["field"] == "role"
    page = await hr.post("/admin/users/new", data={
        "username": "boss-3", "display_name": "", "role": "admin", "password": "long-enough-1"})
    assert page.status_code == 422 and 'id="e-role"' in page.text
    assert (await admin.get("/api/v1/users?q=boss")).json()["total"] == 0
