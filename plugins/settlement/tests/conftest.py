"""Settlement against the real plugins it books from: price lists and regional pricing price the
work orders, the parts library records the parts used, work orders run the repair flow."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    from jimu_flow_nodes import plugin as flow_nodes
    from jimu_parts import plugin as parts
    from jimu_price_lists import plugin as price_lists
    from jimu_regional_pricing import plugin as regional_pricing
    from jimu_settlement import plugin as settlement
    from jimu_work_orders import plugin as work_orders

    return [price_lists, regional_pricing, parts, flow_nodes, work_orders, settlement]


@pytest.fixture(autouse=True)
def attachment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("JIMU_WORK_ORDERS_DIR", str(tmp_path / "attachments"))
    monkeypatch.delenv("JIMU_WORK_ORDERS_STORAGE", raising=False)
