"""Hypothesis profiles: ``ci`` (default) is small and derandomized, so CI
runs the same examples every time in well under two minutes; ``long``
explores with random seeds, by hand: HYPOTHESIS_PROFILE=long."""

import os

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings

_COMMON = dict(deadline=None, database=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large,
    HealthCheck.function_scoped_fixture])
settings.register_profile('ci', max_examples=12, derandomize=True,
                          **_COMMON)
settings.register_profile('long', max_examples=300, **_COMMON)
# The ci examples without shrinking: the first failure, fast.
settings.register_profile('noshrink', max_examples=12, derandomize=True,
                          phases=[Phase.generate], **_COMMON)
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
