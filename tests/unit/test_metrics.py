"""metrics.Metrics: observer events into the design's series (its own
registry; the served endpoint is tested in functional/test_metrics)."""

import math

from ceilometer_export import metrics
from ceilometer_export import rejects


class Clock(object):
    now = 100.0

    def __call__(self):
        return self.now


def _mapping(name, *meters):
    return type('M', (), {'name': name, 'meters': meters})()


def _value(m, name, **labels):
    return m.registry.get_sample_value(name, labels)


def test_configured_pairs_exist_at_zero_and_infinitely_stale():
    m = metrics.Metrics(clock=Clock())
    m.expect([_mapping('a', 'cpu', 'mem')])
    assert _value(m, 'ceilometer_export_samples_total', mapping='a',
                  meter='mem') == 0
    for reason in rejects.REASONS:
        assert _value(m, 'ceilometer_export_rejects_total', mapping='a',
                      meter='cpu', reason=reason) == 0
    assert _value(m, 'ceilometer_export_api_errors_total', mapping='a',
                  kind='auth') == 0
    assert _value(m, 'ceilometer_export_freshness_seconds', mapping='a',
                  meter='cpu') == math.inf


def test_events_count_under_their_pair_and_mapping():
    clock = Clock()
    m = metrics.Metrics(clock=clock, wall=lambda: 1700000000.0)
    m.expect([_mapping('a', 'cpu')])
    m.mapping_started('a')
    m.page_written('a', 'cpu', 5)
    m.page_written('a', 'cpu', 0)
    m.rejected('a', 'cpu', 'volume: not a number')
    m.api_error('http_5xx')
    m.pair_finished('a', 'cpu', True)
    m.mapping_finished('a', 2.5, True)
    m.pass_finished(1, 0, 5, 2.5)
    clock.now += 7
    assert _value(m, 'ceilometer_export_samples_total', mapping='a',
                  meter='cpu') == 5
    assert _value(m, 'ceilometer_export_rejects_total', mapping='a',
                  meter='cpu', reason='volume') == 1
    assert _value(m, 'ceilometer_export_api_errors_total', mapping='a',
                  kind='http_5xx') == 1
    assert _value(m, 'ceilometer_export_freshness_seconds', mapping='a',
                  meter='cpu') == 7
    assert _value(m, 'ceilometer_export_last_success_timestamp_seconds',
                  mapping='a', meter='cpu') == 1700000000.0
    assert _value(m, 'ceilometer_export_pass_duration_seconds_count',
                  mapping='a') == 1
    # After the pass, a verify run's errors go to the mapping it verifies.
    m.verifying('b')
    m.api_error('timeout')
    assert _value(m, 'ceilometer_export_api_errors_total', mapping='b',
                  kind='timeout') == 1


def test_an_incomplete_pass_leaves_freshness_and_a_reload_drops_pairs():
    m = metrics.Metrics(clock=Clock())
    m.expect([_mapping('a', 'cpu'), _mapping('b', 'mem')])
    m.pair_finished('a', 'cpu', False)
    assert _value(m, 'ceilometer_export_freshness_seconds', mapping='a',
                  meter='cpu') == math.inf
    m.expect([_mapping('b', 'mem')])
    assert _value(m, 'ceilometer_export_freshness_seconds', mapping='a',
                  meter='cpu') is None
    # A discovered meter appears with its first page.
    m.page_written('b', 'disk', 1)
    assert _value(m, 'ceilometer_export_freshness_seconds', mapping='b',
                  meter='disk') == math.inf
