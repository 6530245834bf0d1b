"""A Ceilometer v2 API + Keystone simulator for tests, demos and benchmarks.

    from ceilometer_export.simulator import Simulator, generate_samples
    with Simulator(seed=0) as sim:
        ...  # sim.keystone_url, sim.ceilometer_url, sim.add_samples(...)

The behaviour follows doc ceilometer-v2-api.md (Ceilometer 9.0.x with the
SQL driver, keystonemiddleware, WSME); see the module docstrings for the
details each part reproduces.
"""
from ceilometer_export.simulator.app import Simulator
from ceilometer_export.simulator.data import generate_samples
from ceilometer_export.simulator.faults import Faults

__all__ = ['Simulator', 'generate_samples', 'Faults']
