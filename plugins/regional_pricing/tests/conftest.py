"""Load regional pricing and a test-only item plugin, not the other (maybe half-built)
pricing plugins installed next to it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fake_items
from jimu_regional_pricing import plugin

SLUG = "regional_pricing"
PLUGINS = [SLUG, "fake_items"]


@pytest.fixture
def jimu_plugins():
    return [plugin, fake_items]


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
async def tenant(jimu_platform):
    return await jimu_platform.make_tenant(plugins=PLUGINS)


@pytest.fixture
async def admin(jimu_platform, tenant):
    return await jimu_platform.login(tenant.admin_username)
