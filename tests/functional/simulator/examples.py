"""The recorded Ceilometer 9.0.7 responses in tests/fixtures/ceilometer-v2-examples
(a copy of the project's shared examples, kept in the repository so that
these tests always run; CEILOMETER_V2_EXAMPLES points elsewhere).

The store they came from held 10,000 samples; the union of the samples that
appear in the responses is enough to answer most of the recorded requests
exactly (a "newest/oldest N matching" answer only depends on samples that
are in it). Samples are inserted in ``recorded_at`` order, as they were.
"""
import json
import os

from oslo_utils import timeutils

from ceilometer_export.simulator import model

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DIRECTORY = os.environ.get('CEILOMETER_V2_EXAMPLES') or os.path.join(
    _ROOT, 'tests', 'fixtures', 'ceilometer-v2-examples')


def load(name):
    with open(os.path.join(DIRECTORY, name + '.json')) as stream:
        return json.load(stream)


def names():
    return sorted(f[:-5] for f in os.listdir(DIRECTORY)
                  if f.endswith('.json') and not f.endswith('.request.json'))


def _typed(value):
    return int(value) if value.isdigit() else value


def _raw(item):
    if 'counter_name' in item:
        get = item.get
        meta = item['resource_metadata']
        raw = {'message_id': get('message_id'),
               'counter_name': get('counter_name'),
               'counter_type': get('counter_type'),
               'counter_unit': get('counter_unit'),
               'counter_volume': get('counter_volume')}
    else:
        meta = item['metadata']
        raw = {'message_id': item['id'], 'counter_name': item['meter'],
               'counter_type': item['type'], 'counter_unit': item['unit'],
               'counter_volume': item['volume']}
    raw.update((k, item[k]) for k in ('user_id', 'project_id',
                                      'resource_id', 'source'))
    raw['timestamp'] = timeutils.parse_isotime(item['timestamp'])
    raw['recorded_at'] = timeutils.parse_isotime(item['recorded_at'])
    flat = dict((k, _typed(v)) for k, v in meta.items())
    raw['resource_metadata'] = model.restore_nesting(flat)
    return raw


def _is_sample(item):
    return isinstance(item, dict) and ('counter_name' in item or
                                       'meter' in item)


def union_samples():
    """Every distinct sample found in the recorded responses."""
    found = {}
    for name in names():
        body = load(name)
        items = body if isinstance(body, list) else [body]
        for item in items:
            if _is_sample(item):
                found.setdefault(item.get('message_id') or item.get('id'),
                                 _raw(item))
    samples = list(found.values())
    samples.sort(key=lambda s: s['recorded_at'])
    for sample in samples:
        sample['timestamp'] = timeutils.normalize_time(sample['timestamp'])
        sample['recorded_at'] = timeutils.normalize_time(
            sample['recorded_at'])
    return samples


def request_body(name):
    return load(name + '.request')


# name -> the recorded GET request (README.md of the examples).
GETS = {
    'capabilities': '/v2/capabilities',
    'meters': '/v2/meters',
    'meters_limit1000': '/v2/meters?limit=1000',
    'meters_q_project': '/v2/meters?q.field=project_id&q.op=eq'
                        '&q.value=p-beta-0002',
    'resources_limit3': '/v2/resources?limit=3',
    'cpu_util_q_project': '/v2/meters/cpu_util?q.field=project_id&q.op=eq'
                          '&q.value=p-alpha-0001',
    'cpu_util_q_project_limit5': '/v2/meters/cpu_util?q.field=project_id'
                                 '&q.op=eq&q.value=p-alpha-0001&limit=5',
    'cpu_util_limit5': '/v2/meters/cpu_util?limit=5',
    'cpu_util_nolimit': '/v2/meters/cpu_util',
    'cpu_util_q_meta_flavor': '/v2/meters/cpu_util?q.field=metadata.flavor'
                              '&q.op=eq&q.value=m1.small&limit=3',
    'cpu_util_q_ts_gt': '/v2/meters/cpu_util?q.field=timestamp&q.op=gt'
                        '&q.value=2024-01-02T00:00:00&limit=5',
    'cpu_util_q_ts_gt_range': '/v2/meters/cpu_util?q.field=timestamp'
                              '&q.op=gt&q.value=2024-01-02T00:00:00'
                              '&q.field=timestamp&q.op=lt'
                              '&q.value=2024-01-02T01:00:00&limit=1000',
    'cpu_util_q_ts_gt_exact': '/v2/meters/cpu_util?q.field=timestamp'
                              '&q.op=gt&q.value=2024-01-01T00:00:00'
                              '&q.field=timestamp&q.op=le'
                              '&q.value=2024-01-01T00:10:00&limit=1000',
    'cpu_util_q_ts_ge_exact': '/v2/meters/cpu_util?q.field=timestamp'
                              '&q.op=ge&q.value=2024-01-01T00:00:00'
                              '&q.field=timestamp&q.op=le'
                              '&q.value=2024-01-01T00:10:00&limit=1000',
    'cpu_util_q_ts_gt_tz': '/v2/meters/cpu_util?q.field=timestamp&q.op=gt'
                           '&q.value=2024-01-02T00:00:00%2B02:00&limit=2',
    'cpu_util_q_ts_eq': '/v2/meters/cpu_util?q.field=timestamp&q.op=eq'
                        '&q.value=2024-01-01T00:00:00',
    'cpu_util_q_project_ne': '/v2/meters/cpu_util?q.field=project_id'
                             '&q.op=ne&q.value=p-alpha-0001&limit=2',
    'samples': '/v2/samples',
    'samples_limit5': '/v2/samples?limit=5',
    'samples_q_meter_limit3': '/v2/samples?q.field=meter&q.op=eq'
                              '&q.value=image.size&limit=3',
    'statistics_cpu_util': '/v2/meters/cpu_util/statistics?q.field='
                           'project_id&q.op=eq&q.value=p-alpha-0001',
    'sample_by_id': '/v2/samples/41bfcc0c-e629-11f1-9933-02fc00000001',
}
POSTS = ('query_samples_ts_asc_limit5', 'query_samples_filter_ts_asc',
         'query_samples_nolimit_noorder', 'query_samples_noorder_limit5')
# Answers that only depend on samples present in the union. The order of
# /v2/meters follows the meter table's ids (first insertion into the full
# store), which the union cannot know: those are compared by their rule.
METERS = ('meters', 'meters_limit1000', 'meters_q_project')
EXACT = sorted(set(GETS) - {'resources_limit3', 'statistics_cpu_util'}
               - set(METERS) | set(POSTS))
