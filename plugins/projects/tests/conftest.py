"""Load only the plugins this one needs, plus a stand-in for regional pricing's labour rate."""

import projects_labour_stub as labour_rates
import pytest
from jimu_parts import plugin as parts
from jimu_price_lists import plugin as price_lists
from jimu_projects import plugin


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [price_lists, parts, plugin, labour_rates]
