"""Load quotations with a stand-in for price lists (and a stock guard for refusal tests),
not every installed plugin: prices here are exact and known."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import stand_in_price_lists
import stock_guard
from jimu_quotations import catalog
from jimu_quotations import plugin as quotations_plugin


@pytest.fixture
def jimu_plugins():
    return [stand_in_price_lists, quotations_plugin, stock_guard]


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture(autouse=True)
def stand_in_catalog(monkeypatch):
    monkeypatch.setattr(catalog, "items_by_sku", stand_in_price_lists.items_by_sku)
    monkeypatch.setattr(catalog, "search_items", stand_in_price_lists.search_items)
    stand_in_price_lists.CALLS["price"] = 0
