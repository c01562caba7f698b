"""Load work orders with the basic flow nodes only (other plugins are built in parallel), and
keep attachments in the test's own folder."""

import sys
from pathlib import Path

import pytest
from jimu_flow_nodes import plugin as flow_nodes
from jimu_work_orders import plugin

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [flow_nodes, plugin]


@pytest.fixture(autouse=True)
def attachment_folder(tmp_path, monkeypatch):
    folder = tmp_path / "attachments"
    monkeypatch.setenv("JIMU_WORK_ORDERS_DIR", str(folder))
    monkeypatch.delenv("JIMU_WORK_ORDERS_STORAGE", raising=False)
    return folder
