"""Load only this plugin (and a test-only base-price plugin): the other pricing plugins are
built separately and are not needed here."""

import pytest
import tier_test_prices
from jimu_price_tiers import plugin


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [plugin, tier_test_prices]
