"""Simulator fixtures. State-changing tests build their own Simulator."""
import pytest

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients


@pytest.fixture(scope='module')
def sim():
    with Simulator(seed=0) as simulator:
        yield simulator


@pytest.fixture(scope='module')
def cc(sim):
    return clients.admin(sim)


@pytest.fixture(scope='module')
def demo_cc(sim):
    return clients.demo(sim)
