"""The jimu command, end to end on a SQLite file (each command is its own process run)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JIMU = [sys.executable, "-m", "jimu.cli"]


def env_for(database: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
            "JIMU_CATALOG": str(Path(__file__).resolve().parents[2] / "plugins.toml"),
            "COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture
def env(tmp_path: Path):
    return env_for(tmp_path / "cli.sqlite3")


def database_of(env) -> Path:
    return Path(env["DATABASE_URL"].removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file `jimu migrate` made once for the module (each run is seconds of process
    start and migrations); tests that only need a migrated database start from a copy."""
    env = env_for(tmp_path_factory.mktemp("cli-migrated") / "cli.sqlite3")
    jimu(env, "migrate")
    return database_of(env)


@pytest.fixture
def migrated(env, migrated_file: Path):
    shutil.copyfile(migrated_file, database_of(env))
    return env


def jimu(env, *args, input_text=None, ok=True):
    result = subprocess.run([*JIMU, *args], env=env, capture_output=True, text=True,
                            input=input_text, timeout=120)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def migrated_apps(output: str) -> list[str]:
    line = next(text for text in output.splitlines() if text.startswith("migrated: "))
    return line.removeprefix("migrated: ").split(", ")


def test_migrate_creates_and_reverts_everything(env):
    installed = {"jimu_core", "followups", "price_lists", "regional_pricing", "price_tiers",
                 "price_factors", "parts", "projects", "quotations", "work_orders", "sla",
                 "priority_rules", "settlement"}
    first = migrated_apps(jimu(env, "migrate").stdout)
    assert first[0] == "jimu_core" and set(first) == installed
    assert "reverted" in jimu(env, "migrate", "--backwards", "--yes").stdout
    assert set(migrated_apps(jimu(env, "migrate").stdout)) == installed


def test_tenant_user_and_plugin_commands(migrated):
    env = migrated
    created = jimu(env, "tenant", "create", "acme", "--name", "Acme 经销", "--admin",
                   "acme-admin", "--password", "secret-pass-1")
    assert "created tenant acme" in created.stdout
    assert "acme" in jimu(env, "tenant", "list").stdout
    jimu(env, "user", "create", "zhou", "--tenant", "acme", "--role", "staff",
         "--password", "secret-pass-2")
    duplicate = jimu(env, "user", "create", "zhou", "--tenant", "acme", "--password",
                     "secret-pass-2", ok=False)
    assert duplicate.returncode == 2 and "taken" in duplicate.stdout
    assert "enabled: followups" in jimu(env, "plugins", "enable", "followups",
                                        "--tenant", "acme").stdout
    listing = jimu(env, "plugins", "list", "--tenant", "acme").stdout
    assert "followups" in listing and " on" in listing
    assert "disabled" in jimu(env, "plugins", "disable", "followups", "--tenant", "acme").stdout
    unknown = jimu(env, "plugins", "enable", "nope", "--tenant", "acme", ok=False)
    assert unknown.returncode == 2 and "no plugin named 'nope'" in unknown.stdout
    missing = jimu(env, "plugins", "list", "--tenant", "ghost", ok=False)
    assert "no tenant with code 'ghost'" in missing.stdout


def test_demo_prints_logins_that_work_and_is_repeatable(migrated):
    env = migrated
    first = jimu(env, "demo", "--password", "demo-pass-123").stdout
    assert "demo-admin" in first and "demo-pass-123" in first
    again = jimu(env, "demo", "--password", "demo-pass-456").stdout
    assert "demo-pass-456" in again
    check = subprocess.run([sys.executable, "-c", """
import asyncio
from jimu.kernel import Kernel
from jimu.services.auth import login
async def main():
    kernel = Kernel(); kernel.load_plugins(); kernel.db.activate()
    async with kernel.tenant_scope(None):
        token, user = await login(kernel, "demo-admin", "demo-pass-456")
    print(user["tenant_id"])
asyncio.run(main())
"""], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout.strip()) == 1


def db_rows(env, sql, *params):
    """Read the CLI's SQLite file directly: what the commands really wrote."""
    import sqlite3

    with sqlite3.connect(database_of(env)) as connection:
        return connection.execute(sql, params).fetchall()


def tenant_state(env, code):
    (tenant_id, status, template, version), = db_rows(
        env, "SELECT id, status, template, config_version FROM core_tenant WHERE slug = ?", code)
    plugins = {plugin: (bool(enabled), json.loads(settings)) for plugin, enabled, settings in
               db_rows(env, "SELECT plugin, enabled, settings FROM core_plugin_config "
                            "WHERE tenant_id = ?", tenant_id)}
    audits = db_rows(env, "SELECT count(*) FROM core_audit WHERE tenant_id = ?", tenant_id)[0][0]
    return {"status": status, "template": template, "version": version, "plugins": plugins,
            "audits": audits}


@pytest.fixture(scope="module")
def acme_file(migrated_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated file with tenant acme created by `jimu tenant create`, made once."""
    database = tmp_path_factory.mktemp("cli-acme") / "cli.sqlite3"
    shutil.copyfile(migrated_file, database)
    jimu(env_for(database), "tenant", "create", "acme", "--name", "Acme", "--admin",
         "acme-admin", "--password", "secret-pass-1")
    return database


@pytest.fixture
def acme(env, acme_file: Path):
    shutil.copyfile(acme_file, database_of(env))
    return env


def test_templates_lists_every_catalog_template_with_titles_and_plugins(env):
    listing = jimu(env, "tenant", "templates").stdout
    for key, title in [("retail_distribution", "零售/快消分销 / Retail & FMCG distribution"),
                       ("catering_chain", "餐饮连锁 / Catering chain"),
                       ("auto_4s", "汽车4S店 / Auto 4S dealership")]:
        line = next(line for line in listing.splitlines() if f" {key} " in line)
        assert title in line and "followups" in line


def test_apply_template_enables_configures_and_records_then_changes_nothing(acme):
    env = acme
    assert tenant_state(env, "acme")["plugins"].get("followups", (False, {}))[0] is False

    plan = jimu(env, "tenant", "apply-template", "acme", "catering_chain", "--dry-run").stdout
    assert "enable" in plan and "reminder_hour 9 → 14" in plan and "recent_days 30 → 14" in plan
    # eleven plugins to switch on, two to configure (followups, work_orders)
    assert "13 change(s) would be made" in plan
    untouched = tenant_state(env, "acme")
    assert untouched["template"] == "" and "followups" not in untouched["plugins"]

    applied = jimu(env, "tenant", "apply-template", "acme", "catering_chain").stdout
    assert "enabled followups" in applied
    assert "configured followups: recent_days 30 → 14, reminder_hour 9 → 14" in applied
    assert "applied template catering_chain to tenant acme: 13 change(s)" in applied
    after = tenant_state(env, "acme")
    enabled, settings = after["plugins"]["followups"]
    assert enabled and settings["reminder_hour"] == 14 and settings["recent_days"] == 14
    assert after["template"] == "catering_chain"
    listing = jimu(env, "plugins", "list", "--tenant", "acme").stdout
    assert next(line for line in listing.splitlines() if " followups " in line).rstrip(
        " │").endswith(" on")

    again = jimu(env, "tenant", "apply-template", "acme", "catering_chain").stdout
    assert "template catering_chain already applied; nothing changed" in again
    assert "enabled" not in again and "configured" not in again
    assert tenant_state(env, "acme") == after  # no write, no version bump, no audit entry
    assert "already applied; nothing would change" in jimu(
        env, "tenant", "apply-template", "acme", "catering_chain", "--dry-run").stdout

    switched = jimu(env, "tenant", "apply-template", "acme", "auto_4s").stdout
    # auto_4s adds the parts and project libraries to what catering_chain switched on.
    assert [line for line in switched.splitlines() if line.startswith("enabled ")] == [
        "enabled parts", "enabled projects"]
    assert "configured followups: recent_days 14 → 90, reminder_hour 14 → 9" in switched
    final = tenant_state(env, "acme")
    assert final["template"] == "auto_4s"
    assert final["plugins"]["followups"] == (True, {**settings, "reminder_hour": 9,
                                                    "recent_days": 90})


def test_apply_template_errors_exit_2_and_change_nothing(acme, tmp_path):
    env = acme
    before = tenant_state(env, "acme")
    ghost = jimu(env, "tenant", "apply-template", "ghost", "auto_4s", ok=False)
    assert ghost.returncode == 2 and "no tenant with code 'ghost'" in ghost.stdout
    unknown = jimu(env, "tenant", "apply-template", "acme", "nope", ok=False)
    assert unknown.returncode == 2 and "no industry template named 'nope'" in unknown.stdout

    catalog = tmp_path / "plugins.toml"
    catalog.write_text('[templates.half_there]\ntitle = { "zh-CN" = "半成品", en = "Half" }\n'
                       'plugins = ["followups", "not_installed"]\n', encoding="utf-8")
    env = {**env, "JIMU_CATALOG": str(catalog)}
    assert "not_installed (not installed)" in jimu(env, "tenant", "templates").stdout
    for extra in ([], ["--dry-run"]):
        missing = jimu(env, "tenant", "apply-template", "acme", "half_there", *extra, ok=False)
        assert missing.returncode == 2, missing.stdout
        assert "not installed: not_installed" in missing.stdout
    assert tenant_state(env, "acme") == before  # followups was not enabled either


def test_suspend_and_resume_a_tenant(acme):
    env = acme
    assert "suspended tenant acme" in jimu(env, "tenant", "suspend", "acme").stdout
    suspended = tenant_state(env, "acme")
    assert suspended["status"] == "suspended"
    assert "already suspended" in jimu(env, "tenant", "suspend", "acme").stdout
    assert tenant_state(env, "acme") == suspended
    assert "resumed tenant acme" in jimu(env, "tenant", "resume", "acme").stdout
    assert tenant_state(env, "acme")["status"] == "active"
    ghost = jimu(env, "tenant", "suspend", "ghost", ok=False)
    assert ghost.returncode == 2 and "no tenant with code 'ghost'" in ghost.stdout
