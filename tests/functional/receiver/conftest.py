import pytest

from tests.functional.receiver import harness


@pytest.fixture(scope='session')
def ceilometer_27():
    """Python of a virtualenv with ceilometer 27.0.0 from PyPI (cached)."""
    return harness.publisher_python('ceilometer-27.0.0')


@pytest.fixture(scope='session')
def ceilometer_9():
    """Python of the patched ceilometer 9.0.7 virtualenv (cached)."""
    return harness.publisher_python('ceilometer-9.0.7')
