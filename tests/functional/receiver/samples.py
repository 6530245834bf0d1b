"""Samples as Ceilometer's agents make them, and what the database must
hold for them, computed independently of the receiver's code."""

import datetime
import math
import uuid

from ceilometer_export.simulator import model

_METERS = (('cpu', 'cumulative', 'ns'), ('memory.usage', 'gauge', 'MB'),
           ('network.incoming.bytes', 'cumulative', 'B'))
# Polled samples carry naive UTC, notification samples an offset.
_STAMPS = ('2026-12-01T10:00:00', '2026-12-01T10:00:00.123456',
           '2026-12-01T10:10:00+00:00', '2026-12-01T12:20:00.5+02:00')


def metadata(index):
    return {'flavor': {'name': 'm1.small' if index % 2 else 'm1.large',
                       'ram': 512 * (1 + index % 2), 'vcpus': 1},
            'status': 'active', 'tags': ['x', index], 'on': index % 3 == 0,
            'nothing': None, 'ratio': 0.25 * index,
            'display_name': 'vm-\u00e9-%d' % (index % 4),
            'properties': {'prop.3': {'$sub.2': 'v'}}}


def make(count, start=0):
    """Sample constructor kwargs (ceilometer.sample.Sample)."""
    made = []
    for index in range(start, start + count):
        name, type_, unit = _METERS[index % len(_METERS)]
        made.append({'name': name, 'type': type_, 'unit': unit,
                     'volume': index * 1.5 if index % 5 else index,
                     'user_id': None if index % 7 == 0 else 'u-%d' % (
                         index % 3),
                     'project_id': 'p-%d' % (index % 2),
                     'resource_id': 'r-%d' % (index % 4),
                     'timestamp': _STAMPS[index % len(_STAMPS)],
                     'resource_metadata': metadata(index),
                     'source': 'openstack', 'id': str(uuid.uuid1())})
    return made


def _naive_utc(text):
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return parsed.isoformat()


def _row(s):
    return {'message_id': s['id'], 'counter_name': s['name'],
            'counter_type': s['type'], 'counter_unit': s['unit'],
            'counter_volume': float(s['volume']), 'user_id': s['user_id'],
            'project_id': s['project_id'], 'resource_id': s['resource_id'],
            'source': s['source'], 'timestamp': _naive_utc(s['timestamp']),
            # The simulator's rendering of the v2 API: an independent
            # copy of ceilometer's flatten_metadata.
            'resource_metadata': model.flatten_metadata(
                s['resource_metadata'])}


def expected(published):
    """{message_id: row in harness.exported form} without recorded_at."""
    return {s['id']: _row(s) for s in published
            if not (isinstance(s['volume'], float)
                    and math.isnan(s['volume']))}
