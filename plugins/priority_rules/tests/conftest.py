"""Only this plugin, work orders (its dependency) and the basic flow nodes."""

import pytest
from jimu_flow_nodes import plugin as flow_nodes
from jimu_priority_rules import plugin
from jimu_work_orders import plugin as work_orders


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [flow_nodes, work_orders, plugin]
