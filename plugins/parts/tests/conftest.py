"""Load only the plugins this one needs (the other pricing plugins are built in parallel)."""

import pytest
from jimu_parts import plugin
from jimu_price_lists import plugin as price_lists


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [price_lists, plugin]
