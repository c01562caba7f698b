"""Load only this plugin (other pricing plugins are built in parallel and may be half-done)."""

import pytest
from jimu_price_lists import plugin


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [plugin]
