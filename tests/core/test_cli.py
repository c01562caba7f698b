"""The jimu command, end to end on a SQLite file (each command is its own process run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JIMU = [sys.executable, "-m", "jimu.cli"]


@pytest.fixture
def env(tmp_path: Path):
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            "JIMU_CATALOG": str(Path(__file__).resolve().parents[2] / "plugins.toml"),
            "COLUMNS": "200", "NO_COLOR": "1"}


def jimu(env, *args, input_text=None, ok=True):
    result = subprocess.run([*JIMU, *args], env=env, capture_output=True, text=True,
                            input=input_text, timeout=120)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_migrate_creates_and_reverts_everything(env):
    assert "migrated: jimu_core, followups" in jimu(env, "migrate").stdout
    assert "reverted" in jimu(env, "migrate", "--backwards", "--yes").stdout
    assert "migrated: jimu_core, followups" in jimu(env, "migrate").stdout


def test_tenant_user_and_plugin_commands(env):
    jimu(env, "migrate")
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


def test_demo_prints_logins_that_work_and_is_repeatable(env):
    jimu(env, "migrate")
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
