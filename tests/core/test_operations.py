"""Probes, request ids and structured logs."""

import json
import logging

from jimu.logs import JsonFormatter


async def test_health_and_ready_answer_without_signing_in(jimu_platform):
    client = jimu_platform.client()
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "broker": "ok",
                            "broken_plugins": []}


async def test_ready_says_which_dependency_is_down(jimu_platform, monkeypatch):
    def unreachable():
        raise ConnectionError("broker down")

    monkeypatch.setattr(jimu_platform.kernel.jobs, "ping", unreachable)
    ready = await jimu_platform.client().get("/ready")
    assert ready.status_code == 503
    assert ready.json()["broker"] == "unreachable: ConnectionError"


async def test_request_log_line_carries_request_id_tenant_and_user(jimu_platform, caplog):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    with caplog.at_level(logging.INFO, logger="jimu.http"):
        response = await admin.get("/api/v1/customers", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "req-42")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["tenant"] == tenant.id
    assert line["user"] == tenant.admin_username
    assert line["status"] == 200 and line["message"] == "GET /api/v1/customers 200"


async def test_errors_carry_the_request_id(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    missing = await admin.get("/api/v1/customers/424242", headers={"X-Request-ID": "r-7"})
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "customer 424242 not found",
                              "request_id": "r-7"}


def test_database_url_options_reach_asyncpg():
    from jimu.db.engine import engine_from_url

    engine = engine_from_url("postgres://jimu_app:s%40fe@db:6432/jimu"
                             "?statement_cache_size=0&ssl=require")
    assert engine.config == {"host": "db", "port": 6432, "user": "jimu_app", "password": "s@fe",
                             "database": "jimu", "statement_cache_size": 0, "ssl": "require"}


async def test_admin_page_requires_its_permission(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    staff_role = next(r for r in (await admin.get("/api/v1/roles")).json()
                      if r["name"] == "staff")
    await admin.patch(f"/api/v1/roles/{staff_role['id']}", json={"permissions": [
        "customers.read"]})
    await jimu_platform.make_user(tenant, "no-followups", role="staff")
    staff = await jimu_platform.login("no-followups")
    assert (await staff.get("/admin/p/followups/")).status_code == 403
    assert (await admin.get("/admin/p/followups/")).status_code == 200


async def test_unknown_timezone_is_refused_naming_the_field(jimu_platform):
    await jimu_platform.make_user(None, "ops")
    operator = await jimu_platform.login("ops")
    response = await operator.post("/api/v1/tenants", json={
        "slug": "tz-test", "name": "TZ", "admin_username": "tz-admin",
        "admin_password": "long-enough-1", "timezone": "Mars/Olympus"})
    assert response.status_code == 422 and response.json()["field"] == "timezone"


def test_a_unique_violation_is_told_apart_from_other_database_errors():
    import sqlite3

    import asyncpg
    from jimu.web.errors import _is_unique_violation

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (code TEXT UNIQUE, n INTEGER NOT NULL)")
    db.execute("INSERT INTO t VALUES ('Q-1', 1)")
    try:
        db.execute("INSERT INTO t VALUES ('Q-1', 2)")
    except sqlite3.IntegrityError as exc:
        duplicate = exc
    try:
        db.execute("INSERT INTO t VALUES ('Q-2', NULL)")
    except sqlite3.IntegrityError as exc:
        missing = exc
    assert _is_unique_violation(duplicate) and not _is_unique_violation(missing)
    assert _is_unique_violation(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not _is_unique_violation(asyncpg.exceptions.NotNullViolationError("null"))
