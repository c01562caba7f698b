"""Only this plugin: the node types run on core's workflow runtime alone."""

import pytest
from jimu_flow_nodes import plugin


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture
def jimu_plugins():
    return [plugin]
