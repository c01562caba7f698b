"""Load the sla plugin alone: the work_order.* events its clocks follow are emitted by the
tests themselves, with exactly the payload the work orders plugin publishes."""

import pytest
from jimu_sla import plugin as sla_plugin


@pytest.fixture
def jimu_plugins():
    return [sla_plugin]


@pytest.fixture
def jimu_load_installed():
    return False
